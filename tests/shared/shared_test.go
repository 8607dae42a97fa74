// Package shared tests terraform/envs/shared, the persistent shared environment: data
// survives changes to the DS and replacement of the data stores, prevent_destroy holds, and
// `dsenv plan` reports an unchanged environment and drift the way a drift check needs.
//
// The environment is applied from a temporary copy of terraform/ with its own state, on free
// ports chosen by the test, and removed at the end (volumes included).
package shared

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/planreview"
	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

const (
	events      = 1000
	batchSize   = 100
	markerKey   = "dsenv:test:pending-marker"
	dsContainer = "module.stack.module.datastorage.docker_container.this"
)

// images are the defaults of terraform/envs/shared; DSENV_<SERVICE>_IMAGE overrides one, as
// it does for tfharness.
var images = map[string]string{
	"postgres":    "dsenv/postgres:15",
	"redis":       "dsenv/redis:7",
	"datastorage": "dsenv/datastorage:latest",
	"migrate":     "dsenv/migrate:latest",
}

func imageFor(service string) string {
	if v := os.Getenv("DSENV_" + strings.ToUpper(service) + "_IMAGE"); v != "" {
		return v
	}
	return images[service]
}

// sharedEnv is one applied copy of terraform/envs/shared.
type sharedEnv struct {
	t        *testing.T
	prefix   string
	dir      string // the copy of terraform/envs/shared
	varsFile string // the test's shared.tfvars.json (0600)
	vars     map[string]any
	tf       *tfexec.Terraform
	execPath string
	mirror   string
}

func TestSharedEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("applies a real environment")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	e := newSharedEnv(ctx, t)

	// Must show 1: 1,000 events survive a change of the DS log level, which replaces only
	// the DS container; the next plan is empty.
	e.apply(ctx)
	out := e.outputs(ctx)
	correlation := "shared-" + e.prefix
	writeEvents(ctx, t, out.url, out.token, correlation, events)
	if n := countRows(ctx, t, out.dsn, correlation); n != events {
		t.Fatalf("after writing: %d rows, want %d", n, events)
	}
	rdb := redis.NewClient(&redis.Options{Addr: out.redisAddr, Password: out.redisPassword})
	defer rdb.Close()
	if err := rdb.Set(ctx, markerKey, correlation, 0).Err(); err != nil {
		t.Fatalf("redis SET: %v", err)
	}

	e.vars["log_level"] = "debug"
	e.writeVars()
	r := e.plan(ctx)
	t.Logf("plan after the log level change:\n%s", r.Text)
	if len(r.Summary.Changes) != 1 || r.Summary.Changes[0].Kind != planreview.Replace || r.Summary.Changes[0].Address != dsContainer {
		t.Fatalf("want exactly one change, the replacement of %s; got %s", dsContainer, planreview.Verdict(r.Summary))
	}
	if loss := r.Summary.DataLoss(); len(loss) > 0 {
		t.Errorf("a DS change must not destroy data; the review warns about %v", loss[0].Address)
	}
	if !strings.Contains(r.Markdown, "-   level: info\n+   level: debug") {
		t.Errorf("the markdown review does not show the log level change in datastorage_config:\n%s", r.Markdown)
	}
	if !strings.Contains(r.Markdown, "| replace | `"+dsContainer+"` | forced by") {
		t.Errorf("the markdown review does not show the replacement and its reason:\n%s", r.Markdown)
	}
	oldID := e.containerID(ctx, "datastorage")
	e.apply(ctx)
	if id := e.containerID(ctx, "datastorage"); id == oldID {
		t.Errorf("the DS container was not replaced")
	}
	if n := countRows(ctx, t, out.dsn, correlation); n != events {
		t.Errorf("after replacing the DS: %d rows, want %d", n, events)
	}
	if total := apiTotal(ctx, t, out.url, out.token, correlation); total != events {
		t.Errorf("after replacing the DS: the API reports %d events, want %d", total, events)
	}
	if r := e.plan(ctx); r.HasChanges {
		t.Errorf("second plan is not empty: %s\n%s", planreview.Verdict(r.Summary), r.Text)
	}

	// The data stores themselves: replacing the PostgreSQL and Redis containers keeps the rows
	// (named volume, fsync on) and the pending Redis entry (append-only file).
	e.applyReplace(ctx, "module.stack.module.postgres.docker_container.this", "module.stack.module.redis.docker_container.this")
	if n := countRows(ctx, t, out.dsn, correlation); n != events {
		t.Errorf("after replacing PostgreSQL: %d rows, want %d", n, events)
	}
	if got, err := rdb.Get(ctx, markerKey).Result(); err != nil || got != correlation {
		t.Errorf("after replacing Redis: GET %s = %q, %v; want %q", markerKey, got, err, correlation)
	}

	// Must show 4: `dsenv plan` on the unchanged environment prints "No changes" and exits 0;
	// after a container is removed by hand it shows the re-creation and exits 2.
	dsenv := buildDsenv(ctx, t)
	stdout, code := e.dsenvPlan(ctx, dsenv)
	t.Logf("dsenv plan --detailed-exitcode on the unchanged environment: exit %d\n%s", code, stdout)
	if code != 0 || !strings.Contains(stdout, "No changes") {
		t.Errorf("dsenv plan on an unchanged environment: exit %d, output:\n%s\nwant exit 0 and No changes", code, stdout)
	}
	if out, err := exec.CommandContext(ctx, "docker", "rm", "-f", e.prefix+"-datastorage").CombinedOutput(); err != nil {
		t.Fatalf("docker rm: %v: %s", err, out)
	}
	stdout, code = e.dsenvPlan(ctx, dsenv)
	t.Logf("dsenv plan --detailed-exitcode after docker rm -f %s-datastorage: exit %d\n%s", e.prefix, code, firstLines(stdout, 12))
	if code != 2 || !strings.Contains(stdout, "create") || !strings.Contains(stdout, dsContainer) {
		t.Errorf("dsenv plan after docker rm -f: exit %d, output:\n%s\nwant exit 2 and the re-creation of %s", code, stdout, dsContainer)
	}
	if !strings.Contains(stdout, dsContainer+" was deleted") {
		t.Errorf("the review does not say the container was deleted outside Terraform:\n%s", stdout)
	}
	e.apply(ctx) // put it back
	if n := countRows(ctx, t, out.dsn, correlation); n != events {
		t.Errorf("after re-creating the DS: %d rows, want %d", n, events)
	}

	// Must show 2: terraform destroy refuses because of prevent_destroy, and destroys nothing.
	err := e.tf.Destroy(ctx, tfexec.VarFile(e.varsFile))
	if err == nil || !strings.Contains(err.Error(), "prevent_destroy") {
		t.Fatalf("terraform destroy: err = %v, want a prevent_destroy refusal", err)
	}
	t.Logf("terraform destroy refused as it should:\n%s", fromLine(err.Error(), "Error:", 8))
	if n := countRows(ctx, t, out.dsn, correlation); n != events {
		t.Errorf("after the refused destroy: %d rows, want %d", n, events)
	}

	// The README's way to really remove it: state rm of the volumes, destroy, volume rm.
	e.remove(ctx)
}

func newSharedEnv(ctx context.Context, t *testing.T) *sharedEnv {
	t.Helper()
	execPath, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform not on PATH")
	}
	dir, err := cache.Dir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cache.ProviderBinary(dir, "registry.terraform.io")); err != nil {
		t.Fatalf("no provider in the mirror (run `make setup`): %v", err)
	}
	for svc := range images {
		if img := imageFor(svc); exec.CommandContext(ctx, "docker", "image", "inspect", img).Run() != nil {
			t.Fatalf("image %s missing (run `make setup`)", img)
		}
	}

	prefix := "dsenv-shtest-" + randomHex(t, 3)
	work := t.TempDir()
	copyTerraform(t, repoPath(t, "terraform"), filepath.Join(work, "terraform"))
	e := &sharedEnv{
		t:        t,
		prefix:   prefix,
		dir:      filepath.Join(work, "terraform", "envs", "shared"),
		varsFile: filepath.Join(t.TempDir(), "shared.tfvars.json"),
		execPath: execPath,
		mirror:   cache.ProviderMirror(dir),
	}
	ports := freePorts(t, 5)
	host, _ := os.Hostname()
	e.vars = map[string]any{
		"name_prefix":                   prefix,
		"owner":                         "manual@" + sanitize(host),
		"created":                       fmt.Sprint(time.Now().Unix()),
		"labels":                        map[string]string{"dsenv.test": "tests/shared"},
		"postgres_host_port":            ports[0],
		"redis_host_port":               ports[1],
		"datastorage_host_port":         ports[2],
		"datastorage_health_host_port":  ports[3],
		"datastorage_metrics_host_port": ports[4],
		"postgres_password":             randomHex(t, 16),
		"redis_password":                randomHex(t, 16),
		"api_token":                     randomHex(t, 24),
		"log_level":                     "info",
	}
	for svc := range images {
		e.vars[svc+"_image"] = imageFor(svc)
	}
	e.writeVars()

	e.tf, err = tfexec.NewTerraform(e.dir, execPath)
	if err != nil {
		t.Fatal(err)
	}
	// Whatever happens, nothing of this environment stays: labelled containers, volumes
	// (the protected ones too) and the network.
	t.Cleanup(func() { labelled.Remove(t, "dsenv.env="+prefix) })
	if err := e.tf.Init(ctx, tfexec.PluginDir(e.mirror)); err != nil {
		t.Fatalf("terraform init: %v", err)
	}
	return e
}

func (e *sharedEnv) writeVars() {
	data, err := json.MarshalIndent(e.vars, "", "  ")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.varsFile, data, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *sharedEnv) apply(ctx context.Context) {
	e.t.Helper()
	start := time.Now()
	if err := e.tf.Apply(ctx, tfexec.VarFile(e.varsFile)); err != nil {
		e.t.Fatalf("terraform apply: %v", err)
	}
	e.t.Logf("apply: %.1fs", time.Since(start).Seconds())
}

func (e *sharedEnv) applyReplace(ctx context.Context, addrs ...string) {
	e.t.Helper()
	opts := []tfexec.ApplyOption{tfexec.VarFile(e.varsFile)}
	for _, a := range addrs {
		opts = append(opts, tfexec.Replace(a))
	}
	start := time.Now()
	if err := e.tf.Apply(ctx, opts...); err != nil {
		e.t.Fatalf("terraform apply -replace: %v", err)
	}
	e.t.Logf("apply -replace %s: %.1fs", strings.Join(addrs, " "), time.Since(start).Seconds())
}

func (e *sharedEnv) plan(ctx context.Context) *planreview.Result {
	e.t.Helper()
	r, err := planreview.Run(ctx, planreview.Options{Dir: e.dir, ExecPath: e.execPath,
		VarFiles: []string{e.varsFile}, SkipInit: true, Render: planreview.RenderOptions{Title: "terraform/envs/shared"}})
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return r
}

type outputs struct {
	url, token, dsn, redisAddr, redisPassword string
}

func (e *sharedEnv) outputs(ctx context.Context) outputs {
	e.t.Helper()
	m, err := e.tf.Output(ctx)
	if err != nil {
		e.t.Fatalf("terraform output: %v", err)
	}
	str := func(name string) string {
		var s string
		if om, ok := m[name]; !ok || json.Unmarshal(om.Value, &s) != nil {
			e.t.Fatalf("output %s missing or not a string", name)
		}
		return s
	}
	if !m["api_token"].Sensitive || !m["postgres_dsn"].Sensitive || !m["redis_password"].Sensitive {
		e.t.Errorf("secret outputs must be marked sensitive")
	}
	return outputs{
		url:           str("datastorage_url"),
		token:         str("api_token"),
		dsn:           str("postgres_dsn"),
		redisAddr:     str("redis_addr"),
		redisPassword: str("redis_password"),
	}
}

func (e *sharedEnv) containerID(ctx context.Context, service string) string {
	e.t.Helper()
	out, err := exec.CommandContext(ctx, "docker", "inspect", "--format", "{{.Id}}", e.prefix+"-"+service).Output()
	if err != nil {
		e.t.Fatalf("docker inspect %s: %v", service, err)
	}
	return strings.TrimSpace(string(out))
}

// dsenvPlan runs `dsenv plan --detailed-exitcode` as a user would and returns its output
// and exit code.
func (e *sharedEnv) dsenvPlan(ctx context.Context, dsenv string) (string, int) {
	e.t.Helper()
	cmd := exec.CommandContext(ctx, dsenv, "plan", "--detailed-exitcode", "--plugin-dir", e.mirror, "-var-file", e.varsFile, e.dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		e.t.Fatalf("dsenv plan: %v", err)
	}
	if code == 1 {
		e.t.Logf("dsenv plan stderr:\n%s", stderr.String())
	}
	for _, secret := range []string{"postgres_password", "redis_password", "api_token"} {
		if v := e.vars[secret].(string); strings.Contains(stdout.String(), v) || strings.Contains(stderr.String(), v) {
			e.t.Errorf("dsenv plan printed the value of %s", secret)
		}
	}
	return stdout.String(), code
}

// remove takes the environment down the way the README says: forget the protected volumes,
// destroy the rest, then remove the volumes by hand.
func (e *sharedEnv) remove(ctx context.Context) {
	e.t.Helper()
	for _, addr := range []string{"docker_volume.postgres_data", "docker_volume.redis_data"} {
		if err := e.tf.StateRm(ctx, addr); err != nil {
			e.t.Fatalf("terraform state rm %s: %v", addr, err)
		}
	}
	if err := e.tf.Destroy(ctx, tfexec.VarFile(e.varsFile)); err != nil {
		e.t.Fatalf("terraform destroy after state rm: %v", err)
	}
	for _, v := range []string{e.prefix + "-postgres-data", e.prefix + "-redis-data"} {
		if out, err := exec.CommandContext(ctx, "docker", "volume", "rm", v).CombinedOutput(); err != nil {
			e.t.Errorf("docker volume rm %s: %v: %s", v, err, out)
		}
	}
	if left := labelled.Objects(e.t, ctx, "dsenv.env="+e.prefix); len(left) > 0 {
		e.t.Errorf("left behind after removal: %v", left)
	}
}

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
				"event_data":      map[string]any{"event_type": "gateway.signal.received", "signal_name": fmt.Sprintf("signal-%04d", i)},
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
	var conn *pgx.Conn
	var err error
	for i := 0; i < 40; i++ { // PostgreSQL may still be starting right after a replacement
		if conn, err = pgx.Connect(ctx, dsn); err == nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE correlation_id = $1", correlation).Scan(&n); err != nil {
		t.Fatalf("count rows: %v", err)
	}
	return n
}

var dsenvBinary string

// buildDsenv builds cmd/dsenv once per test process.
func buildDsenv(ctx context.Context, t *testing.T) string {
	t.Helper()
	if dsenvBinary != "" {
		return dsenvBinary
	}
	bin := filepath.Join(t.TempDir(), "dsenv")
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

// freePorts returns n distinct ports that were free a moment ago on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
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
