package tfharness

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/owner"
	"github.com/dsenv/dsenv/internal/secret"
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
	Owner   string    // the dsenv.owner label: <pid>@<host> of the process that owns it
	Created time.Time // the dsenv.created label
	Dir     string    // working directory of the root module (state, variables)
	Timings Timings

	cfg     *config
	proc    *process
	tmpl    *template
	tf      *tfexec.Terraform
	dataDir string
	secrets map[string]string // variable name -> value; never logged
	// tokensExpire: with the kube backend, when env.Token and env.DeniedToken expire.
	tokensExpire time.Time
	signing      chan signingPair // the signing pair being generated, until awaitSigning
	// runnerVars are the variables handed to another runner (package tfharness/terratest).
	runnerVars map[string]any
	tfOut      syncBuffer // Terraform's output, redacted when written anywhere

	attached bool // from Attach or Shared: Down leaves the environment alone

	mu      sync.Mutex // serialises Down and keep
	down    bool
	kept    bool
	aborted atomic.Bool // an apply was cancelled while it ran: objects may still appear
	cancel  context.CancelFunc

	reattach        tfexec.ReattachInfo // the environment's own provider process, if any
	providerStopped chan struct{}       // closed once that process exited
	pooled          bool                // a spare of a pool (WithPool), handed to a test
}

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
// DSENV_KEEP asks for it, and the error names the environment and the step. With
// WithPool (DSENV_POOL) it takes a spare of the pool of its configuration instead.
func Up(ctx context.Context, opts ...Option) (*Env, error) {
	cfg := newConfig(opts)
	if cfg.err != nil {
		return nil, fmt.Errorf("tfharness: %w", cfg.err)
	}
	if cfg.logger == nil {
		cfg.logger = stderrLogger{}
	}
	if cfg.pool > 0 {
		p, err := poolFor(cfg)
		if err != nil {
			return nil, fmt.Errorf("tfharness: %w", err)
		}
		return p.take(ctx, cfg)
	}
	e, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	if err := e.up(ctx); err != nil {
		err = envError(e.ID, err)
		e.failed(err)
		return nil, err
	}
	e.logf("env %s: ready in %s (network %s, DS %s)", e.ID, round(e.Timings.Up()), e.Network, e.DataStorage.URL)
	return e, nil
}

func newEnv(cfg *config) (*Env, error) {
	id, err := cfg.envID, error(nil)
	if id == "" {
		if id, err = newID(cfg.idPrefix); err != nil {
			return nil, err
		}
	}
	e := &Env{Outputs: Outputs{ID: id}, Owner: owner.Current().String(), Created: time.Now(), cfg: cfg}
	if cfg.ownerLabel != "" {
		e.Owner = cfg.ownerLabel
	}
	if e.secrets, err = secret.GenerateTokens(); err != nil {
		return nil, err
	}
	maps.Copy(e.secrets, cfg.sensitive)
	// The RSA signing pair takes a moment (0.05-0.3 s of CPU): generated while init and the
	// provider start, and only for a DS that loads it; the reference DS does not.
	img, _ := cfg.vars["datastorage_image"].(string)
	if _, given := cfg.sensitive[secret.Signing[0]]; !given && img != "" && !referenceDS.MatchString(img) {
		e.signing = make(chan signingPair, 1)
		go func() {
			var p signingPair
			p.cert, p.key, p.err = secret.SigningCert()
			e.signing <- p
		}()
	}
	return e, nil
}

type signingPair struct {
	cert, key string
	err       error
}

// awaitSigning adds the signing pair generated in the background to the secrets.
func (e *Env) awaitSigning() error {
	if e.signing == nil {
		return nil
	}
	p := <-e.signing
	e.signing = nil
	if p.err != nil {
		return p.err
	}
	e.secrets[secret.Signing[0]], e.secrets[secret.Signing[1]] = p.cert, p.key
	return nil
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
