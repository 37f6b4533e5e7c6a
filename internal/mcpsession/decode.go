package mcpsession

import (
	"net/http"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// ErrBatchTooLarge answers a JSON-RPC batch of more messages than the
// transport accepts. The message is public.
var ErrBatchTooLarge = httpkit.NewError(http.StatusBadRequest, "invalid_request",
	"Invalid Request: too many messages in the batch")

// DecodeMessages decodes a POSTed body: one JSON-RPC message, or a batch
// of at most maxBatch where allowBatch (2025-03-26 and the 2024-11-05
// era). A body that does not decode is a 400 that keeps its JSON-RPC code
// (DecodeError).
func DecodeMessages(body []byte, allowBatch bool, maxBatch int) (msgs []*jsonrpc.Message, isBatch bool, herr *httpkit.Error) {
	msgs, isBatch, rpcErr := jsonrpc.DecodeBatch(body, allowBatch)
	if rpcErr != nil {
		return nil, false, DecodeError(rpcErr)
	}
	if len(msgs) > maxBatch {
		return nil, false, ErrBatchTooLarge
	}
	return msgs, isBatch, nil
}

// DecodeError turns a JSON-RPC decoding error into the 400 both transports
// answer with, keeping its code: parse_error or invalid_request.
func DecodeError(e *jsonrpc.Error) *httpkit.Error {
	code := "invalid_request"
	if e.Code == jsonrpc.CodeParseError {
		code = "parse_error"
	}
	return httpkit.NewError(http.StatusBadRequest, code, e.Message)
}
