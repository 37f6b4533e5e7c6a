package relay

import (
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// upstreamListenAcked handles the acknowledgement of one of the gateway's
// own listens on a modern upstream (modern_listen.go). The upstream
// announces list changes only from its registration of the listen on,
// which the acknowledgement marks [SUB §Acknowledgment: "the first message
// on the stream"]; the lists were last read at UpstreamReady, while the
// listen was being opened, so a change in between was announced to nobody
// and would stay unseen until the next one. The lists the acknowledgement
// covers are read again, and clients hear of any difference.
func (r *Relay) upstreamListenAcked(o origin, msg *jsonrpc.Message) {
	var p struct {
		Notifications listenFilter `json:"notifications"`
	}
	if json.Unmarshal(msg.Params, &p) != nil {
		return
	}
	var kinds []listKind
	if p.Notifications.ToolsListChanged {
		kinds = append(kinds, listTools)
	}
	if p.Notifications.PromptsListChanged {
		kinds = append(kinds, listPrompts)
	}
	if p.Notifications.ResourcesListChanged {
		kinds = append(kinds, listResources, listTemplates)
	}
	if len(kinds) > 0 {
		r.goRefreshFrom(o, kinds...)
	}
}
