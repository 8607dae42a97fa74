package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/datastorage/internal/audit"
)

const token = "test-token"

type fakeStore struct {
	mu      sync.Mutex
	err     error
	calls   int
	written []audit.Event
	result  []audit.Event
	total   int64
	lastQ   audit.Query
}

func (f *fakeStore) InsertEvents(ctx context.Context, events []audit.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return f.err
	}
	f.written = append(f.written, events...)
	return nil
}

func (f *fakeStore) QueryEvents(ctx context.Context, q audit.Query) ([]audit.Event, int64, error) {
	f.lastQ = q
	return f.result, f.total, f.err
}

type fakeQueue struct {
	mu     sync.Mutex
	err    error
	queued []audit.Event
}

func (f *fakeQueue) Enqueue(ctx context.Context, events []audit.Event, cause error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.queued = append(f.queued, events...)
	return nil
}

func newTestServer(st *fakeStore, q *fakeQueue, cfg Config) *Server {
	if cfg.MaxBodySize == 0 {
		cfg.MaxBodySize = 1 << 20
	}
	if cfg.MaxBatchSize == 0 {
		cfg.MaxBatchSize = 10
	}
	ready := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	s := New(cfg, st, q, NewTokens([]string{token}), ready, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	s.now = func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }
	return s
}

func eventJSON(corr string) string {
	return `{"version":"1.0","event_type":"gateway.signal.received","event_timestamp":"2026-11-27T11:59:00Z",` +
		`"event_category":"gateway","event_action":"received","event_outcome":"success","correlation_id":"` + corr +
		`","event_data":{"event_type":"gateway.signal.received","signal_type":"alert","signal_name":"HighMemory","namespace":"prod","fingerprint":"abc"}}`
}

func do(t *testing.T, h http.Handler, method, path, body string, auth bool) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// requireProblem checks the RFC 7807 shape: content type and exactly type/title/status/detail.
func requireProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, detail string) {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.ElementsMatch(t, []string{"type", "title", "status", "detail"}, keys(body))
	assert.True(t, strings.HasPrefix(body["type"].(string), ProblemTypeBase), body["type"])
	assert.NotEmpty(t, body["title"])
	assert.Equal(t, float64(status), body["status"])
	assert.Contains(t, body["detail"], detail)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestProblemBodyShape(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteProblem(rec, http.StatusBadRequest, "event at index 3: event_type is required <&>")
	requireProblem(t, rec, http.StatusBadRequest, "event at index 3: event_type is required <&>")
	assert.JSONEq(t, `{"type":"https://kubernaut.ai/problems/validation-error","title":"Validation Error","status":400,`+
		`"detail":"event at index 3: event_type is required <&>"}`, rec.Body.String())
	for _, code := range []int{401, 403, 404, 405, 413, 500, 503, 418} {
		p := NewProblem(code, "x")
		assert.Equal(t, code, p.Status)
		assert.NotEmpty(t, p.Title)
		assert.True(t, strings.HasPrefix(p.Type, ProblemTypeBase))
	}
}

func TestAuth(t *testing.T) {
	h := newTestServer(&fakeStore{}, &fakeQueue{}, Config{}).Handler()
	for name, header := range map[string]string{"missing": "", "not bearer": "Basic dXNlcjpwdw==", "empty bearer": "Bearer  "} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/audit/events", nil)
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			requireProblem(t, rec, http.StatusUnauthorized, "missing bearer token")
			assert.NotEmpty(t, rec.Header().Get("WWW-Authenticate"))
		})
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/audit/events", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	requireProblem(t, rec, http.StatusForbidden, "bearer token not accepted")

	req.Header.Set("Authorization", "bearer "+token) // scheme is case-insensitive
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
}

func TestReadyzNeedsNoToken(t *testing.T) {
	h := newTestServer(&fakeStore{}, &fakeQueue{}, Config{}).Handler()
	assert.Equal(t, http.StatusOK, do(t, h, http.MethodGet, "/readyz", "", false).Code)
}

func TestRoutingErrorsAreProblems(t *testing.T) {
	h := newTestServer(&fakeStore{}, &fakeQueue{}, Config{}).Handler()
	requireProblem(t, do(t, h, http.MethodGet, "/api/v1/nope", "", true), http.StatusNotFound, "no such endpoint")
	rec := do(t, h, http.MethodDelete, "/api/v1/audit/events", "", true)
	requireProblem(t, rec, http.StatusMethodNotAllowed, "method DELETE not allowed")
	assert.Equal(t, "GET, POST", rec.Header().Get("Allow"))
	requireProblem(t, do(t, h, http.MethodGet, "/api/v1/audit/events/batch", "", true), http.StatusMethodNotAllowed, "not allowed")
}

func TestCreateEvent(t *testing.T) {
	st := &fakeStore{}
	h := newTestServer(st, &fakeQueue{}, Config{}).Handler()
	rec := do(t, h, http.MethodPost, "/api/v1/audit/events", eventJSON("rr-1"), true)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var resp map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	assert.Equal(t, st.written[0].EventID.String(), resp["event_id"])
	assert.Equal(t, "2026-11-27T11:59:00Z", resp["event_timestamp"])
	assert.NotEmpty(t, resp["message"])

	requireProblem(t, do(t, h, http.MethodPost, "/api/v1/audit/events", `{"version":"1.0"}`, true),
		http.StatusBadRequest, "event_type is required")
}

func TestCreateBatch(t *testing.T) {
	st := &fakeStore{}
	h := newTestServer(st, &fakeQueue{}, Config{MaxBatchSize: 3}).Handler()
	rec := do(t, h, http.MethodPost, "/api/v1/audit/events/batch", "["+eventJSON("a")+","+eventJSON("b")+"]", true)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var resp struct {
		EventIDs []string `json:"event_ids"`
		Message  string   `json:"message"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	require.Len(t, resp.EventIDs, 2)
	assert.Equal(t, st.written[1].EventID.String(), resp.EventIDs[1])
	assert.Equal(t, 1, st.calls, "one write for the whole batch")

	for name, tc := range map[string]struct{ body, want string }{
		"object":    {eventJSON("a"), "must be a JSON array"},
		"empty":     {"[]", "at least one event"},
		"too large": {"[" + strings.Repeat(eventJSON("a")+",", 3) + eventJSON("a") + "]", "batch size 4 exceeds maximum of 3"},
		"bad index": {"[" + eventJSON("a") + `,{"version":"1.0"}]`, "event at index 1: event_type is required"},
	} {
		t.Run(name, func(t *testing.T) {
			requireProblem(t, do(t, h, http.MethodPost, "/api/v1/audit/events/batch", tc.body, true), http.StatusBadRequest, tc.want)
		})
	}
	assert.Len(t, st.written, 2, "rejected batches write nothing")
}

func TestBodySizeLimit(t *testing.T) {
	h := newTestServer(&fakeStore{}, &fakeQueue{}, Config{MaxBodySize: 100}).Handler()
	requireProblem(t, do(t, h, http.MethodPost, "/api/v1/audit/events", eventJSON("rr-1"), true),
		http.StatusRequestEntityTooLarge, "request body exceeds 100 bytes")
}

func TestPostgresFailureQueuesEvents(t *testing.T) {
	st := &fakeStore{err: errors.New("connection refused")}
	q := &fakeQueue{}
	s := newTestServer(st, q, Config{BreakerOpen: time.Hour})
	h := s.Handler()
	rec := do(t, h, http.MethodPost, "/api/v1/audit/events/batch", "["+eventJSON("a")+","+eventJSON("b")+"]", true)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	var resp struct {
		Status   string   `json:"status"`
		EventIDs []string `json:"event_ids"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	assert.Equal(t, "accepted", resp.Status)
	require.Len(t, q.queued, 2)
	assert.Equal(t, q.queued[0].EventID.String(), resp.EventIDs[0])

	// The breaker is open: the next write goes straight to the queue.
	rec = do(t, h, http.MethodPost, "/api/v1/audit/events", eventJSON("c"), true)
	require.Equal(t, http.StatusAccepted, rec.Code)
	assert.Equal(t, 1, st.calls)
	assert.Len(t, q.queued, 3)

	// After a replay succeeded the breaker closes and PostgreSQL is tried again.
	st.err = nil
	s.PostgresRecovered()
	rec = do(t, h, http.MethodPost, "/api/v1/audit/events", eventJSON("d"), true)
	require.Equal(t, http.StatusCreated, rec.Code)
	assert.Equal(t, 2, st.calls)
}

func TestPostgresAndRedisFailureIs500(t *testing.T) {
	h := newTestServer(&fakeStore{err: errors.New("down")}, &fakeQueue{err: errors.New("redis down")}, Config{}).Handler()
	requireProblem(t, do(t, h, http.MethodPost, "/api/v1/audit/events", eventJSON("a"), true),
		http.StatusInternalServerError, "failed to store audit events")
}

func TestDataErrorIs400AndNotQueued(t *testing.T) {
	q := &fakeQueue{}
	h := newTestServer(&fakeStore{err: &pgconn.PgError{Code: "22P05", Message: "unsupported Unicode escape sequence"}}, q, Config{}).Handler()
	requireProblem(t, do(t, h, http.MethodPost, "/api/v1/audit/events", eventJSON("a"), true),
		http.StatusBadRequest, "rejected by the database: unsupported Unicode escape sequence")
	assert.Empty(t, q.queued)
}

func TestQueryReturnsEventDataAsStored(t *testing.T) {
	stored := json.RawMessage(`{"a": [1, 2], "b": "<&>", "n": 1.50}`)
	ev, err := audit.DecodeEvent([]byte(eventJSON("rr-9")), time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	ev.EventData = stored
	st := &fakeStore{result: []audit.Event{ev}, total: 3}
	h := newTestServer(st, &fakeQueue{}, Config{}).Handler()
	rec := do(t, h, http.MethodGet, "/api/v1/audit/events?correlation_id=rr-9&limit=1&offset=1", "", true)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Contains(t, rec.Body.String(), `"event_data":`+string(stored), "event_data bytes are copied unchanged")
	assert.Equal(t, audit.Query{CorrelationID: "rr-9", Limit: 1, Offset: 1}, st.lastQ)

	var resp struct {
		Data []struct {
			EventID        string          `json:"event_id"`
			EventDate      string          `json:"event_date"`
			EventTimestamp string          `json:"event_timestamp"`
			EventData      json.RawMessage `json:"event_data"`
		} `json:"data"`
		Pagination struct {
			Limit   int   `json:"limit"`
			Offset  int   `json:"offset"`
			Total   int64 `json:"total"`
			HasMore bool  `json:"has_more"`
		} `json:"pagination"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	require.Len(t, resp.Data, 1)
	assert.Equal(t, ev.EventID.String(), resp.Data[0].EventID)
	assert.Equal(t, "2026-11-27", resp.Data[0].EventDate)
	assert.Equal(t, "2026-11-27T11:59:00Z", resp.Data[0].EventTimestamp)
	assert.Equal(t, 1, resp.Pagination.Limit)
	assert.Equal(t, 1, resp.Pagination.Offset)
	assert.Equal(t, int64(3), resp.Pagination.Total)
	assert.True(t, resp.Pagination.HasMore)

	requireProblem(t, do(t, h, http.MethodGet, "/api/v1/audit/events?limit=5000", "", true), http.StatusBadRequest, "limit must be")
}

func TestBreakerLetsOneProbeThrough(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBreaker(time.Second, func() time.Time { return now })
	assert.True(t, b.allow())
	b.failure()
	assert.False(t, b.allow(), "open")
	now = now.Add(2 * time.Second)
	assert.True(t, b.allow(), "half-open: one probe")
	assert.False(t, b.allow(), "only one probe at a time")
	b.failure()
	assert.False(t, b.allow())
	now = now.Add(2 * time.Second)
	assert.True(t, b.allow())
	b.Success()
	assert.True(t, b.allow())
	assert.True(t, b.allow())
}
