package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, path string) (int, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	return rec.Code, body
}

func TestReadiness(t *testing.T) {
	var pgErr error
	c := NewChecker(100*time.Millisecond,
		Check{Name: "postgresql", Fn: func(ctx context.Context) error { return pgErr }},
		Check{Name: "redis", Fn: func(ctx context.Context) error { return nil }})
	mux := Mux(c)

	code, body := get(t, mux, "/readyz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, map[string]string{"status": "ready"}, body)

	pgErr = errors.New("connection refused")
	code, body = get(t, mux, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "postgresql: connection refused", body["reason"])

	pgErr = nil
	c.SetShuttingDown()
	code, body = get(t, mux, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "shutting down", body["reason"])

	code, body = get(t, mux, "/healthz")
	assert.Equal(t, http.StatusOK, code, "liveness does not depend on readiness")
	assert.Equal(t, "alive", body["status"])
}

func TestReadinessCheckTimesOut(t *testing.T) {
	c := NewChecker(50*time.Millisecond, Check{Name: "postgresql", Fn: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	start := time.Now()
	err := c.Ready(context.Background())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second)
}

func TestProbe(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer bad.Close()
	assert.NoError(t, Probe(context.Background(), ok.URL))
	assert.ErrorContains(t, Probe(context.Background(), bad.URL), "503")
}
