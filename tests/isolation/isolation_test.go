// Package isolation_test runs environments side by side and checks they share nothing.
package isolation_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/tests/internal/gateway"
	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/dsenv/dsenv/tfharness"
)

// TestThreeConcurrentEnvironmentsAreIsolated brings three environments up at once, lets
// each write its own events, and only then lets each read: every one sees exactly its
// own events and rows, on ports of its own, and nothing is left once they are down.
func TestThreeConcurrentEnvironmentsAreIsolated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const n = 3
	var (
		envs   [n]*tfharness.Env
		errs   [n]error
		starts [n]time.Time
		readys [n]time.Time
		wg     sync.WaitGroup
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			starts[i] = time.Now()
			envs[i], errs[i] = tfharness.Up(ctx, tfharness.WithLogger(t), tfharness.WithTestName(t.Name()))
			readys[i] = time.Now()
		}()
	}
	wg.Wait()
	downAll := func() {
		for _, env := range envs {
			if env == nil {
				continue
			}
			if t.Failed() {
				env.DumpLogs(context.Background(), "test failed")
			}
			if err := env.Down(context.Background()); err != nil {
				t.Error(err)
			}
		}
	}
	defer downAll()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("environment %d: %v", i, err)
		}
	}
	// They came up at once: every start precedes every ready.
	if last, first := slices.MaxFunc(starts[:], time.Time.Compare), slices.MinFunc(readys[:], time.Time.Compare); !last.Before(first) {
		t.Errorf("the environments did not come up concurrently (last start %s, first ready %s)",
			last.Format(time.StampMilli), first.Format(time.StampMilli))
	}

	// Each environment writes its own events (correlation ids carry its id) ...
	wrote := make([]int, n)
	for i, env := range envs {
		c := gateway.New(env.DataStorage.URL, env.Token)
		var batch []gateway.Event
		for j := range 4 + i {
			rr := gateway.NewCorrelationID("rr-" + env.ID)
			batch = append(batch, gateway.NewEvent(gateway.SignalReceived, rr, fmt.Sprintf("Alert%d", j), "ns", 1))
		}
		if _, err := c.PostBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		wrote[i] = len(batch)
	}
	// ... and only after all have written does any look.
	ports := map[string]string{}
	for i, env := range envs {
		c := gateway.New(env.DataStorage.URL, env.Token)
		got, err := c.ByType(ctx, gateway.SignalReceived)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != wrote[i] {
			t.Errorf("%s sees %d events; it wrote %d", env.ID, len(got), wrote[i])
		}
		for _, s := range got {
			if !strings.HasPrefix(s.CorrelationID, "rr-"+env.ID+"-") {
				t.Errorf("%s sees another environment's event %s", env.ID, s.CorrelationID)
			}
		}
		conn, err := pgx.Connect(ctx, env.Postgres.DSN)
		if err != nil {
			t.Fatal(err)
		}
		var rows int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM audit_events").Scan(&rows); err != nil || rows != wrote[i] {
			t.Errorf("%s: audit_events has %d rows (%v); want %d", env.ID, rows, err, wrote[i])
		}
		conn.Close(ctx)
		for _, p := range []string{fmt.Sprint(env.Postgres.Port), fmt.Sprint(env.Redis.Port), env.DataStorage.URL} {
			if other, dup := ports[p]; dup {
				t.Errorf("%s and %s share %s", other, env.ID, p)
			}
			ports[p] = env.ID
		}
	}

	downAll()
	for _, env := range envs {
		if objs := labelled.Objects(t, ctx, label.Env+"="+env.ID); len(objs) > 0 {
			t.Errorf("left behind by %s: %v", env.ID, objs)
		}
	}
}
