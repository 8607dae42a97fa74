package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dsenv/dsenv/tfharness"
)

// The suite scenario: a suite of N tests run one after the other, each needing a clean DS
// stack, run the ways a suite author would:
//
//	dsenv-pool               tfharness.Up with WithPool (spares applied in the background); the used
//	                         environment removed in the background, as tfharness.New does with a pool
//	dsenv-reset              one dsenv environment; before each test env.Reset (tfharness)
//	testcontainers-fresh     a new testcontainers-go stack per test, torn down after it
//	testcontainers-snapshot  one testcontainers-go stack; before each test its postgres module's
//	                         Restore (of a Snapshot taken after the migrations, before the DS
//	                         connects) and a Redis FLUSHALL
//	compose-fresh            a new compose stack per test, torn down after it
//
// A test's wait is from its start until its clean stack is ready (the stack's /readyz
// answered 200); then the test posts a Gateway batch and reads back exactly its events
// (which fails when the stack was not clean). The suite's time is from the first test's
// start until everything of the suite is removed (a shared stack's setup and teardown, the
// pool's drain included).

// suiteWays are the ways, in interleaving order.
var suiteWays = []string{"dsenv-pool", "dsenv-reset", "testcontainers-fresh", "testcontainers-snapshot", "compose-fresh"}

// SuiteSample is one run of the suite in one way.
type SuiteSample struct {
	Way    string
	Round  int
	Tests  int
	Suite  time.Duration   // the whole suite
	Waits  []time.Duration // per test: until its clean stack was ready
	Bodies []time.Duration // per test: the test's own work
	CPU    time.Duration   // client CPU (this process and its children) over the suite
	Failed int             // tests that failed
	Err    string          // first failure
	Left   int             // labelled objects left afterwards (must be 0)
}

type suiteRunner struct {
	b        *bencher
	ds       *dsenvStack
	tc       tcStack
	cp       composeStack
	tests    int
	poolSize int
}

// apiEnv is an environment a test talks to.
type apiEnv interface {
	APIURL() string
	APIToken() string
}

func (r *suiteRunner) run(way string, round int) SuiteSample {
	b := r.b
	smp := SuiteSample{Way: way, Round: round, Tests: r.tests}
	b.seq++
	suiteID := fmt.Sprintf("bench-su-%s-%d", b.runID, b.seq)
	ctx := b.ctx
	fail := func(i int, err error) {
		smp.Failed++
		if smp.Err == "" {
			smp.Err = fmt.Sprintf("test %d: %v", i, err)
		}
	}
	var specs []*Spec
	spec := func() *Spec {
		b.seq++
		sp, err := NewSpec(b.tmp, b.runID, fmt.Sprintf("%s-%d", suiteID, b.seq), b.img)
		if err != nil {
			fatal(err)
		}
		specs = append(specs, sp)
		return sp
	}
	// test runs one test: acquire its clean stack (timed), the body, then release
	// (tear down), which runs whenever acquire returned one, as a t.Cleanup would.
	test := func(i int, acquire func() (apiEnv, func() error, error)) {
		t0 := time.Now()
		e, release, err := acquire()
		smp.Waits = append(smp.Waits, time.Since(t0))
		if err == nil {
			t1 := time.Now()
			err = gatewayTest(ctx, e)
			smp.Bodies = append(smp.Bodies, time.Since(t1))
		}
		if err != nil {
			fail(i, err)
		}
		if release != nil {
			if err := release(); err != nil {
				fail(i, fmt.Errorf("teardown: %w", err))
			}
		}
	}
	dctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cpu0 := cpuTime()
	start := time.Now()
	switch way {
	case "dsenv-pool":
		// As tfharness.New does with a pool: the used environment is removed in the
		// background, and ClosePools (with the wait for those removals) ends the suite.
		opts := r.ds.options(b.runID, suiteID, tfharness.WithPool(r.poolSize))
		var downs sync.WaitGroup
		var downErrs []error
		var mu sync.Mutex
		for i := 0; i < r.tests && ctx.Err() == nil; i++ {
			test(i, func() (apiEnv, func() error, error) {
				e, err := tfharness.Up(ctx, opts...)
				if err != nil {
					return nil, nil, err
				}
				env := &dsenvEnv{env: e}
				release := func() error {
					downs.Add(1)
					go func() {
						defer downs.Done()
						if err := e.Down(dctx); err != nil {
							mu.Lock()
							downErrs = append(downErrs, err)
							mu.Unlock()
						}
					}()
					return nil
				}
				return env, release, waitReady(ctx, env.HealthURL(), 90*time.Second)
			})
		}
		downs.Wait()
		for _, err := range downErrs {
			fail(r.tests, fmt.Errorf("teardown: %w", err))
		}
		if err := tfharness.ClosePools(dctx); err != nil {
			fail(r.tests, fmt.Errorf("ClosePools: %w", err))
		}
	case "dsenv-reset":
		e, err := tfharness.Up(ctx, r.ds.options(b.runID, suiteID)...)
		if err != nil {
			fail(0, err)
			break
		}
		env := &dsenvEnv{env: e}
		for i := 0; i < r.tests && ctx.Err() == nil; i++ {
			test(i, func() (apiEnv, func() error, error) {
				return env, nil, e.Reset(ctx)
			})
		}
		if err := e.Down(dctx); err != nil {
			fail(r.tests, err)
		}
	case "testcontainers-fresh", "compose-fresh":
		var st Stack = r.tc
		if way == "compose-fresh" {
			st = r.cp
		}
		for i := 0; i < r.tests && ctx.Err() == nil; i++ {
			test(i, func() (apiEnv, func() error, error) {
				e, err := st.Up(ctx, spec())
				var release func() error
				if e != nil {
					release = func() error { return e.Down(dctx) }
				}
				if err != nil {
					return nil, release, err
				}
				return e.(apiEnv), release, waitReady(ctx, e.HealthURL(), 90*time.Second)
			})
		}
	case "testcontainers-snapshot":
		e, err := r.tc.up(ctx, spec(), true)
		if err == nil {
			err = waitReady(ctx, e.HealthURL(), 90*time.Second)
		}
		if err != nil {
			fail(0, err)
		} else {
			for i := 0; i < r.tests && ctx.Err() == nil; i++ {
				test(i, func() (apiEnv, func() error, error) {
					return e, nil, restoreTC(ctx, e)
				})
			}
		}
		if e != nil {
			if err := e.Down(dctx); err != nil {
				fail(r.tests, err)
			}
		}
	default:
		fatal(fmt.Errorf("unknown suite way %q", way))
	}
	smp.Suite = time.Since(start)
	smp.CPU = cpuTime() - cpu0
	for _, sp := range specs {
		n, _ := leftovers(dctx, "dsenv.bench.env", sp.ID)
		smp.Left += n
	}
	if n, _ := leftovers(dctx, "dsenv.bench.env", suiteID); n > 0 {
		smp.Left += n
	}
	if smp.Left > 0 {
		_ = sweep(dctx, "dsenv.bench", b.runID)
	}
	b.log.Info("suite", "way", way, "round", round, "suite", smp.Suite.Round(time.Millisecond),
		"wait_median", median(smp.Waits).Round(time.Millisecond), "failed", smp.Failed, "left", smp.Left, "err", truncate(smp.Err, 200))
	return smp
}

// options are the harness options of the suite's environments: one label for the whole
// suite (so a pool serves all its tests; per-environment labels would key a pool each).
func (d *dsenvStack) options(runID, suiteID string, extra ...tfharness.Option) []tfharness.Option {
	return append([]tfharness.Option{
		tfharness.WithIDPrefix("bench-su"),
		tfharness.WithLabels(map[string]string{"dsenv.bench": runID, "dsenv.bench.env": suiteID}),
		tfharness.WithImage(tfharness.ServicePostgres, d.images.Postgres),
		tfharness.WithImage(tfharness.ServiceRedis, d.images.Redis),
		tfharness.WithImage(tfharness.ServiceMigrate, d.images.Migrate),
		tfharness.WithImage(tfharness.ServiceDataStorage, d.images.DataStorage),
		tfharness.WithLogger(logDiscard{d.log}),
		tfharness.WithTimeout(3 * time.Minute),
	}, extra...)
}

// gatewayTest is every suite test's body: a Gateway batch posted (201), then exactly its
// events read back: in a clean stack the Gateway category holds nothing else.
func gatewayTest(ctx context.Context, e apiEnv) error {
	rr := "rr-" + randHex(6)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var batch []map[string]any
	for i, typ := range []string{"gateway.signal.received", "gateway.signal.deduplicated", "gateway.crd.created"} {
		batch = append(batch, map[string]any{
			"version": "1.0", "event_type": typ, "event_timestamp": now, "event_category": "gateway",
			"event_action": []string{"received", "deduplicated", "created"}[i], "event_outcome": "success",
			"correlation_id": rr, "actor_type": "service", "actor_id": "gateway",
			"resource_type": "Signal", "resource_id": "fp-" + rr, "namespace": "payments",
			"event_data": map[string]any{"event_type": typ, "signal_type": "alert", "signal_name": "HighLatency",
				"namespace": "payments", "fingerprint": "fp-" + rr},
		})
	}
	body, _ := json.Marshal(batch)
	client := &http.Client{Timeout: 10 * time.Second}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.APIURL()+"/api/v1/audit/events/batch", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.APIToken())
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST batch: %s: %s", resp.Status, truncate(string(b), 200))
	}
	q := url.Values{"event_category": {"gateway"}, "limit": {"1000"}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, e.APIURL()+"/api/v1/audit/events?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+e.APIToken())
	resp, err = client.Do(req)
	if err != nil {
		return err
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET events: %s: %s", resp.Status, truncate(string(b), 200))
	}
	var out struct {
		Data []struct {
			CorrelationID string `json:"correlation_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("GET events: %w", err)
	}
	if len(out.Data) != len(batch) {
		return fmt.Errorf("not a clean stack: %d gateway events, posted %d", len(out.Data), len(batch))
	}
	for _, d := range out.Data {
		if d.CorrelationID != rr {
			return fmt.Errorf("not a clean stack: an event of %s", d.CorrelationID)
		}
	}
	return nil
}

// restoreTC is the testcontainers-go way to a clean stack: the postgres module's Restore
// (drops the database, with the DS's sessions, and recreates it from the snapshot), a
// Redis FLUSHALL, then the DS's /readyz until it answers 200 again.
func restoreTC(ctx context.Context, e *tcEnv) error {
	if err := e.pg.Restore(ctx); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: e.redisAddr, Password: e.redisPW})
	defer rdb.Close()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		return fmt.Errorf("redis flush: %w", err)
	}
	return waitReady(ctx, e.HealthURL(), 60*time.Second)
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return quantile(d, 0.5)
}

// quantile is the q-quantile of d (nearest rank).
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
