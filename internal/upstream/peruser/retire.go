package peruser

import "context"

// Retire takes the user's connection c out of the pool, if it is still
// the one the pool holds for userKey: the next Acquire for that user
// builds a new connection (through the Factory, so with a fresh
// credential). Calls in flight on c finish; the last release stops c (in
// the releasing goroutine, so its process slot is free before that
// caller goes on), and Close stops it in any case. It reports whether c
// was retired (false: already replaced, reaped or closed).
func (p *Pool) Retire(userKey string, c Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entries[userKey]
	if p.closed || e == nil || e.conn != c {
		return false
	}
	select {
	case <-e.ready:
	default:
		return false // still starting: let its first start finish
	}
	delete(p.entries, userKey)
	if p.retired == nil {
		p.retired = map[*entry]struct{}{}
	}
	p.retired[e] = struct{}{}
	p.log.Info("per-user upstream retired; a new one starts on the next call", "upstream", p.opts.Name)
	return true
}

// stopRetired stops a retired connection nobody holds any more.
func (p *Pool) stopRetired(e *entry) {
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.StartTimeout)
	defer cancel()
	if err := e.conn.Close(ctx); err != nil {
		p.log.Warn("stopping retired per-user upstream", "upstream", p.opts.Name, "err", err)
	}
}
