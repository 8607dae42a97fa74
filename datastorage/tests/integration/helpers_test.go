// Package ds_test holds the integration tests of the reference Data Storage service and its
// migration job. They run the built binaries against real dsenv/postgres:15 and dsenv/redis:7
// containers (`make setup` builds them; a missing image fails the test).
package ds_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/datastorage/internal/testdocker"
	"github.com/dsenv/dsenv/internal/dsfiles"
)

// binaries are built once per test binary run.
type binaries struct {
	datastorage, dsmigrate string
}

var bins binaries

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dsenv-ds-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins = binaries{datastorage: filepath.Join(dir, "datastorage"), dsmigrate: filepath.Join(dir, "dsmigrate")}
	for pkg, out := range map[string]string{"../../cmd/datastorage": bins.datastorage, "../../cmd/dsmigrate": bins.dsmigrate} {
		args, cgo := []string{"build", "-o", out, pkg}, "CGO_ENABLED=0"
		if os.Getenv("DSENV_TEST_RACE") != "" { // build the binaries with the race detector
			args, cgo = []string{"build", "-race", "-o", out, pkg}, "CGO_ENABLED=1"
		}
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), cgo)
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, b)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// stack is a migrated Postgres and a Redis.
type stack struct {
	pg   *testdocker.Postgres
	rd   *testdocker.Redis
	pool *pgxpool.Pool
}

func newStack(t *testing.T, pgOpts ...testdocker.Option) *stack {
	t.Helper()
	s := &stack{pg: testdocker.StartPostgres(t, pgOpts...), rd: testdocker.StartRedis(t)}
	runMigrate(t, s.pg, "")
	s.pool = connectPool(t, s.pg)
	return s
}

func connectPool(t testing.TB, pg *testdocker.Postgres) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pg.DSN())
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// runMigrate runs the dsmigrate binary (DSN in a file) and returns its exit code and output.
func runMigrate(t testing.TB, pg *testdocker.Postgres, dir string) (int, string, string) {
	t.Helper()
	dsnFile := filepath.Join(t.TempDir(), "dsn")
	require.NoError(t, os.WriteFile(dsnFile, []byte(pg.DSN()), 0o600))
	cmd := exec.Command(bins.dsmigrate)
	cmd.Env = append(os.Environ(), "DSMIGRATE_DSN_FILE="+dsnFile, "DSMIGRATE_WAIT=30s")
	if dir != "" {
		cmd.Env = append(cmd.Env, "DSMIGRATE_DIR="+dir)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(t, ok, "run dsmigrate: %v", err)
		code = ee.ExitCode()
	}
	if dir == "" {
		require.Equal(t, 0, code, "dsmigrate failed:\n%s%s", stdout.String(), stderr.String())
	}
	return code, stdout.String(), stderr.String()
}

// dsOptions are the knobs of a DS under test.
type dsOptions struct {
	redisAddr       string // default: the stack's Redis
	pgPort          int    // default: the stack's Postgres
	attempts        int
	connectInterval time.Duration
	retryInterval   time.Duration
	writeTimeout    time.Duration
	shutdownTimeout time.Duration
	maxBatchSize    int
}

type dsProc struct {
	cmd        *exec.Cmd
	logs       *syncBuffer
	api        string // http://127.0.0.1:port
	health     string
	metrics    string
	token      string
	configPath string
	done       chan struct{}
	exitCode   int
	exited     time.Time
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// writeDSConfig renders config.yaml and the three secrets files like terraform/modules/datastorage.
func writeDSConfig(t *testing.T, s *stack, o dsOptions) (path, token string, ports [3]int) {
	t.Helper()
	dir := t.TempDir()
	token = testdocker.RandomSecret(t)
	for i := range ports {
		ports[i] = testdocker.FreePort(t)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.connectInterval, 200*time.Millisecond)
	def(&o.retryInterval, 200*time.Millisecond)
	def(&o.writeTimeout, time.Second)
	def(&o.shutdownTimeout, 15*time.Second)
	if o.attempts == 0 {
		o.attempts = 3
	}
	if o.redisAddr == "" {
		o.redisAddr = s.rd.Addr()
	}
	if o.pgPort == 0 {
		o.pgPort = s.pg.Port
	}
	if o.maxBatchSize == 0 {
		o.maxBatchSize = 500
	}
	redisPW := ""
	if s.rd != nil {
		redisPW = s.rd.Password
	}
	store, err := dsfiles.StoreSecretsYAML(s.pg.User, s.pg.Password, redisPW)
	require.NoError(t, err)
	files := map[string]string{
		"store-secrets.yaml": string(store),
		"api-tokens.yaml":    fmt.Sprintf("gateway: %s\n", token),
	}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	c := dsfiles.Defaults()
	c.Server.Host, c.Server.Port, c.Server.HealthPort, c.Server.MetricsPort = "127.0.0.1", ports[0], ports[1], ports[2]
	c.Server.ShutdownTime, c.Server.MaxBatchSize = o.shutdownTimeout.String(), o.maxBatchSize
	c.Database.Host, c.Database.Port, c.Database.Name, c.Database.User = "127.0.0.1", o.pgPort, s.pg.DB, s.pg.User
	c.Database.MaxOpenConns, c.Database.WriteTimeout = 20, o.writeTimeout.String()
	c.Redis.Addr = o.redisAddr
	c.Files = dsfiles.Files{StoreSecrets: filepath.Join(dir, "store-secrets.yaml"), APITokens: filepath.Join(dir, "api-tokens.yaml")}
	c.Startup = dsfiles.Startup{ConnectAttempts: o.attempts, ConnectInterval: o.connectInterval.String()}
	c.DLQ.RetryInterval = o.retryInterval.String()
	cfg, err := c.YAML()
	require.NoError(t, err)
	path = filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, cfg, 0o600))
	return path, token, ports
}

// startDS runs the datastorage binary; it is stopped (SIGTERM, then SIGKILL) at cleanup and its
// log is printed when the test failed.
func startDS(t *testing.T, s *stack, o dsOptions) *dsProc {
	t.Helper()
	path, token, ports := writeDSConfig(t, s, o)
	d := &dsProc{
		logs:       &syncBuffer{},
		api:        fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		health:     fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		metrics:    fmt.Sprintf("http://127.0.0.1:%d", ports[2]),
		token:      token,
		configPath: path,
		done:       make(chan struct{}),
	}
	d.cmd = exec.Command(bins.datastorage)
	d.cmd.Env = append(os.Environ(), "CONFIG_PATH="+path)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	require.NoError(t, d.cmd.Start())
	go func() {
		_ = d.cmd.Wait()
		d.exitCode = d.cmd.ProcessState.ExitCode()
		d.exited = time.Now()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.done:
			case <-time.After(20 * time.Second):
				_ = d.cmd.Process.Kill()
				<-d.done
			}
		}
		if t.Failed() {
			t.Logf("--- datastorage log ---\n%s", tail(d.logs.String(), 60))
		}
	})
	return d
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// wait waits for the process to exit and returns its exit code.
func (d *dsProc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-d.done:
		return d.exitCode
	case <-time.After(timeout):
		t.Fatalf("datastorage did not exit within %s", timeout)
		return -1
	}
}

// waitStatus polls url until it answers want.
func waitStatus(t *testing.T, url string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := 0
	for time.Now().Before(deadline) {
		last = getStatus(url)
		if last == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: want %d within %s, last answer %d", url, want, timeout, last)
}

func getStatus(url string) int {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// startReadyDS starts DS and waits for /readyz.
func startReadyDS(t *testing.T, s *stack, o dsOptions) *dsProc {
	t.Helper()
	d := startDS(t, s, o)
	deadline := time.Now().Add(20 * time.Second)
	for getStatus(d.health+"/readyz") != http.StatusOK {
		select {
		case <-d.done:
			t.Fatalf("datastorage exited with %d during startup:\n%s", d.exitCode, d.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("datastorage not ready within 20s:\n%s", tail(d.logs.String(), 30))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return d
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (d *dsProc) request(t *testing.T, method, path, token string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, d.api+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (d *dsProc) post(t *testing.T, path string, body []byte) response {
	t.Helper()
	return d.request(t, http.MethodPost, path, d.token, body)
}

// queryPage is the GET /api/v1/audit/events response, with event_data kept raw.
type queryPage struct {
	Data []struct {
		EventID       string          `json:"event_id"`
		EventType     string          `json:"event_type"`
		EventDate     string          `json:"event_date"`
		CorrelationID string          `json:"correlation_id"`
		EventData     json.RawMessage `json:"event_data"`
	} `json:"data"`
	Pagination struct {
		Limit   int   `json:"limit"`
		Offset  int   `json:"offset"`
		Total   int64 `json:"total"`
		HasMore bool  `json:"has_more"`
	} `json:"pagination"`
}

func (d *dsProc) query(t *testing.T, params string) queryPage {
	t.Helper()
	r := d.request(t, http.MethodGet, "/api/v1/audit/events?"+params, d.token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var p queryPage
	require.NoError(t, json.Unmarshal(r.body, &p))
	return p
}

// gatewayEvent is an event as the Gateway sends it; its event_data keys are deliberately not
// in jsonb's order and carry labels, annotations and an occurrence count.
func gatewayEvent(corr string, i int, ts time.Time) string {
	types := []string{"gateway.signal.received", "gateway.signal.deduplicated", "gateway.crd.created", "gateway.crd.failed"}
	typ := types[i%len(types)]
	outcome := "success"
	if typ == "gateway.crd.failed" {
		outcome = "failure"
	}
	return fmt.Sprintf(`{"version":"1.0","event_type":%q,"event_timestamp":%q,"event_category":"gateway",`+
		`"event_action":"%s","event_outcome":%q,"correlation_id":%q,"actor_type":"service","actor_id":"gateway",`+
		`"namespace":"prod","event_data":{"signal_type":"alert","event_type":%q,"signal_name":"HighMemoryUsage-%d",`+
		`"namespace":"prod","fingerprint":"sha256:%064d","labels":{"severity":"critical","app":"api-%d"},`+
		`"annotations":{"summary":"Memory > 90%% on pod api-%d ünïcödé"},"occurrence_count":%d}}`,
		typ, ts.UTC().Format(time.RFC3339Nano), strings.TrimPrefix(typ, "gateway."), outcome, corr, typ, i, i, i, i, i+1)
}

func gatewayBatch(corr string, n int) []byte {
	now := time.Now()
	parts := make([]string, n)
	for i := range parts {
		parts[i] = gatewayEvent(corr, i, now.Add(-time.Duration(n-i)*time.Millisecond))
	}
	return []byte("[" + strings.Join(parts, ",") + "]")
}

func countRows(t testing.TB, pool *pgxpool.Pool, corr string) (total, distinct int) {
	t.Helper()
	err := pool.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT event_id) FROM audit_events WHERE correlation_id = $1`, corr).Scan(&total, &distinct)
	require.NoError(t, err)
	return total, distinct
}
