package tfharness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"time"
)

// A warm pool keeps spare environments applied in the background (WithPool, DSENV_POOL):
// New takes a ready one and a new spare starts behind it, so a test waits only when the
// pool has run dry.
//
// A pool serves one shape of environment: it is keyed by a hash of everything in the
// configuration that decides what is applied (binary, module tree and root, variables,
// sensitive variables, labels, id prefix, network and provider handling, teardown). A test
// asking for other variables or images gets a pool of its own and never a spare of another
// shape. What only concerns the test (logger, test name, keep, artifacts, timeout, timings
// file) is taken from the test's own options when the spare is handed over.
//
// Spares are environments of the process like any other: their own id, workspace and
// generated secrets, the process's owner label, tracked for SIGINT/SIGTERM teardown. Go has
// no process-exit hook, so spares nobody took are removed (1) by ClosePools, which a
// TestMain calls after m.Run; (2) otherwise by the reaper when the process exits, however
// it exits: it removes everything labelled with the process as owner; (3) with
// DSENV_REAPER=0, by the sweep the next harness start runs.

var (
	poolsMu sync.Mutex
	pools   = map[string]*pool{}
)

type pool struct {
	key    string
	size   int     // spares kept unclaimed
	cfg    *config // the first requester's configuration; spares log to a buffer
	mu     sync.Mutex
	spares []*spare // in start order
	closed bool
}

// spare is an environment of the pool, coming up or ready.
type spare struct {
	env     *Env
	log     *bufferLogger
	done    chan struct{} // closed when up finished; err is then set
	err     error
	claimed bool
}

// bufferLogger keeps a spare's messages until a test takes it.
type bufferLogger struct {
	mu    sync.Mutex
	lines []string
}

func (b *bufferLogger) Logf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, fmt.Sprintf(format, args...))
}

func (b *bufferLogger) flush(to Logger) {
	b.mu.Lock()
	lines := b.lines
	b.lines = nil
	b.mu.Unlock()
	for _, l := range lines {
		to.Logf("%s", l)
	}
}

// poolKey hashes the configuration that determines the environment. Sensitive values
// enter only through the hash.
func poolKey(cfg *config) (string, error) {
	tr, err := cfg.tree()
	if err != nil {
		return "", err
	}
	shape := struct {
		Binary     string
		Tree, Root string
		Vars       map[string]any
		Sensitive  map[string]string
		Labels     map[string]string
		IDPrefix   string
		OwnNetwork bool
		Reattach   bool
		Teardown   string
		Retryable  []string
		MaxRetries int
	}{
		Binary: string(cfg.binary), Tree: tr.hash, Root: cfg.moduleRoot, Vars: cfg.vars,
		Sensitive: cfg.sensitive, Labels: cfg.labels, IDPrefix: cfg.idPrefix,
		OwnNetwork: cfg.ownNetwork, Reattach: cfg.reattach, Teardown: string(cfg.teardown),
		MaxRetries: cfg.maxRetries,
	}
	for _, r := range cfg.retryable {
		shape.Retryable = append(shape.Retryable, r.re.String())
	}
	slices.Sort(shape.Retryable)  // the default rules come from a map
	b, err := json.Marshal(shape) // map keys are sorted: equal configurations, equal bytes
	if err != nil {
		return "", fmt.Errorf("pool key: %w", err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// poolFor returns the pool of cfg's shape, creating it; a larger size asked later grows it.
func poolFor(cfg *config) (*pool, error) {
	key, err := poolKey(cfg)
	if err != nil {
		return nil, err
	}
	poolsMu.Lock()
	defer poolsMu.Unlock()
	p, ok := pools[key]
	if !ok {
		pc := *cfg
		pc.vars, pc.sensitive, pc.labels = maps.Clone(cfg.vars), maps.Clone(cfg.sensitive), maps.Clone(cfg.labels)
		pc.testName = "pool-spare"
		p = &pool{key: key, size: cfg.pool, cfg: &pc}
		pools[key] = p
	}
	p.mu.Lock()
	p.size = max(p.size, cfg.pool)
	p.mu.Unlock()
	return p, nil
}

// fill starts spares until size of them are unclaimed. The caller holds p.mu.
func (p *pool) fill() {
	unclaimed := 0
	for _, s := range p.spares {
		if !s.claimed {
			unclaimed++
		}
	}
	for ; unclaimed < p.size && !p.closed; unclaimed++ {
		p.spares = append(p.spares, p.start())
	}
}

// start brings up one spare in the background.
func (p *pool) start() *spare {
	cfg := *p.cfg
	s := &spare{log: &bufferLogger{}, done: make(chan struct{})}
	cfg.logger = s.log
	e, err := newEnv(&cfg)
	if err != nil {
		s.err = err
		close(s.done)
		return s
	}
	s.env = e
	go func() {
		defer close(s.done)
		if err := e.up(context.Background()); err != nil {
			err = envError(e.ID, err)
			e.failed(err)
			s.err = err
			return
		}
		e.logf("env %s: spare ready in %s (network %s, DS %s)", e.ID, round(e.Timings.Up()), e.Network, e.DataStorage.URL)
	}()
	return s
}

// take hands out the oldest spare, waiting for it when it is still coming up, and starts
// a new one behind it. cfg is the taker's configuration (same shape): its logger, test
// name, keep and artifact settings apply to the environment from now on.
func (p *pool) take(ctx context.Context, cfg *config) (*Env, error) {
	t0 := time.Now()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("tfharness: the pool is closed (ClosePools ran)")
	}
	var s *spare
	// Prefer a spare that is ready already, else the oldest.
	for _, c := range p.spares {
		if c.claimed {
			continue
		}
		select {
		case <-c.done:
			s = c
		default:
		}
		if s != nil {
			break
		}
	}
	if s == nil {
		for _, c := range p.spares {
			if !c.claimed {
				s = c
				break
			}
		}
	}
	// The first test (or one that found the pool empty) gets an environment of its own
	// first; the spares start once it is ready, so that they do not slow it down.
	empty := s == nil
	if empty {
		s = p.start()
		p.spares = append(p.spares, s)
	}
	s.claimed = true
	if !empty {
		p.fill()
	}
	p.mu.Unlock()

	select {
	case <-s.done:
	case <-ctx.Done():
		p.mu.Lock()
		s.claimed = false
		p.mu.Unlock()
		return nil, fmt.Errorf("tfharness: waiting for a spare of the pool: %w", ctx.Err())
	}
	p.mu.Lock()
	p.spares = slices.DeleteFunc(p.spares, func(c *spare) bool { return c == s })
	p.fill()
	p.mu.Unlock()

	s.log.flush(cfg.logger)
	if s.err != nil {
		return nil, s.err
	}
	e := s.env
	e.mu.Lock()
	e.cfg = cfg
	e.pooled = true
	e.Timings.Wait = time.Since(t0)
	e.mu.Unlock()
	e.logf("env %s: taken from the pool after %s", e.ID, round(e.Timings.Wait))
	return e, nil
}

// close stops the pool and removes its unclaimed spares (those coming up are cancelled).
func (p *pool) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	var mine []*spare
	for _, s := range p.spares {
		if !s.claimed {
			mine = append(mine, s)
		}
	}
	p.spares = slices.DeleteFunc(p.spares, func(s *spare) bool { return !s.claimed })
	p.mu.Unlock()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, s := range mine {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.env == nil {
				return
			}
			s.env.abort()
			select {
			case <-s.done:
			case <-ctx.Done():
			}
			if err := s.env.Down(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Removals of pooled environments whose test ended (New's cleanup starts them).
var (
	pendingDowns sync.WaitGroup
	pendingMu    sync.Mutex
	pendingErrs  []error
)

// downInBackground removes a pooled environment after its test without holding the test
// up; ClosePools waits for it and returns its error.
func downInBackground(e *Env, failed bool) {
	// The test's logger must not be used once the test has ended.
	e.mu.Lock()
	c := *e.cfg
	c.logger = discardLogger{}
	e.cfg = &c
	e.mu.Unlock()
	pendingDowns.Add(1)
	go func() {
		defer pendingDowns.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err := e.Down(ctx)
		e.report(failed)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dsenv: %v\n", err)
			pendingMu.Lock()
			pendingErrs = append(pendingErrs, err)
			pendingMu.Unlock()
		}
	}()
}

// ClosePools removes every spare environment of the process's pools that no test took,
// waits for the removals of the pooled environments whose tests ended (New removes those in
// the background), returns their errors, and stops the pools (a later New with WithPool
// fails). Call it from TestMain after m.Run; without it the reaper removes whatever is
// left when the process exits.
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		if err := tfharness.ClosePools(context.Background()); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//		}
//		os.Exit(code)
//	}
func ClosePools(ctx context.Context) error {
	poolsMu.Lock()
	ps := slices.Collect(maps.Values(pools))
	poolsMu.Unlock()
	var errs []error
	for _, p := range ps {
		if err := p.close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	done := make(chan struct{})
	go func() {
		pendingDowns.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("tfharness: removals of used pooled environments still running: %w", ctx.Err()))
	}
	pendingMu.Lock()
	errs = append(errs, pendingErrs...)
	pendingErrs = nil
	pendingMu.Unlock()
	return errors.Join(errs...)
}

type discardLogger struct{}

func (discardLogger) Logf(string, ...any) {}
