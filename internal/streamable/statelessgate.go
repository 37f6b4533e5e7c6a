package streamable

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// The per-principal bound on stateless requests (docs/protocol-eras.md §3:
// without sessions, MaxConcurrentCalls has nothing to count against): a
// principal's 2026-07-28 requests in flight, listen streams included, and
// its open listens; and a bound on all open listens, which bounds the
// relay's listen registry. Over a per-principal bound: 429; over the
// global one: 503; both with Retry-After (ARCHITECTURE principle 7).

// Defaults for Options' stateless bounds.
const (
	DefaultStatelessInFlightPerUser = 256
	DefaultListensPerUser           = 32
	DefaultMaxListens               = 1000
)

// Reasons a stateless request is refused, as Options.OnStatelessRefused
// reports them.
const (
	RefusedInFlight       = "in_flight"
	RefusedListensPerUser = "listens_per_user"
	RefusedMaxListens     = "max_listens"
)

// statelessGate counts stateless requests and listens per principal.
type statelessGate struct {
	inFlightPerUser, listensPerUser, maxListens int

	mu       sync.Mutex     // guards the fields below
	inFlight map[string]int // principal key → requests in flight (listens included)
	listens  map[string]int // principal key → open listens
	total    int            // open listens of every principal
}

func newStatelessGate(o Options) *statelessGate {
	g := &statelessGate{
		inFlightPerUser: o.StatelessInFlightPerUser,
		listensPerUser:  o.ListensPerUser,
		maxListens:      o.MaxListens,
		inFlight:        map[string]int{},
		listens:         map[string]int{},
	}
	if g.inFlightPerUser <= 0 {
		g.inFlightPerUser = DefaultStatelessInFlightPerUser
	}
	if g.maxListens <= 0 {
		g.maxListens = DefaultMaxListens
	}
	if g.listensPerUser <= 0 {
		g.listensPerUser = min(DefaultListensPerUser, g.maxListens)
	}
	return g
}

// enter admits one request of user (a listen when listen is set), or
// returns why not ("" when admitted). An admitted request must leave.
func (g *statelessGate) enter(user string, listen bool) (refused string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.inFlight[user] >= g.inFlightPerUser:
		return RefusedInFlight
	case listen && g.listens[user] >= g.listensPerUser:
		return RefusedListensPerUser
	case listen && g.total >= g.maxListens:
		return RefusedMaxListens
	}
	g.inFlight[user]++
	if listen {
		g.listens[user]++
		g.total++
	}
	return ""
}

// leave ends a request enter admitted.
func (g *statelessGate) leave(user string, listen bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inFlight[user]--; g.inFlight[user] <= 0 {
		delete(g.inFlight, user) // the maps hold only principals with work
	}
	if listen {
		if g.listens[user]--; g.listens[user] <= 0 {
			delete(g.listens, user)
		}
		g.total--
	}
}

// writeRefused answers a refused stateless request: 429 for a principal's
// own bound, 503 for the gateway's, with Retry-After [RFC 9110 §10.2.3]
// and a JSON-RPC error echoing the request's id.
func writeRefused(w http.ResponseWriter, id json.RawMessage, reason string) {
	status, msg := http.StatusTooManyRequests, "Too Many Requests: too many requests in flight for this principal"
	switch reason {
	case RefusedListensPerUser:
		msg = "Too Many Requests: too many open subscriptions/listen streams for this principal"
	case RefusedMaxListens:
		status, msg = http.StatusServiceUnavailable, "Service Unavailable: the gateway holds its maximum number of listen streams"
	}
	retry := 1 // in-flight requests end soon
	if reason != RefusedInFlight {
		retry = 30 // listens are long-lived
	}
	e := jsonrpc.NewError(jsonrpc.CodeInvalidRequest, msg)
	e.Data = jsonrpc.MustRaw(map[string]any{"error": reason, "retryAfterSeconds": retry})
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	writeJSONStatus(w, status, jsonrpc.Encode(jsonrpc.NewErrorResponse(id, e)))
}
