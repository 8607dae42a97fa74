package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestReadDSNPrefersTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dsn")
	require.NoError(t, os.WriteFile(p, []byte("postgres://from-file\n"), 0o600))
	dsn, err := readDSN(env(map[string]string{"DSMIGRATE_DSN_FILE": p, "DATABASE_URL": "postgres://from-env"}))
	require.NoError(t, err)
	assert.Equal(t, "postgres://from-file", dsn)

	dsn, err = readDSN(env(map[string]string{"DATABASE_URL": "postgres://from-env"}))
	require.NoError(t, err)
	assert.Equal(t, "postgres://from-env", dsn)

	_, err = readDSN(env(nil))
	assert.EqualError(t, err, "DSMIGRATE_DSN_FILE or DATABASE_URL environment variable required")

	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, err = readDSN(env(map[string]string{"DSMIGRATE_DSN_FILE": empty}))
	assert.ErrorContains(t, err, "is empty")
}

func TestParseWait(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 60 * time.Second, "90s": 90 * time.Second, "5": 5 * time.Second, "1m": time.Minute} {
		got, err := parseWait(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := parseWait("soon")
	assert.ErrorContains(t, err, "invalid DSMIGRATE_WAIT")
}

func TestMissingDSNExits1(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run(nil, env(nil), &stdout, &stderr))
	assert.Contains(t, stderr.String(), "DSMIGRATE_DSN_FILE or DATABASE_URL environment variable required")
	assert.Empty(t, stdout.String())
}

func TestUnreachableDatabaseExits1AfterWait(t *testing.T) {
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(nil, env(map[string]string{"DATABASE_URL": "postgres://u:secretpw@127.0.0.1:1/db?connect_timeout=1", "DSMIGRATE_WAIT": "1s"}), &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, stderr.String(), "database not ready")
	assert.NotContains(t, stderr.String(), "secretpw")
}
