package tfharness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/cache"
)

// TestingT is what New needs of a test: *testing.T, *testing.B and GinkgoT() satisfy it.
type TestingT interface {
	Helper()
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Failed() bool
	Cleanup(func())
}

// Env is a running environment: the root module applied in a private workspace, with
// typed outputs. Fields are what a test needs: env.Postgres.DSN, env.Redis.Addr,
// env.DataStorage.URL, env.Token.
type Env struct {
	Outputs
	ID      string    // also the name prefix of every Docker object: t-ab12cd34
	Owner   Owner     // the dsenv.owner label
	Created time.Time // the dsenv.created label
	Dir     string    // working directory of the root module (state, variables)
	Timings Timings

	cfg     *config
	proc    *process
	tmpl    *template
	tf      *tfexec.Terraform
	dataDir string
	secrets map[string]string // variable name -> value; never logged
	// terratestVars are the variables handed to terratest (TerratestOptions).
	terratestVars map[string]any
	tfOut         syncBuffer // Terraform's output, redacted when written anywhere

	mu      sync.Mutex // serialises Down and keep
	down    bool
	kept    bool
	aborted atomic.Bool // an apply was cancelled while it ran: objects may still appear
	cancel  context.CancelFunc

	reattach        tfexec.ReattachInfo // the environment's own provider process, if any
	providerStopped chan struct{}       // closed once that process exited
}

// secretVars are generated per environment unless given with WithSensitiveVar.
var secretVars = []string{"postgres_password", "redis_password", "api_token"}

// New brings up an environment for the test t and registers its teardown with
// t.Cleanup: logs are dumped first when the test failed, and DSENV_KEEP=1 keeps a failed
// environment. A failure to come up fails the test with the environment's id, the step
// and the containers' own log lines.
func New(t TestingT, opts ...Option) *Env {
	t.Helper()
	opts = append([]Option{WithLogger(t), WithTestName(t.Name())}, opts...)
	ctx := context.Background()
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		// Give up before `go test -timeout` panics, which would skip every Cleanup.
		if d, ok := dt.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d.Add(-15*time.Second))
			defer cancel()
		}
	}
	env, err := Up(ctx, opts...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if err := env.finish(t.Failed()); err != nil {
			t.Errorf("%v", err)
		}
	})
	return env
}

// Up brings up an environment; the caller must call Down (TestMain, Ginkgo's
// SynchronizedBeforeSuite/AfterSuite). On error nothing is left behind unless
// DSENV_KEEP asks for it, and the error names the environment and the step.
func Up(ctx context.Context, opts ...Option) (*Env, error) {
	cfg := newConfig(opts)
	if cfg.err != nil {
		return nil, fmt.Errorf("tfharness: %w", cfg.err)
	}
	if cfg.logger == nil {
		cfg.logger = stderrLogger{}
	}
	e, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	if err := e.up(ctx); err != nil {
		err = fmt.Errorf("env %s: %w", e.ID, err)
		e.failed(err)
		return nil, err
	}
	e.logf("env %s: ready in %s (network %s, DS %s)", e.ID, round(e.Timings.Up()), e.Network, e.DataStorage.URL)
	return e, nil
}

func newEnv(cfg *config) (*Env, error) {
	id, err := newID(cfg.idPrefix)
	if err != nil {
		return nil, err
	}
	e := &Env{ID: id, Owner: CurrentOwner(), Created: time.Now(), cfg: cfg, secrets: map[string]string{}}
	for _, name := range secretVars {
		if e.secrets[name], err = randomHex(16); err != nil {
			return nil, err
		}
	}
	maps.Copy(e.secrets, cfg.sensitive)
	return e, nil
}

// validPrefix is the root module's rule for name_prefix.
var validPrefix = regexp.MustCompile(`^[a-z][a-z0-9-]{1,30}$`)

// newID returns prefix-xxxxxxxx with 8 random lower-case letters and digits.
func newID(prefix string) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	id := prefix + "-" + string(b)
	if !validPrefix.MatchString(id) {
		return "", fmt.Errorf("id prefix %q: the id %q must match %s", prefix, id, validPrefix)
	}
	return id, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// labels are the labels of every Docker object of the environment.
func (e *Env) labels() map[string]string {
	l := maps.Clone(e.cfg.labels)
	l[LabelEnv] = e.ID
	l[LabelOwner] = e.Owner.String()
	l[LabelCreated] = strconv.FormatInt(e.Created.Unix(), 10)
	return l
}

// vars are the non-secret variables of the root module.
func (e *Env) vars() map[string]any {
	v := map[string]any{
		"owner":   e.Owner.String(),
		"created": strconv.FormatInt(e.Created.Unix(), 10),
	}
	if len(e.cfg.labels) > 0 {
		v["labels"] = maps.Clone(e.cfg.labels)
	}
	maps.Copy(v, e.cfg.vars)
	v["name_prefix"] = e.ID
	return v
}

// prepareProcess does what every environment of the process needs before its own steps:
// a Docker daemon that answers, the shared process state, the reaper and signal handling.
func (e *Env) prepareProcess(ctx context.Context) (*docker, error) {
	d, err := dockerFromEnv()
	if err != nil {
		return nil, fmt.Errorf("docker: %w", err)
	}
	if err := d.ping(ctx); err != nil {
		return nil, fmt.Errorf("docker: %w", err)
	}
	if e.proc, err = sharedProcess(); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if err := startReaper(e.proc); err != nil {
		return nil, fmt.Errorf("reaper: %w", err)
	}
	handleSignals()
	return d, nil
}

// ownNetwork creates the environment's network through the Docker API (no 2 s waits of
// the provider's network resource) when the root module accepts one, and names it in vars.
func (e *Env) ownNetwork(ctx context.Context, d *docker, vars map[string]any) error {
	if !e.cfg.ownNetwork || !e.tmpl.declares("network_name") {
		return nil
	}
	name := e.ID + "-net"
	if _, err := d.createNetwork(ctx, name, e.labels()); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	vars["network_name"] = name
	return nil
}

// up runs every step; each error says which.
func (e *Env) up(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	e.mu.Lock()
	e.cancel = cancel
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.cancel = nil
		e.mu.Unlock()
		cancel()
	}()
	track(e)

	d, err := e.prepareProcess(ctx)
	if err != nil {
		return err
	}
	sweepOnStart()

	start := time.Now()
	var first bool
	if e.tmpl, first, err = e.proc.template(ctx, e.cfg); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	// The first environment pays for the shared init; one that started while it ran, for
	// the wait; later ones nothing.
	switch {
	case first:
		e.Timings.Init = e.tmpl.initTime
	case start.Before(e.tmpl.ready):
		e.Timings.Init = e.tmpl.ready.Sub(start)
	}
	start = time.Now()
	prov := e.startProvider(ctx)
	defer func() {
		// Not on the way to ready: Down waits for it.
		p := <-prov
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			p.stop()
		}()
		e.mu.Lock()
		e.providerStopped = stopped
		e.mu.Unlock()
	}()

	if e.Dir, e.dataDir, err = e.proc.workspace(e.tmpl, e.ID, true); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	vars := e.vars()
	for name, v := range fastDefaults {
		if _, set := e.cfg.vars[name]; !set && e.tmpl.declares(name) {
			vars[name] = v
		}
	}
	t0 := time.Now()
	if err := e.ownNetwork(ctx, d, vars); err != nil {
		return err
	}
	e.Timings.Network = time.Since(t0)
	if err := e.writeVars(vars); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	if e.tf, err = e.newTerraform(); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	e.Timings.Copy = time.Since(start) - e.Timings.Network

	// The outputs and the wait for /readyz run while the containers are still watched:
	// with datastorage_wait = false the apply returns once the DS started, and a DS that
	// then exits (e.g. Redis unreachable after its connect retries) fails Up at once with
	// its own log lines.
	t := time.Now()
	p := <-prov
	prov <- p // for the deferred stop
	if p != nil {
		e.reattach = p.info
	}
	var ready time.Time
	err = e.apply(ctx, func(ctx context.Context) error {
		ready = time.Now()
		e.Timings.Apply = ready.Sub(t)
		out, err := readOutputs(ctx, e.tf, filepath.Join(e.Dir, "terraform.tfstate"))
		if err != nil {
			return fmt.Errorf("outputs: %w", err)
		}
		e.Outputs = *out
		if err := waitReady(ctx, readyURL(e.DataStorage)); err != nil {
			return fmt.Errorf("ready: %w", err)
		}
		return nil
	})
	if ready.IsZero() {
		e.Timings.Apply = time.Since(t)
	} else {
		e.Timings.Ready = time.Since(ready)
	}
	if err != nil {
		var ae *afterError
		if errors.As(err, &ae) {
			return ae.err
		}
		return fmt.Errorf("apply: %w", err)
	}
	return nil
}

// fastDefaults are the root module variables the harness sets unless the caller does
// (WithVars), when the module declares them: no DS preflight job and no provider wait
// for the DS healthcheck. The harness's own /readyz poll, run while it watches the
// containers, does both jobs faster (see apply).
var fastDefaults = map[string]any{
	"datastorage_preflight": false,
	"datastorage_wait":      false,
}

// startProvider starts the environment's own provider process (see provider) in the
// background. The channel yields it, or nil when the harness does not reattach (OpenTofu,
// DSENV_REATTACH=0) or it could not start: Terraform then launches the provider itself.
func (e *Env) startProvider(ctx context.Context) chan *provider {
	ch := make(chan *provider, 1)
	if !e.cfg.reattach || e.cfg.binary != Terraform {
		ch <- nil
		return ch
	}
	bin := cache.ProviderBinary(e.proc.cacheDir, providerHost(e.cfg.binary))
	env := terraformEnv(map[string]string{"DSENV_ENV": e.ID, "DSENV_OWNER": e.Owner.String(),
		// Its plugin socket goes in the process's directory, which the reaper removes: a
		// provider killed outright leaves no socket file in /tmp.
		"PLUGIN_UNIX_SOCKET_DIR": e.proc.base})
	go func() {
		p, err := startProvider(ctx, bin, providerHost(e.cfg.binary)+"/kreuzwerker/docker", env)
		if err != nil {
			e.logf("env %s: provider: %v (Terraform starts its own)", e.ID, err)
		}
		ch <- p
	}()
	return ch
}

// writeVars writes the variables as *.auto.tfvars.json into the working directory, so
// no value is ever in argv, and a kept environment can be planned in place. Secrets go
// to their own 0600 file in the 0700 workspace: terraform-exec refuses TF_VAR_* in
// SetEnv, and the state beside it holds the same values anyway.
func (e *Env) writeVars(vars map[string]any) error {
	b, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(e.Dir, "dsenv.auto.tfvars.json"), b, 0o600); err != nil {
		return err
	}
	s, err := json.Marshal(e.secrets)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(e.Dir, "secrets.auto.tfvars.json"), s, 0o600)
}

func (e *Env) tfEnv() map[string]string {
	return terraformEnv(map[string]string{
		"TF_CLI_CONFIG_FILE": e.proc.cliConfig,
		"TF_DATA_DIR":        e.dataDir,
		// Markers the reaper and an aborted apply use to find stray Terraform and
		// provider processes.
		"DSENV_ENV":   e.ID,
		"DSENV_OWNER": e.Owner.String(),
	})
}

func (e *Env) newTerraform() (*tfexec.Terraform, error) {
	tf, err := tfexec.NewTerraform(e.Dir, e.tmpl.execPath)
	if err != nil {
		return nil, err
	}
	if err := tf.SetEnv(e.tfEnv()); err != nil {
		return nil, err
	}
	// On cancellation Terraform gets SIGINT; we tear down by label anyway, so do not
	// wait for a graceful stop.
	if err := tf.SetWaitDelay(500 * time.Millisecond); err != nil {
		return nil, err
	}
	var w interface{ Write([]byte) (int, error) } = &e.tfOut
	if e.cfg.verbose {
		w = multiWriter{&e.tfOut, &logWriter{logf: e.logf, prefix: e.ID + ": ", redact: e.redact}}
	}
	tf.SetStdout(w)
	tf.SetStderr(w)
	return tf, nil
}

// Down tears the environment down (TeardownFast: by label through the Docker API;
// TeardownDestroy: terraform destroy first) and removes its workspace. It is safe to
// call more than once and from several goroutines.
func (e *Env) Down(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down || e.kept {
		return nil
	}
	e.down = true
	defer untrack(e)
	if e.providerStopped != nil {
		select {
		case <-e.providerStopped:
		case <-ctx.Done():
		}
	}
	start := time.Now()
	err := e.destroy(ctx)
	e.Timings.Destroy = time.Since(start)
	if err != nil {
		return fmt.Errorf("env %s: destroy: %w", e.ID, err)
	}
	return nil
}

// finish is New's cleanup: dump logs on failure, keep or tear down, report timings.
func (e *Env) finish(failed bool) error {
	if failed && !interrupted.Load() {
		e.DumpLogs(context.Background(), "test failed")
	}
	if e.shouldKeep(failed) {
		e.keep()
		e.report(failed)
		return nil
	}
	defer awaitSignalTeardown()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := e.Down(ctx)
	e.report(failed)
	return err
}

// failed handles an Up that did not finish: dump logs, then keep or tear down.
func (e *Env) failed(err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e.aborted.Store(true)
	}
	if !interrupted.Load() && e.proc != nil {
		e.DumpLogs(context.Background(), "up failed")
	}
	if e.proc != nil && e.shouldKeep(true) {
		e.keep()
		return
	}
	defer awaitSignalTeardown()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if derr := e.Down(ctx); derr != nil {
		e.logf("%v", derr)
	}
	e.report(true)
}

func (e *Env) shouldKeep(failed bool) bool {
	if interrupted.Load() {
		return false
	}
	return e.cfg.keep == KeepAlways || (failed && e.cfg.keep == KeepOnFailure)
}

// keep leaves the environment running and says how to reach and remove it.
func (e *Env) keep() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down || e.kept {
		return
	}
	e.kept = true
	untrack(e)
	reaperKeep(e.ID)
	if err := markKept(e.ID, fmt.Sprintf("kept %s by %s (%s)", time.Now().Format(time.RFC3339), e.Owner, e.cfg.testName)); err != nil {
		e.logf("env %s: cannot record it as kept (a sweep may remove it): %v", e.ID, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "env %s: kept (DSENV_KEEP=%s); it stays until you remove it:\n", e.ID, e.cfg.keep)
	if e.DataStorage.URL != "" {
		fmt.Fprintf(&b, "  DS:        %s  (health %s)\n", e.DataStorage.URL, e.DataStorage.HealthURL)
		fmt.Fprintf(&b, "  Postgres:  %s:%d  user %s  db %s\n", e.Postgres.Host, e.Postgres.Port, e.Postgres.User, e.Postgres.Database)
		fmt.Fprintf(&b, "  Redis:     %s\n", e.Redis.Addr)
	}
	fmt.Fprintf(&b, "  secrets:   %s (0600)\n", filepath.Join(e.Dir, "secrets.auto.tfvars.json"))
	fmt.Fprintf(&b, "  outputs:   cd %s && TF_DATA_DIR=%s TF_CLI_CONFIG_FILE=%s %s output\n",
		e.Dir, e.dataDir, e.proc.cliConfig, e.cfg.binary)
	fmt.Fprintf(&b, "  logs:      go run github.com/dsenv/dsenv/cmd/dsenv logs --env %s\n", e.ID)
	fmt.Fprintf(&b, "  remove:    go run github.com/dsenv/dsenv/cmd/dsenv sweep --env %s\n", e.ID)
	fmt.Fprintf(&b, "         or: docker rm -f -v $(docker ps -aq --filter label=%s=%s); docker network prune -f --filter label=%s=%s; docker volume prune -f --filter label=%s=%s",
		LabelEnv, e.ID, LabelEnv, e.ID, LabelEnv, e.ID)
	e.logf("%s", b.String())
}

// report prints the one-line timing summary and appends it to the timings file.
func (e *Env) report(failed bool) {
	if e.terratestVars != nil {
		e.logf("env %s: prepared for terratest in %s, removed in %s", e.ID, round(e.Timings.Copy), round(e.Timings.Destroy))
		return
	}
	e.logf("env %s: %s", e.ID, e.Timings)
	if e.cfg.timingsFile == "" {
		return
	}
	t := e.Timings
	rec := timingsRecord{
		Env: e.ID, Test: e.cfg.testName, Binary: string(e.cfg.binary), Teardown: string(e.cfg.teardown),
		Failed: failed, Start: e.Created.UTC().Format(time.RFC3339),
		CopyS: t.Copy.Seconds(), InitS: t.Init.Seconds(), NetworkS: t.Network.Seconds(),
		ApplyS: t.Apply.Seconds(), ReadyS: t.Ready.Seconds(), UpS: t.Up().Seconds(),
		DestroyS: t.Destroy.Seconds(), Retries: t.Retries, Parallel: trackedPeak(),
		Timestamp: time.Now().Unix(),
	}
	if err := appendTimings(e.cfg.timingsFile, rec); err != nil {
		e.logf("env %s: timings file: %v", e.ID, err)
	}
}

func (e *Env) logf(format string, args ...any) {
	e.cfg.logger.Logf("dsenv: "+format, args...)
}

// redact replaces every secret of the environment in s.
func (e *Env) redact(s string) string {
	for _, v := range e.secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// String describes the environment without secrets.
func (e *Env) String() string {
	return fmt.Sprintf("env %s (postgres %s:%d, redis %s, DS %s)",
		e.ID, e.Postgres.Host, e.Postgres.Port, e.Redis.Addr, e.DataStorage.URL)
}

type stderrLogger struct{}

func (stderrLogger) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// syncBuffer collects a Terraform process's output; safe for concurrent writers.
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

type multiWriter []interface{ Write([]byte) (int, error) }

func (m multiWriter) Write(p []byte) (int, error) {
	for _, w := range m {
		_, _ = w.Write(p)
	}
	return len(p), nil
}

// logWriter sends complete lines to a logger.
type logWriter struct {
	mu     sync.Mutex
	logf   func(string, ...any)
	prefix string
	redact func(string) string
	buf    []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.logf("%s%s", w.prefix, w.redact(string(w.buf[:i])))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}
