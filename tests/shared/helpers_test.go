package shared

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func writeEvents(ctx context.Context, t *testing.T, baseURL, token, correlation string, n int) {
	t.Helper()
	start := time.Now()
	for sent := 0; sent < n; sent += batchSize {
		batch := make([]map[string]any, 0, batchSize)
		for i := sent; i < sent+batchSize && i < n; i++ {
			batch = append(batch, map[string]any{
				"version":         "1.0",
				"event_type":      "gateway.signal.received",
				"event_timestamp": time.Now().UTC().Format(time.RFC3339),
				"event_category":  "gateway",
				"event_action":    "received",
				"event_outcome":   "success",
				"correlation_id":  correlation,
				"event_data": map[string]any{"event_type": "gateway.signal.received", "signal_type": "alert", "signal_name": fmt.Sprintf("signal-%04d", i),
					"namespace": "payments", "fingerprint": fmt.Sprintf("fp-%04d", i)},
			})
		}
		body, _ := json.Marshal(batch)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/api/v1/audit/events/batch", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST batch: %v", err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST batch at %d: %s: %s", sent, resp.Status, msg)
		}
	}
	t.Logf("wrote %d events in %.1fs", n, time.Since(start).Seconds())
}

func apiTotal(ctx context.Context, t *testing.T, baseURL, token, correlation string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/api/v1/audit/events?limit=1&correlation_id="+correlation, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	var resp *http.Response
	var err error
	// The new DS container answered /readyz before the apply returned; retry a moment anyway.
	for i := 0; i < 20; i++ {
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("GET events: %v", err)
	}
	defer resp.Body.Close()
	var page struct {
		Pagination struct {
			Total int `json:"total"`
		} `json:"pagination"`
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET events: %s: %s", resp.Status, msg)
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatalf("GET events: %v", err)
	}
	return page.Pagination.Total
}

func countRows(ctx context.Context, t *testing.T, dsn, correlation string) int {
	t.Helper()
	conn := connect(ctx, t, dsn)
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE correlation_id = $1", correlation).Scan(&n); err != nil {
		t.Fatalf("count rows: %v", err)
	}
	return n
}

// connect connects to PostgreSQL, which may still be starting right after a replacement.
func connect(ctx context.Context, t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	var conn *pgx.Conn
	var err error
	deadline := time.Now().Add(time.Minute)
	for {
		if conn, err = pgx.Connect(ctx, dsn); err == nil {
			return conn
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect to PostgreSQL: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

var dsenvBinary string

// binDir holds the dsenv binary for every test of the process (TestMain removes it): a
// test's own TempDir is gone when the next test runs.
var binDir string

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "dsenv-shared-test-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// buildDsenv builds cmd/dsenv once per test process.
func buildDsenv(ctx context.Context, t *testing.T) string {
	t.Helper()
	if dsenvBinary != "" {
		return dsenvBinary
	}
	bin := filepath.Join(binDir, "dsenv")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/dsenv")
	cmd.Dir = repoPath(t, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/dsenv: %v: %s", err, out)
	}
	dsenvBinary = bin
	return bin
}

// repoPath returns a path in the repository this test file lives in.
func repoPath(t *testing.T, rel string) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", rel)
}

// copyTerraform copies the HCL and templates only: never a .terraform directory, a state
// file or someone's tfvars with credentials.
func copyTerraform(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(path, ".tf") && !strings.HasSuffix(path, ".tftpl") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy terraform/: %v", err)
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

func firstLines(s string, n int) string { return fromLine(s, "", n) }

// fromLine returns n lines of s starting at the first that contains marker.
func fromLine(s, marker string, n int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.Contains(l, marker) {
			lines = lines[i:]
			break
		}
	}
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
