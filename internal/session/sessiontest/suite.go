// Package sessiontest is the contract suite every session.Store backend must
// pass (memory now, Redis later): one suite, run against each backend.
package sessiontest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
)

// Run runs the contract suite against the backend that newStore builds
// (an empty store, cleaned up by t).
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, st session.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Limit", testLimit},
		{"TouchAndExpire", testTouchAndExpire},
		{"DeleteOnce", testDeleteOnce},
		{"PrincipalLimit", testPrincipalLimit},
		{"Initialize", testInitialize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStore(t)) })
	}
}

var ctx = context.Background()

// t0 is a fixed instant; backends must keep at least microsecond precision.
var t0 = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

func sample(id string, lastActive time.Time) *session.Session {
	return &session.Session{
		ID:              id,
		Principal:       principal.Principal{Issuer: "https://idp.example", Subject: "alice", Name: "Alice", Scopes: []string{"mcp"}},
		ProtocolVersion: "2025-11-25",
		Capabilities:    json.RawMessage(`{"sampling":{}}`),
		ClientInfo:      json.RawMessage(`{"name":"c","version":"1"}`),
		Transport:       "streamable",
		CreatedAt:       t0,
		LastActive:      lastActive,
	}
}

// timeEqual compares instants, not locations or monotonic readings.
var timeEqual = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func testRoundTrip(t *testing.T, st session.Store) {
	want := sample("id-1", t0)
	if err := st.Create(ctx, want, 0); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(ctx, "id-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, timeEqual); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	if err := st.Create(ctx, sample("id-1", t0), 0); !errors.Is(err, session.ErrExists) {
		t.Errorf("Create with a taken ID: got %v, want ErrExists", err)
	}
	if _, err := st.Get(ctx, "nosuch"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get unknown: got %v, want ErrNotFound", err)
	}
	if err := st.Touch(ctx, "nosuch", t0); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch unknown: got %v, want ErrNotFound", err)
	}
}

func testLimit(t *testing.T, st session.Store) {
	for i := range 3 {
		if err := st.Create(ctx, sample(fmt.Sprint(i), t0), 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Create(ctx, sample("3", t0), 3); !errors.Is(err, session.ErrLimit) {
		t.Fatalf("Create over the limit: got %v, want ErrLimit", err)
	}
	if n, err := st.Count(ctx); err != nil || n != 3 {
		t.Fatalf("Count: got %d, %v; want 3", n, err)
	}
	// The limit is atomic: of many concurrent creators, exactly one wins the
	// last slot.
	if err := st.Delete(ctx, "0"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 16 {
		wg.Go(func() {
			err := st.Create(ctx, sample(fmt.Sprintf("c%d", i), t0), 3)
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, session.ErrLimit) {
				t.Errorf("Create: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("concurrent creators for one free slot: %d won, want 1", wins)
	}
}

func testTouchAndExpire(t *testing.T, st session.Store) {
	for i, last := range []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)} {
		if err := st.Create(ctx, sample(fmt.Sprint(i), last), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Touch(ctx, "0", t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(3 * time.Minute); !got.LastActive.Equal(want) {
		t.Errorf("LastActive after Touch: got %v, want %v", got.LastActive, want)
	}
	expired, err := st.Expire(ctx, t0.Add(150*time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range expired {
		ids = append(ids, s.ID)
	}
	sort.Strings(ids)
	if diff := cmp.Diff([]string{"1", "2"}, ids); diff != "" {
		t.Errorf("Expire (-want +got):\n%s", diff)
	}
	if n, _ := st.Count(ctx); n != 1 {
		t.Errorf("Count after Expire: got %d, want 1", n)
	}
	again, err := st.Expire(ctx, t0.Add(150*time.Second), 0)
	if err != nil || len(again) != 0 {
		t.Errorf("second Expire: got %d sessions, %v; want none", len(again), err)
	}
}

func testDeleteOnce(t *testing.T, st session.Store) {
	if err := st.Create(ctx, sample("x", t0), 0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Go(func() {
			if st.Delete(ctx, "x") == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("concurrent Deletes: %d succeeded, want 1", ok)
	}
	if _, err := st.Get(ctx, "x"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get after Delete: got %v, want ErrNotFound", err)
	}
}
