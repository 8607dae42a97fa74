// Package isolation_test runs environments side by side and checks they share nothing.
package isolation_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
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

// TestMain lets three parallel tests run at once on a 2-core machine, where -parallel
// defaults to GOMAXPROCS (an explicit -test.parallel wins).
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if p := flag.Lookup("test.parallel"); p != nil && !explicit {
		if n, err := strconv.Atoi(p.Value.String()); err == nil && n < 3 {
			_ = p.Value.Set("3")
		}
	}
	os.Exit(m.Run())
}

func TestThreeParallelEnvironmentsAreIsolated(t *testing.T) {
	type seen struct {
		id                    string
		pgPort, redisPort, ds string
		start, ready          time.Time
	}
	var (
		mu  sync.Mutex
		all []seen
	)
	t.Run("group", func(t *testing.T) {
		for i := range 3 {
			t.Run(fmt.Sprintf("env%d", i), func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				env := tfharness.New(t)
				mu.Lock()
				all = append(all, seen{env.ID, fmt.Sprint(env.Postgres.Port), fmt.Sprint(env.Redis.Port), env.DataStorage.URL, start, time.Now()})
				mu.Unlock()

				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				// Each environment writes its own events: correlation ids carry its id.
				c := gateway.New(env.DataStorage.URL, env.Token)
				var batch []gateway.Event
				for j := range 4 + i {
					rr := gateway.NewCorrelationID("rr-" + env.ID)
					batch = append(batch, gateway.NewEvent(gateway.SignalReceived, rr, fmt.Sprintf("Alert%d", j), "ns", 1))
				}
				if _, err := c.PostBatch(ctx, batch); err != nil {
					t.Fatal(err)
				}
				// Give the others time to write theirs before looking.
				time.Sleep(2 * time.Second)
				got, err := c.ByType(ctx, gateway.SignalReceived)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(batch) {
					t.Errorf("%s sees %d events; it wrote %d", env.ID, len(got), len(batch))
				}
				for _, s := range got {
					if !strings.HasPrefix(s.CorrelationID, "rr-"+env.ID+"-") {
						t.Errorf("%s sees another environment's event %s", env.ID, s.CorrelationID)
					}
				}
				// And its database holds exactly its own rows.
				conn, err := pgx.Connect(ctx, env.Postgres.DSN)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				var n int
				if err := conn.QueryRow(ctx, "SELECT count(*) FROM audit_events").Scan(&n); err != nil || n != len(batch) {
					t.Errorf("%s: audit_events has %d rows (%v); want %d", env.ID, n, err, len(batch))
				}
			})
		}
	})
	if len(all) != 3 {
		t.Fatalf("%d environments came up; want 3", len(all))
	}
	// They came up at once: every start precedes every ready.
	var lastStart, firstReady time.Time
	for _, s := range all {
		if s.start.After(lastStart) {
			lastStart = s.start
		}
		if firstReady.IsZero() || s.ready.Before(firstReady) {
			firstReady = s.ready
		}
	}
	if !lastStart.Before(firstReady) {
		t.Errorf("the environments did not come up concurrently (last start %s, first ready %s)",
			lastStart.Format(time.StampMilli), firstReady.Format(time.StampMilli))
	}
	ports := map[string]string{}
	for _, s := range all {
		for _, p := range []string{s.pgPort, s.redisPort, s.ds} {
			if other, dup := ports[p]; dup {
				t.Errorf("%s and %s share %s", other, s.id, p)
			}
			ports[p] = s.id
		}
	}
	// Every subtest's Cleanup has run: nothing labelled with their ids may remain.
	ctx := context.Background()
	for _, s := range all {
		if objs := labelled.Objects(t, ctx, label.Env+"="+s.id); len(objs) > 0 {
			t.Errorf("left behind by %s: %v", s.id, objs)
		}
	}
}
