package httpkit

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAccessLogOnResponse(t *testing.T) {
	var got []int
	mw := Edge(&EdgeOptions{OnResponse: func(_ *http.Request, status int) { got = append(got, status) }})
	for _, code := range []int{http.StatusRequestEntityTooLarge, 0} {
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if code != 0 {
				w.WriteHeader(code)
			}
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	if len(got) != 2 || got[0] != 413 || got[1] != 200 {
		t.Errorf("OnResponse statuses: got %v, want [413 200]", got)
	}
}
