// Package ratelimit bounds how many requests each user makes per minute.
// A Limiter decides per key (a principal's Key); Memory is the in-process
// implementation (a token bucket per key); Middleware applies one to HTTP
// requests and answers 429 Too Many Requests with Retry-After.
//
// A shared implementation (Redis, for several replicas) will implement the
// same Limiter interface.
package ratelimit

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"
)

// Decision is a Limiter's answer for one request.
type Decision struct {
	// Allowed is true when the request may proceed.
	Allowed bool
	// RetryAfter is, for a refused request, how long until one more
	// would be allowed.
	RetryAfter time.Duration
}

// Limiter decides whether the holder of key may make one more request now.
// An error means the limiter could not decide (its backend failed).
// Implementations must be safe for concurrent use.
type Limiter interface {
	Allow(ctx context.Context, key string) (Decision, error)
}

// Defaults for MemoryOptions.
const (
	DefaultMaxKeys = 100_000
)

// MemoryOptions configures a Memory limiter.
type MemoryOptions struct {
	// PerMinute is the sustained rate each key may make requests at.
	// Required: it must be positive.
	PerMinute int
	// Burst is how many requests a key that has been idle may make at once.
	// Zero means PerMinute (so a key may use a whole minute's allowance in
	// one burst, but no more than PerMinute in any minute after that).
	Burst int
	// MaxKeys bounds the keys tracked at once. When it is reached and no
	// idle key can be forgotten, new keys are refused (RetryAfter one
	// minute): the gateway refuses new work rather than forget a key that
	// is being limited. Zero means DefaultMaxKeys.
	MaxKeys int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Memory is a Limiter in this process's memory: one token bucket per key,
// refilled continuously at PerMinute per minute up to Burst. Keys whose
// bucket is full again (idle for a whole refill) are forgotten.
type Memory struct {
	rate    float64 // tokens per nanosecond
	burst   float64
	maxKeys int
	now     func() time.Time

	mu        sync.Mutex // guards the fields below
	buckets   map[string]*bucket
	nextSweep int // sweep when len(buckets) reaches this
}

type bucket struct {
	tokens float64
	at     int64 // UnixNano of the last update
}

// NewMemory returns a Memory limiter.
func NewMemory(opts MemoryOptions) (*Memory, error) {
	if opts.PerMinute <= 0 {
		return nil, errors.New("building rate limiter: PerMinute must be positive")
	}
	if opts.Burst < 0 || opts.MaxKeys < 0 {
		return nil, errors.New("building rate limiter: negative Burst or MaxKeys")
	}
	if opts.Burst == 0 {
		opts.Burst = opts.PerMinute
	}
	if opts.MaxKeys == 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Memory{
		rate:      float64(opts.PerMinute) / float64(time.Minute),
		burst:     float64(opts.Burst),
		maxKeys:   opts.MaxKeys,
		now:       opts.Now,
		buckets:   make(map[string]*bucket),
		nextSweep: min(1024, opts.MaxKeys),
	}, nil
}

// Allow implements Limiter. It never fails.
func (m *Memory) Allow(_ context.Context, key string) (Decision, error) {
	now := m.now().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buckets[key]
	if b == nil {
		if len(m.buckets) >= m.nextSweep {
			m.sweepLocked(now)
		}
		if len(m.buckets) >= m.maxKeys {
			return Decision{RetryAfter: time.Minute}, nil
		}
		b = &bucket{tokens: m.burst, at: now}
		m.buckets[key] = b
	}
	m.refillLocked(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return Decision{Allowed: true}, nil
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / m.rate))
	return Decision{RetryAfter: wait}, nil
}

func (m *Memory) refillLocked(b *bucket, now int64) {
	if elapsed := now - b.at; elapsed > 0 {
		b.tokens = min(m.burst, b.tokens+float64(elapsed)*m.rate)
		b.at = now
	}
}

// sweepLocked forgets keys whose bucket has refilled completely: they are
// indistinguishable from keys never seen. The next sweep happens when the
// map has doubled (amortized O(1) per Allow). m.mu is held.
func (m *Memory) sweepLocked(now int64) {
	for k, b := range m.buckets {
		m.refillLocked(b, now)
		if b.tokens >= m.burst {
			delete(m.buckets, k)
		}
	}
	m.nextSweep = min(max(2*len(m.buckets), 1024), m.maxKeys)
}

// Len returns the number of keys tracked, for tests and stats.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}
