package mcpsession

import (
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
)

// Stats is the connection-management view of the sessions this replica
// serves (seed 003_1dc4ae673895e7d3.txt): how many, on which transport, for
// whom, the oldest and newest, and what was sent to clients.
type Stats struct {
	// Sessions is the number of live sessions.
	Sessions int `json:"sessions"`
	// ByTransport counts live sessions by transport.
	ByTransport map[string]int `json:"by_transport"`
	// ByUser counts live sessions by user (see UserOf).
	ByUser map[string]int `json:"by_user"`
	// Oldest and Newest are the live sessions created first and last; nil
	// when there are none.
	Oldest *SessionInfo `json:"oldest,omitempty"`
	Newest *SessionInfo `json:"newest,omitempty"`
	// Sent is what every session, live or ended, has sent since the
	// gateway started, in total and by transport.
	Sent            Sent            `json:"sent"`
	SentByTransport map[string]Sent `json:"sent_by_transport"`
}

// Sent counts what was sent to clients.
type Sent struct {
	// Events is the number of server→client messages delivered (SSE
	// message events and JSON response bodies' messages).
	Events int64 `json:"events"`
	// Bytes is the number of response body bytes written for them,
	// framing and heartbeats included.
	Bytes int64 `json:"bytes"`
}

func (s Sent) add(o Sent) Sent { return Sent{Events: s.Events + o.Events, Bytes: s.Bytes + o.Bytes} }

// SessionInfo describes one live session. It never carries the full
// session ID, which grants use of the session.
type SessionInfo struct {
	// Session is a prefix of the session ID, for correlating with logs.
	Session   string    `json:"session"`
	Transport string    `json:"transport"`
	User      string    `json:"user"`
	Role      string    `json:"role"`
	Version   string    `json:"protocol_version"`
	CreatedAt time.Time `json:"created_at"`
	Sent      Sent      `json:"sent"`
}

// UserOf is how a principal appears in Stats and is matched by a Filter:
// its display name, else its subject.
func UserOf(p principal.Principal) string {
	if p.Name != "" {
		return p.Name
	}
	return p.Subject
}

// RoleOf is a principal's role as Stats shows it and a Filter matches it:
// "" counts as principal.RoleUser.
func RoleOf(p principal.Principal) string {
	if p.Role == "" {
		return "user"
	}
	return p.Role
}

func (ls *Live) sent() Sent { return Sent{Events: ls.events.Load(), Bytes: ls.bytes.Load()} }

func (ls *Live) info() *SessionInfo {
	return &SessionInfo{
		Session:   session.Short(ls.id),
		Transport: ls.transport,
		User:      UserOf(ls.principal),
		Role:      RoleOf(ls.principal),
		Version:   ls.Version(),
		CreatedAt: ls.created,
		Sent:      ls.sent(),
	}
}

// retireLocked keeps what an ending session sent in the totals. h.mu is
// held.
func (h *Hub) retireLocked(ls *Live) {
	h.retired[ls.transport] = h.retired[ls.transport].add(ls.sent())
}

// snapshot returns the live sessions.
func (h *Hub) snapshot() []*Live {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Live, 0, len(h.live))
	for _, ls := range h.live {
		out = append(out, ls)
	}
	return out
}

// Stats returns the current stats of this replica.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	st := Stats{
		ByTransport:     map[string]int{},
		ByUser:          map[string]int{},
		SentByTransport: make(map[string]Sent, len(h.retired)),
	}
	for t, s := range h.retired {
		st.SentByTransport[t] = s
	}
	var oldest, newest *Live
	for _, ls := range h.live {
		st.Sessions++
		st.ByTransport[ls.transport]++
		st.ByUser[UserOf(ls.principal)]++
		st.SentByTransport[ls.transport] = st.SentByTransport[ls.transport].add(ls.sent())
		if oldest == nil || ls.created.Before(oldest.created) {
			oldest = ls
		}
		if newest == nil || ls.created.After(newest.created) {
			newest = ls
		}
	}
	h.mu.RUnlock()
	for _, s := range st.SentByTransport {
		st.Sent = st.Sent.add(s)
	}
	if oldest != nil {
		st.Oldest, st.Newest = oldest.info(), newest.info()
	}
	return st
}

// Filter selects sessions for Broadcast. Each non-empty list must match;
// empty lists match everything.
type Filter struct {
	// Users are matched against UserOf the session's principal.
	Users []string `json:"users,omitempty"`
	// Roles are matched against RoleOf the session's principal.
	Roles []string `json:"roles,omitempty"`
	// Transports are matched against the session's transport.
	Transports []string `json:"transports,omitempty"`
}

// Match reports whether ls passes the filter.
func (f Filter) Match(ls *Live) bool {
	return (len(f.Users) == 0 || slices.Contains(f.Users, UserOf(ls.principal))) &&
		(len(f.Roles) == 0 || slices.Contains(f.Roles, RoleOf(ls.principal))) &&
		(len(f.Transports) == 0 || slices.Contains(f.Transports, ls.transport))
}
