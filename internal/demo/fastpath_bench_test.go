package demo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"
)

// BenchmarkToolsCallEcho: the demo server answering tools/call of echo, as
// the gateway's benchmark drives it, a line in and a line out per op.
func BenchmarkToolsCallEcho(b *testing.B) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Serve(context.Background(), inR, outW, &Options{Logger: slog.New(slog.DiscardHandler)})
		outW.Close()
	}()
	br := bufio.NewReader(outR)
	fmt.Fprintln(inW, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`)
	if _, err := br.ReadSlice('\n'); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintln(inW, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	line := func(i int) []byte {
		return []byte(`{"jsonrpc":"2.0","id":` + strconv.Itoa(i) + `,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello, gateway"}}}` + "\n")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := inW.Write(line(i + 1)); err != nil {
			b.Fatal(err)
		}
		if _, err := br.ReadSlice('\n'); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	inW.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
