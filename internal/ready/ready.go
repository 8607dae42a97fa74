// Package ready is the one readiness loop of tfharness and `dsenv up`: ask an HTTP
// endpoint until it answers 2xx, end early when the caller sees a reason to, and say what
// the last answer was. The callers word the errors (which service, which logs to read).
package ready

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Probe is one wait: GET URL until it answers 2xx.
type Probe struct {
	URL   string
	Token string // sent as "Authorization: Bearer"; never part of an error
	// Timeout bounds the whole wait; Interval is the pause between requests (default
	// 100 ms) and RequestTimeout bounds each request (default 5 s).
	Timeout        time.Duration
	Interval       time.Duration
	RequestTimeout time.Duration
	// Stop, when set, is asked after each answer that is not 2xx (not after a request
	// that got no answer): a non-empty reason ends the wait at once.
	Stop func(ctx context.Context, status int) string
}

// Error is a wait that ended without a 2xx answer.
type Error struct {
	URL     string
	Status  int           // HTTP status of the last answer; 0 when there was none
	Last    string        // the last answer ("401 Unauthorized <body>"), or the last request's error
	Reason  string        // Stop's reason; "" when the timeout (or ctx) ended the wait
	Timeout time.Duration // Probe.Timeout
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s answered %s: %s", e.URL, e.Last, e.Reason)
	}
	return fmt.Sprintf("%s did not answer 2xx within %s (last: %s)", e.URL, e.Timeout, e.Last)
}

// Wait asks until a 2xx answer (nil), Stop gives a reason, or the timeout or ctx ends
// the wait (both *Error).
func (p Probe) Wait(ctx context.Context) error {
	interval, reqTimeout := p.Interval, p.RequestTimeout
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	if reqTimeout <= 0 {
		reqTimeout = 5 * time.Second
	}
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	client := &http.Client{Timeout: reqTimeout}
	e := &Error{URL: p.URL, Timeout: p.Timeout}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
		if err != nil {
			return err
		}
		if p.Token != "" {
			req.Header.Set("Authorization", "Bearer "+p.Token)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			e.Status, e.Last = resp.StatusCode, strings.TrimSpace(resp.Status+" "+strings.TrimSpace(string(body)))
			if p.Stop != nil {
				if e.Reason = p.Stop(ctx, resp.StatusCode); e.Reason != "" {
					return e
				}
			}
		} else if ctx.Err() == nil || e.Last == "" {
			// A request cut short by the deadline says less than what came before it.
			e.Status, e.Last = 0, err.Error()
		}
		select {
		case <-ctx.Done():
			return e
		case <-time.After(interval):
		}
	}
}

// Refused is a Stop that ends the wait on 401 and 403: the token will not be accepted
// by asking again.
func Refused(_ context.Context, status int) string {
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return "the token is refused"
	}
	return ""
}
