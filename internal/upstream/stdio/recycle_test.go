package stdio

import "testing"

// TestLineRecycling: written lines come back empty for the next request;
// large ones are left to the garbage collector, and recycling never blocks.
func TestLineRecycling(t *testing.T) {
	p := &process{spare: make(chan []byte, spareLines)}
	if b := p.lineBuffer(10); len(b) != 0 || cap(b) < 256 {
		t.Fatalf("new buffer: len %d cap %d, want 0 and ≥ 256", len(b), cap(b))
	}
	p.recycle(make([]byte, 100, 300))
	if b := p.lineBuffer(10); len(b) != 0 || cap(b) != 300 {
		t.Errorf("recycled buffer: len %d cap %d, want 0 and 300", len(b), cap(b))
	}
	p.recycle(make([]byte, 10, spareLineCap+1))
	if got := len(p.spare); got != 0 {
		t.Errorf("a buffer over %d bytes was kept (%d spare)", spareLineCap, got)
	}
	for range spareLines + 5 { // more than are kept: must not block
		p.recycle(make([]byte, 1, 64))
	}
	if got := len(p.spare); got != spareLines {
		t.Errorf("%d spare buffers, want %d", got, spareLines)
	}
}
