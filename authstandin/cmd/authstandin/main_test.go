package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a log sink the server goroutine and the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeTokens(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokens.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"namespace":"dsenv","tokens":[{"token":"tok-main-1","username":"system:serviceaccount:dsenv:gateway","allow":true}]}`), 0o444))
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestServesUntilCancelledThenExitsZero(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log syncBuffer
	ready := make(chan string, 1)
	done := make(chan int, 1)
	getenv := env(map[string]string{"AUTHSTANDIN_TOKENS_FILE": writeTokens(t)})
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, getenv, &log, ready) }()

	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("exited %d: %s", code, log.String())
	case <-time.After(5 * time.Second):
		t.Fatal("not serving after 5 s")
	}
	resp, err := http.Post("http://"+addr+"/apis/authentication.k8s.io/v1/tokenreviews", "application/json", strings.NewReader(`{"spec":{"token":"tok-main-1"}}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusCreated, resp.StatusCode)

	_, port, _ := net.SplitHostPort(addr)
	assert.Equal(t, 0, run(ctx, []string{"-addr", ":" + port, "healthcheck"}, env(nil), &log, nil), log.String())

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
	assert.Contains(t, log.String(), `"msg":"stopped"`)
	assert.NotContains(t, log.String(), "tok-main-1")
}

func TestStartupFailures(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("namespace: dsenv\n"), 0o444))
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"missing tokens file", []string{"-tokens-file", "/nonexistent/tokens.json"}, nil, 1, "tokens file"},
		{"invalid tokens file", nil, map[string]string{"AUTHSTANDIN_TOKENS_FILE": bad}, 1, "at least one entry"},
		{"bad log level", []string{"-log-level", "loud"}, nil, 2, "invalid log level"},
		{"bad address", nil, map[string]string{"AUTHSTANDIN_ADDR": "8080"}, 2, "invalid listen address"},
		{"unknown subcommand", []string{"serve-please"}, nil, 2, "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log syncBuffer
			code := run(context.Background(), tt.args, env(tt.env), &log, nil)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, log.String(), tt.want)
		})
	}
}

func TestHealthcheckFailsWhenNothingListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, ln.Close())
	var log syncBuffer
	assert.Equal(t, 1, run(context.Background(), []string{"-addr", ":" + port, "healthcheck"}, env(nil), &log, nil))
	assert.Contains(t, log.String(), "healthcheck:")
}
