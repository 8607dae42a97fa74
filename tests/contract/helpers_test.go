package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type client struct {
	base, token string
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

// do sends one request (body as JSON when not nil) with token as the bearer ("" for none).
func (c *client) do(t *testing.T, ctx context.Context, method, u, token string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	require.NoError(t, err, "%s %s", method, u)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

type pagination struct {
	Limit   int  `json:"limit"`
	Offset  int  `json:"offset"`
	Total   int  `json:"total"`
	HasMore bool `json:"has_more"`
}

type stored struct {
	EventID        string          `json:"event_id"`
	EventType      string          `json:"event_type"`
	EventDate      string          `json:"event_date"`
	EventCategory  string          `json:"event_category"`
	EventAction    string          `json:"event_action"`
	EventOutcome   string          `json:"event_outcome"`
	CorrelationID  string          `json:"correlation_id"`
	Namespace      string          `json:"namespace"`
	EventData      json.RawMessage `json:"event_data"`
	EventTimestamp time.Time       `json:"event_timestamp"`
}

type page struct {
	Data       []stored   `json:"data"`
	Pagination pagination `json:"pagination"`
}

// query is GET /api/v1/audit/events with q, expecting 200 and the contract's page shape.
func (c *client) query(t *testing.T, ctx context.Context, q url.Values) page {
	t.Helper()
	r := c.do(t, ctx, http.MethodGet, c.base+"/api/v1/audit/events?"+q.Encode(), c.token, nil)
	require.Equal(t, http.StatusOK, r.code, "query %s: %s", q.Encode(), r.body)
	var p page
	require.NoError(t, json.Unmarshal(r.body, &p), "%s", r.body)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &raw))
	require.Contains(t, raw, "pagination", "%s", r.body)
	require.Contains(t, raw, "data", "%s", r.body)
	return p
}

// requireProblem checks the RFC 7807 shape: Content-Type application/problem+json and a body
// with type, title, status (= code) and detail. The texts are each implementation's own.
func requireProblem(t *testing.T, r response, code int) {
	t.Helper()
	mt, _, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	require.NoError(t, err, "Content-Type %q", r.header.Get("Content-Type"))
	assert.Equal(t, "application/problem+json", mt, "Content-Type of a %d", code)
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(r.body, &p), "%s", r.body)
	assert.NotEmpty(t, p.Type, "type: %s", r.body)
	assert.NotEmpty(t, p.Title, "title: %s", r.body)
	assert.Equal(t, code, p.Status, "status: %s", r.body)
	assert.NotEmpty(t, p.Detail, "detail: %s", r.body)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
