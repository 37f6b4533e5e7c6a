package relay

import (
	"encoding/json"
	"strconv"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// URL-mode elicitation from a session-era upstream L for a 2026-07-28
// client (docs/protocol-eras.md §4.2 "URL elicitation", §10 increment 7).
// A 2025-11-25 server that needs the user to visit a URL before it can
// serve a request answers it with the error -32042 URLElicitationRequired,
// data.elicitations listing ElicitRequestURLParams
// (docs/specification/2025-11-25/client/elicitation.mdx §URL Elicitation
// Required Error); the client completes them out of band and retries the
// request. 2026-07-28 expresses the same as an InputRequiredResult
// [MRTR §InputRequiredResult] whose inputRequests are elicitation/create
// requests in url mode, without the elicitationId 2026-07-28 dropped
// ([CL26] Minor 11). No requestState: L's call is over, so the client's
// retry is a fresh call (§4.3 A: a retry without requestState on an L
// route), and its inputResponses for these keys answer nothing upstream.

// codeURLElicitationRequired is the 2025-11-25 URLElicitationRequiredError.
const codeURLElicitationRequired = -32042

// urlElicitationResult turns L's -32042 for a parked-path call into an
// InputRequiredResult for c; any other outcome passes unchanged. A client
// that did not declare elicitation.url gets -32021 naming it [B26 §_meta;
// MRTR §Server Requirements 7].
func (c *Client) urlElicitationResult(res json.RawMessage, rpcErr *jsonrpc.Error) (json.RawMessage, *jsonrpc.Error) {
	if rpcErr == nil || rpcErr.Code != codeURLElicitationRequired {
		return res, rpcErr
	}
	var data struct {
		Elicitations []map[string]json.RawMessage `json:"elicitations"`
	}
	if json.Unmarshal(rpcErr.Data, &data) != nil || len(data.Elicitations) == 0 {
		return res, rpcErr // nothing to ask: the error as it came
	}
	if url, ok := jsonrpc.Lookup(c.Capabilities.Raw, "elicitation"); !ok || !declared(url, "url") {
		return nil, missingCapability("elicitation", map[string]any{"url": struct{}{}})
	}
	reqs := make(map[string]inputRequest, len(data.Elicitations))
	for i, e := range data.Elicitations {
		key := "url_elicitation"
		var id string
		if json.Unmarshal(e["elicitationId"], &id) == nil && validInputKey(id) {
			key = id // stable across retries while L asks the same
		} else if i > 0 {
			key += "_" + strconv.Itoa(i+1)
		}
		if _, dup := reqs[key]; dup {
			key += "_" + strconv.Itoa(i+1)
		}
		delete(e, "elicitationId")
		e["mode"] = jsonrpc.MustRaw("url")
		reqs[key] = inputRequest{Method: mcp.MethodElicitationCreate, Params: jsonrpc.MustRaw(e)}
	}
	return jsonrpc.MustRaw(struct {
		ResultType    string                  `json:"resultType"`
		InputRequests map[string]inputRequest `json:"inputRequests"`
	}{"input_required", reqs}), nil
}
