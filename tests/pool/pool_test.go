// Package pool_test checks the warm pool (tfharness.WithPool, DSENV_POOL): environments
// handed out from a pool pass the checks a fresh one does, a process killed with spares
// applied leaves nothing behind, and tests asking for other variables never get a spare of
// another shape. The kill test's subject is a child process: this test binary re-executed
// with -test.run=^TestChildWithPool$.
package pool_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
	"github.com/dsenv/dsenv/internal/sweep"
	"github.com/dsenv/dsenv/tests/internal/childproc"
	"github.com/dsenv/dsenv/tests/internal/gateway"
	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/dsenv/dsenv/tfharness"
)

const childVar = "DSENV_POOL_CHILD"

// TestMain drains the pools after the tests, as a suite using WithPool does, and checks
// that no spare of this process is left.
func TestMain(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := tfharness.ClosePools(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ClosePools:", err)
		code = 1
	}
	if os.Getenv(childVar) == "" {
		out, err := exec.CommandContext(ctx, "docker", "ps", "-a", "--format", "{{.Names}}",
			"--filter", "label="+label.Owner+"="+owner.Current().String()).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			fmt.Fprintf(os.Stderr, "after ClosePools, containers of this process are left (%v): %s\n", err, out)
			code = 1
		}
	}
	os.Exit(code)
}

// checkEnv runs what a test of a fresh environment checks: DS /readyz, a Gateway batch
// (201) read back, exactly its rows in Postgres, Redis PING.
func checkEnv(t *testing.T, env *tfharness.Env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := http.Get(strings.TrimRight(env.DataStorage.HealthURL, "/") + "/readyz")
	if err != nil {
		t.Fatalf("%s: /readyz: %v", env.ID, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: /readyz: %s", env.ID, resp.Status)
	}
	c := gateway.New(env.DataStorage.URL, env.Token)
	rr := gateway.NewCorrelationID("rr-" + env.ID)
	batch := []gateway.Event{
		gateway.NewEvent(gateway.SignalReceived, rr, "HighLatency", "payments", 1),
		gateway.NewEvent(gateway.CRDCreated, rr, "HighLatency", "payments", 1),
	}
	ids, err := c.PostBatch(ctx, batch)
	if err != nil {
		t.Fatalf("%s: %v", env.ID, err)
	}
	if len(ids) != len(batch) {
		t.Fatalf("%s: batch of %d gave %d ids", env.ID, len(batch), len(ids))
	}
	got, err := c.ByCorrelationID(ctx, rr)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(batch) {
		t.Errorf("%s: read back %d events of %s; posted %d", env.ID, len(got), rr, len(batch))
	}
	conn, err := pgx.Connect(ctx, env.Postgres.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM audit_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(batch) {
		t.Errorf("%s: audit_events has %d rows; a clean environment after one batch has %d", env.ID, n, len(batch))
	}
	opt, err := redis.ParseURL(env.Redis.URL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Errorf("%s: redis PING: %v", env.ID, err)
	}
}

func TestPooledEnvironmentsPassTheChecksOfAFreshOne(t *testing.T) {
	t.Run("fresh", func(t *testing.T) {
		checkEnv(t, tfharness.New(t))
	})
	seen := map[string]bool{}
	secrets := map[string]bool{}
	for i := range 3 {
		t.Run(fmt.Sprintf("pooled%d", i), func(t *testing.T) {
			asked := time.Now()
			env := tfharness.New(t, tfharness.WithPool(1))
			checkEnv(t, env)
			if seen[env.ID] {
				t.Fatalf("the pool handed out %s twice", env.ID)
			}
			seen[env.ID] = true
			for _, s := range []string{env.Token, env.Postgres.DSN, env.Redis.Password} {
				if secrets[s] {
					t.Errorf("%s shares a secret with an environment handed out before", env.ID)
				}
				secrets[s] = true
			}
			// After the first, every environment was applied before its test asked.
			if i > 0 && !env.Created.Before(asked) {
				t.Errorf("%s was created %s, after the test asked at %s: not a spare", env.ID,
					env.Created.Format(time.StampMilli), asked.Format(time.StampMilli))
			}
			t.Logf("%s: %s", env.ID, env.Timings)
		})
	}
}

// dsEnv is the DS container's environment as Docker reports it.
func dsEnv(t *testing.T, env *tfharness.Env) []string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--format", "{{json .Config.Env}}", env.ID+"-datastorage").CombinedOutput()
	if err != nil {
		t.Fatalf("docker inspect: %v: %s", err, out)
	}
	var vars []string
	if err := json.Unmarshal(out, &vars); err != nil {
		t.Fatal(err)
	}
	return vars
}

func TestDifferentVariablesNeverShareASpare(t *testing.T) {
	shape := func(v string) tfharness.Option {
		return tfharness.WithVars(map[string]any{"datastorage_extra_env": map[string]string{"POOL_SHAPE": v}})
	}
	ids := map[string]string{}
	for i, s := range []string{"a", "b", "a", "b"} {
		t.Run(fmt.Sprintf("%d-%s", i, s), func(t *testing.T) {
			env := tfharness.New(t, tfharness.WithPool(1), shape(s))
			if other, dup := ids[env.ID]; dup {
				t.Fatalf("%s handed out twice (shape %s, then %s)", env.ID, other, s)
			}
			ids[env.ID] = s
			var got []string
			for _, kv := range dsEnv(t, env) {
				if strings.HasPrefix(kv, "POOL_SHAPE=") {
					got = append(got, kv)
				}
			}
			if len(got) != 1 || got[0] != "POOL_SHAPE="+s {
				t.Errorf("a test asking for POOL_SHAPE=%s got %s with %v", s, env.ID, got)
			}
		})
	}
	t.Run("no-vars", func(t *testing.T) {
		env := tfharness.New(t, tfharness.WithPool(1))
		for _, kv := range dsEnv(t, env) {
			if strings.HasPrefix(kv, "POOL_SHAPE=") {
				t.Errorf("a test asking for the defaults got %s with %s", env.ID, kv)
			}
		}
	})
}

// TestChildWithPool is the child process of the kill test; run directly it skips.
func TestChildWithPool(t *testing.T) {
	if os.Getenv(childVar) == "" {
		t.Skip("helper: runs only as the child process of TestSIGKILLedProcessWithSparesLeavesNothing")
	}
	env := tfharness.New(t) // DSENV_POOL from the parent
	t.Logf("child: env %s up; waiting to be killed", env.ID)
	time.Sleep(3 * time.Minute)
}

func TestSIGKILLedProcessWithSparesLeavesNothing(t *testing.T) {
	ctx := context.Background()
	t.Cleanup(func() { _, _ = sweep.Run(context.Background(), sweep.Options{}) }) // after the child
	c := childproc.Start(t, "TestChildWithPool", []string{childVar + "=1", "DSENV_POOL=2"})
	filter := c.Owner()

	// The child's environment and its two spares: three DS containers running.
	var ds []string
	c.Until(t, 4*time.Minute, 250*time.Millisecond, "3 DS containers running", func() bool {
		ds = ds[:0]
		for _, n := range labelled.Running(t, ctx, filter) {
			if strings.HasSuffix(n, "-datastorage") {
				ds = append(ds, n)
			}
		}
		return len(ds) >= 3 && strings.Contains(c.Out.String(), "waiting to be killed")
	})
	t.Logf("child has its environment and two spares: %v", ds)
	c.Kill(t)
	_ = c.Wait(t, time.Minute)
	took := labelled.WaitGone(t, ctx, filter, time.Minute)
	t.Logf("SIGKILL with 2 spares applied: every object gone %s after", took.Round(10*time.Millisecond))
	// The reaper removes the work directory (workspaces, state, secrets files) too.
	for start := time.Now(); ; {
		dirs := c.WorkDirs()
		if len(dirs) == 0 {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("work directories of the killed child are left: %v", dirs)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
