package streamable

import (
	"net/http"

	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/sse"
)

// flush flushes what the handler itself buffered on an SSE stream (the
// priming event), counting the bytes in the session's stats. Events of the
// event log go out through mcpsession.Hub.Pump, which counts its own.
func (h *Handler) flush(sw *sse.Writer, ls *mcpsession.Live) error {
	before := sw.Written()
	err := sw.Flush()
	ls.CountSent(0, sw.Written()-before)
	return err
}

// writeResponses writes responses as one JSON body: the response itself, or
// an array for a batch ([B0326 §Batching]). It returns the body's size.
func writeResponses(w http.ResponseWriter, resps [][]byte, isBatch bool) int {
	if !isBatch {
		writeJSON(w, resps[0])
		return len(resps[0])
	}
	size := 1
	for _, r := range resps {
		size += len(r) + 1
	}
	body := make([]byte, 0, size)
	body = append(body, '[')
	for i, r := range resps {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, r...)
	}
	body = append(body, ']')
	writeJSON(w, body)
	return len(body)
}
