package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestMissingConfigPathExits1WithOneLine(t *testing.T) {
	var out bytes.Buffer
	code := run(nil, env(nil), &out, &out)
	assert.Equal(t, 1, code)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 1)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec), "log lines are JSON")
	assert.Equal(t, "CONFIG_PATH environment variable required", rec["msg"])
	assert.Equal(t, "ERROR", rec["level"])
}

func TestInvalidConfigExits1WithContractText(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(p, []byte("server: {port: 8080}\n"), 0o600))
	var out bytes.Buffer
	code := run(nil, env(map[string]string{"CONFIG_PATH": p}), &out, &out)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), `"msg":"database secretsFile required"`)
}

func TestUnknownSubcommand(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, 2, run([]string{"bogus"}, env(nil), &out, &out))
}

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(status)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	var out bytes.Buffer
	assert.Equal(t, 0, run([]string{"healthcheck"}, env(map[string]string{"HEALTH_PORT": port}), &out, &out))

	// The port can come from server.healthPort of CONFIG_PATH.
	p := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf("server:\n  healthPort: %s\n", port)), 0o600))
	assert.Equal(t, 0, run([]string{"healthcheck"}, env(map[string]string{"CONFIG_PATH": p}), &out, &out))

	status = http.StatusServiceUnavailable
	assert.Equal(t, 1, run([]string{"healthcheck"}, env(map[string]string{"HEALTH_PORT": port}), &out, &out))

	_ = srv.Close()
	assert.Equal(t, 1, run([]string{"healthcheck"}, env(map[string]string{"HEALTH_PORT": port}), &out, &out))
}
