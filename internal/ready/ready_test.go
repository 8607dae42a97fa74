package ready

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitEndsAtTheFirst2xxAndSendsTheToken(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "no token", http.StatusBadRequest)
			return
		}
		if n.Add(1) < 3 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	err := Probe{URL: srv.URL, Token: "s3cret", Timeout: time.Minute, Interval: time.Millisecond}.Wait(context.Background())
	if err != nil || n.Load() != 3 {
		t.Fatalf("Wait = %v after %d requests; want nil after 3", err, n.Load())
	}
}

func TestWaitStopsAtOnceOnARefusedTokenWithoutNamingIt(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, `{"title":"Forbidden"}`, http.StatusForbidden)
	}))
	defer srv.Close()
	err := Probe{URL: srv.URL, Token: "s3cret", Timeout: time.Minute, Stop: Refused}.Wait(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusForbidden || e.Reason != "the token is refused" || n.Load() != 1 {
		t.Fatalf("Wait = %#v after %d requests; want an *Error with status 403 and Refused's reason after 1", err, n.Load())
	}
	if !strings.Contains(e.Last, `403 Forbidden {"title":"Forbidden"}`) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q: want the last answer with its body, and never the token", err)
	}
}

func TestWaitTimesOutWithTheLastAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "postgres: down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	err := Probe{URL: srv.URL, Timeout: 300 * time.Millisecond, Interval: 10 * time.Millisecond}.Wait(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Reason != "" || e.Last != "503 Service Unavailable postgres: down" {
		t.Fatalf("Wait = %v; want a timeout *Error whose last answer is the 503 and its body", err)
	}
	if !strings.Contains(err.Error(), srv.URL+" did not answer 2xx within 300ms") {
		t.Errorf("error %q: want the URL and the timeout", err)
	}
}

// Stop is asked only about answers: a server that is not listening yet is waited for.
func TestWaitAsksStopOnlyAboutAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close()
	asked := false
	err := Probe{URL: url, Timeout: 200 * time.Millisecond, Interval: 10 * time.Millisecond,
		Stop: func(context.Context, int) string { asked = true; return "stop" }}.Wait(context.Background())
	var e *Error
	if !errors.As(err, &e) || asked || e.Status != 0 || !strings.Contains(e.Last, "connection refused") {
		t.Fatalf("Wait = %v (Stop asked: %v); want a timeout naming the refused connection, Stop never asked", err, asked)
	}
}
