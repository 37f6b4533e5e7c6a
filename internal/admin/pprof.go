package admin

import (
	"net/http"
	"net/http/pprof"
)

// PProfPrefix is the path under which Options.PProf mounts Go's profiles.
const PProfPrefix = "/debug/pprof/"

// mountPProf serves net/http/pprof's handlers under PProfPrefix on mux:
// the index (and through it every named profile: heap, goroutine, allocs,
// block, mutex, threadcreate), cmdline, profile (CPU), symbol and trace.
// They sit behind ServeHTTP's token check like every other endpoint; the
// package's import also registers them on http.DefaultServeMux, which no
// listener of the gateway serves.
func mountPProf(mux *http.ServeMux) {
	mux.HandleFunc(PProfPrefix, pprof.Index)
	mux.HandleFunc(PProfPrefix+"cmdline", pprof.Cmdline)
	mux.HandleFunc(PProfPrefix+"profile", pprof.Profile)
	mux.HandleFunc(PProfPrefix+"symbol", pprof.Symbol)
	mux.HandleFunc(PProfPrefix+"trace", pprof.Trace)
}
