package tfharness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// EventQuery selects audit events on the DS's query route (GET /api/v1/audit/events);
// empty fields do not filter.
type EventQuery struct {
	CorrelationID string
	EventType     string
	EventCategory string
	EventOutcome  string
	Since, Until  time.Time
}

func (q EventQuery) values() url.Values {
	v := url.Values{"limit": {"1"}}
	for k, s := range map[string]string{
		"correlation_id": q.CorrelationID, "event_type": q.EventType,
		"event_category": q.EventCategory, "event_outcome": q.EventOutcome,
	} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	return v
}

func (q EventQuery) String() string {
	v := q.values()
	v.Del("limit")
	if len(v) == 0 {
		return "all events"
	}
	return v.Encode()
}

// EventsError is what CountEvents and WaitForEvents return when the DS did not answer
// as expected, or the wait ended first: the query, what was seen last and why it ended.
type EventsError struct {
	Env    string
	Query  EventQuery
	Want   int    // WaitForEvents: the count waited for (0 for CountEvents)
	Seen   int    // the last count the DS reported (-1: none)
	Status int    // HTTP status of the last answer (0: no answer)
	Body   string // excerpt of the last answer's body when it was not a count
	Polls  int
	Waited time.Duration
	Err    error // the last request error, or the context's error
}

func (e *EventsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "env %s: ", e.Env)
	if e.Want > 0 {
		fmt.Fprintf(&b, "waited %s (%d polls) for %d events (%s): ", e.Waited.Round(time.Millisecond), e.Polls, e.Want, e.Query)
		if e.Seen >= 0 {
			fmt.Fprintf(&b, "saw %d", e.Seen)
		} else {
			b.WriteString("saw no count")
		}
	} else {
		fmt.Fprintf(&b, "count events (%s)", e.Query)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "; last answer %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, " (%v)", e.Err)
	}
	return b.String()
}

func (e *EventsError) Unwrap() error { return e.Err }

var eventsHTTP = &http.Client{Timeout: 10 * time.Second}

// CountEvents returns how many events match q (the route's pagination.total), without
// waiting: for Gomega's Eventually(func() (int, error) { return env.CountEvents(ctx, q) }).
// Any answer but 200 with a count is an *EventsError naming the status and body.
func (e *Env) CountEvents(ctx context.Context, q EventQuery) (int, error) {
	n, status, body, err := e.countEvents(ctx, q)
	if err != nil {
		return 0, &EventsError{Env: e.ID, Query: q, Seen: -1, Status: status, Body: body, Err: err}
	}
	return n, nil
}

func (e *Env) countEvents(ctx context.Context, q EventQuery) (n, status int, body string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.DataStorage.URL+"/api/v1/audit/events?"+q.values().Encode(), nil)
	if err != nil {
		return 0, 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+e.Token)
	resp, err := eventsHTTP.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	excerpt := e.redact(strings.TrimSpace(string(b)))
	if len(excerpt) > 300 {
		excerpt = excerpt[:300] + "..."
	}
	if resp.StatusCode != http.StatusOK {
		return 0, resp.StatusCode, excerpt, errors.New("not 200")
	}
	var page struct {
		Pagination *struct {
			Total *int `json:"total"`
		} `json:"pagination"`
	}
	if err := json.Unmarshal(b, &page); err != nil || page.Pagination == nil || page.Pagination.Total == nil {
		return 0, resp.StatusCode, excerpt, errors.New("no pagination.total in the answer")
	}
	return *page.Pagination.Total, resp.StatusCode, "", nil
}

// WaitForEvents polls the DS's query route every 100 ms until at least n events match q,
// and returns the count; it gives up when ctx ends (set a deadline) with an
// *EventsError saying how many it saw and the DS's last answer.
func (e *Env) WaitForEvents(ctx context.Context, q EventQuery, n int) (int, error) {
	if n < 1 {
		return 0, fmt.Errorf("tfharness: WaitForEvents: n = %d, want at least 1", n)
	}
	start := time.Now()
	last := &EventsError{Env: e.ID, Query: q, Want: n, Seen: -1}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		got, status, body, err := e.countEvents(ctx, q)
		last.Polls++
		if err == nil {
			if got >= n {
				return got, nil
			}
			last.Seen, last.Status, last.Body, last.Err = got, status, "", nil
		} else if ctx.Err() == nil {
			last.Status, last.Body, last.Err = status, body, err
		}
		select {
		case <-ctx.Done():
			last.Waited = time.Since(start)
			if last.Err == nil {
				last.Err = ctx.Err()
			} else {
				last.Err = fmt.Errorf("%w; %w", last.Err, ctx.Err())
			}
			return max(last.Seen, 0), last
		case <-tick.C:
		}
	}
}
