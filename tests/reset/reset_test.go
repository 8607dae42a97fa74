// Package reset_test checks tfharness's clean slate between tests (Env.Reset) and its
// wait helper against a real DS, and benchmarks Reset against a fresh environment.
package reset_test

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/tests/internal/gateway"
	"github.com/dsenv/dsenv/tfharness"
)

// The DS's streams and the dead-letter worker's consumer group (DS contract).
const (
	dlqStream  = "audit:dlq:events"
	deadStream = "audit:dead-letter:events"
	dlqGroup   = "datastorage-dlq-workers"
)

func TestResetEmptiesTablesAndStreamsWhileTheDSRunsOn(t *testing.T) {
	env := tfharness.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := gateway.New(env.DataStorage.URL, env.Token)
	rr := gateway.NewCorrelationID("rr-reset")
	if _, err := c.PostBatch(ctx, []gateway.Event{
		gateway.NewEvent(gateway.SignalReceived, rr, "HighCPU", "payments", 1),
		gateway.NewEvent(gateway.CRDCreated, rr, "HighCPU", "payments", 1),
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := env.WaitForEvents(ctx, tfharness.EventQuery{CorrelationID: rr}, 2); err != nil || n != 2 {
		t.Fatalf("before reset: %d events, %v", n, err)
	}

	// Entries in the dead-letter stream, pending in a consumer group (read, not acked).
	// (Not in audit:dlq:events: the DS's worker would take them at once.)
	rdb := redis.NewClient(&redis.Options{Addr: env.Redis.Addr, Password: env.Redis.Password})
	defer rdb.Close()
	for range 3 {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: deadStream, Values: []string{"message", `{"note":"left by a test"}`}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.XGroupCreate(ctx, deadStream, "inspector", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "inspector", Consumer: "t", Streams: []string{deadStream, ">"}, Count: 10}).Err(); err != nil {
		t.Fatal(err)
	}
	if p, err := rdb.XPending(ctx, deadStream, "inspector").Result(); err != nil || p.Count != 3 {
		t.Fatalf("before reset: %+v pending, %v; want 3", p, err)
	}

	db, err := pgx.Connect(ctx, env.Postgres.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	tables := userTables(t, ctx, db)
	t.Logf("tables the migrations created: %s", strings.Join(tables, ", "))

	resetAt := time.Now()
	start := time.Now()
	if err := env.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("reset in %s", time.Since(start).Round(time.Microsecond))

	if n, err := env.CountEvents(ctx, tfharness.EventQuery{}); err != nil || n != 0 {
		t.Errorf("after reset: the query route counts %d events (%v); want 0", n, err)
	}
	for _, tbl := range tables {
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 && tbl != "public.goose_db_version" {
			t.Errorf("after reset: %s has %d rows", tbl, n)
		}
		if tbl == "public.goose_db_version" && n == 0 {
			t.Errorf("reset emptied goose's own table")
		}
	}
	for _, s := range []string{dlqStream, deadStream} {
		if n, err := rdb.XLen(ctx, s).Result(); err != nil || n != 0 {
			t.Errorf("after reset: XLEN %s = %d, %v; want 0", s, n, err)
		}
	}
	groups, err := rdb.XInfoGroups(ctx, dlqStream).Result()
	if err != nil || len(groups) != 1 || groups[0].Name != dlqGroup {
		t.Errorf("after reset: groups of %s = %+v, %v; want the DS worker's %s kept", dlqStream, groups, err, dlqGroup)
	}
	if p, err := rdb.XPending(ctx, deadStream, "inspector").Result(); err != nil || p.Count != 0 {
		t.Errorf("after reset: %+v pending in %s/inspector (%v); want none", p, deadStream, err)
	}

	// The next write: 201 at once, on the DS's pooled connections, and readable.
	rr2 := gateway.NewCorrelationID("rr-after")
	start = time.Now()
	if _, err := c.PostBatch(ctx, []gateway.Event{gateway.NewEvent(gateway.SignalReceived, rr2, "HighCPU", "payments", 1)}); err != nil {
		t.Fatalf("first write after reset: %v", err)
	}
	t.Logf("first write after reset: 201 in %s", time.Since(start).Round(time.Microsecond))
	if n, err := env.WaitForEvents(ctx, tfharness.EventQuery{CorrelationID: rr2}, 1); err != nil || n != 1 {
		t.Errorf("after reset: %d events of the new write, %v", n, err)
	}
	if n, err := rdb.XLen(ctx, dlqStream).Result(); err != nil || n != 0 {
		t.Errorf("the write after reset went to the dead-letter queue (XLEN %d, %v): Postgres was not written", n, err)
	}
	if bad := dsErrorLines(t, ctx, env, resetAt); len(bad) > 0 {
		t.Errorf("DS log has errors after reset:\n%s", strings.Join(bad, "\n"))
	}
}

// userTables lists the tables Reset should empty (and goose's), as the DS's own
// connection sees them, ordinary and partitioned tables and partitions alike.
func userTables(t *testing.T, ctx context.Context, db *pgx.Conn) []string {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 2 {
		t.Fatalf("only %v: the migrations did not run", tables)
	}
	return tables
}

// dsErrorLines returns the DS log lines since since at level WARN or ERROR, or that
// mention a connection failure.
func dsErrorLines(t *testing.T, ctx context.Context, env *tfharness.Env, since time.Time) []string {
	t.Helper()
	reports, err := engine.CollectLogs(ctx, env.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	bad := regexp.MustCompile(`"level":"(WARN|ERROR)"|(?i)conn(ection)? (closed|reset|refused)|terminating connection|broken pipe`)
	var out []string
	found := false
	for _, r := range reports {
		if !strings.HasSuffix(r.Name, "-datastorage") {
			continue
		}
		found = true
		for _, line := range strings.Split(r.Logs, "\n") {
			ts, _, _ := strings.Cut(line, " ") // Docker's timestamp
			if at, err := time.Parse(time.RFC3339Nano, ts); err == nil && at.Before(since) {
				continue
			}
			if bad.MatchString(line) {
				out = append(out, line)
			}
		}
	}
	if !found {
		t.Fatal("no DS container in the environment's logs")
	}
	return out
}

func TestWaitForEventsTimeoutSaysWhatItSaw(t *testing.T) {
	env := tfharness.New(t)
	ctx := context.Background()
	c := gateway.New(env.DataStorage.URL, env.Token)
	rr := gateway.NewCorrelationID("rr-wait")
	if _, err := c.PostBatch(ctx, []gateway.Event{gateway.NewEvent(gateway.SignalReceived, rr, "HighCPU", "payments", 1)}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	n, err := env.WaitForEvents(wctx, tfharness.EventQuery{CorrelationID: rr}, 3)
	var ee *tfharness.EventsError
	if !errors.As(err, &ee) {
		t.Fatalf("WaitForEvents for 3 of 1 event = %d, %v; want an *EventsError", n, err)
	}
	t.Logf("the timeout message: %v", err)
	msg := err.Error()
	for _, want := range []string{"env " + env.ID, "for 3 events (correlation_id=" + rr + ")", "saw 1", "last answer 200 OK", "context deadline exceeded"} {
		if !strings.Contains(msg, want) {
			t.Errorf("timeout message %q lacks %q", msg, want)
		}
	}
	if n != 1 || ee.Seen != 1 || ee.Polls < 2 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("n %d, seen %d, polls %d, is deadline %v", n, ee.Seen, ee.Polls, errors.Is(err, context.DeadlineExceeded))
	}

	// A DS that refuses the query: the message quotes its answer.
	p, err := env.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	bad, err := tfharness.Attach(p)
	if err != nil {
		t.Fatal(err)
	}
	bad.Token = env.DeniedToken // authenticated, but no access check lets it through
	_, err = bad.CountEvents(ctx, tfharness.EventQuery{CorrelationID: rr})
	if err == nil || !strings.Contains(err.Error(), "last answer 403 Forbidden") {
		t.Errorf("CountEvents with the denied token = %v; want the 403 quoted", err)
	}
	t.Logf("a refused count: %v", err)
}

// BenchmarkReset measures Reset on an environment holding a Gateway batch, beside
// BenchmarkFreshUp; both report their median as median-ms.
func BenchmarkReset(b *testing.B) {
	env := tfharness.New(b)
	ctx := context.Background()
	c := gateway.New(env.DataStorage.URL, env.Token)
	var d []time.Duration
	for b.Loop() {
		b.StopTimer()
		rr := gateway.NewCorrelationID("rr-bench")
		if _, err := c.PostBatch(ctx, []gateway.Event{
			gateway.NewEvent(gateway.SignalReceived, rr, "HighCPU", "payments", 1),
			gateway.NewEvent(gateway.CRDCreated, rr, "HighCPU", "payments", 1),
		}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := env.Reset(ctx); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	reportMedian(b, d)
}

// BenchmarkFreshUp measures what Reset replaces: a new environment (Up to ready) per
// test; the teardown is not timed. Run it with -benchtime=5x.
func BenchmarkFreshUp(b *testing.B) {
	ctx := context.Background()
	var d []time.Duration
	for b.Loop() {
		start := time.Now()
		env, err := tfharness.Up(ctx, tfharness.WithLogger(b))
		if err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
		b.StopTimer()
		if err := env.Down(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportMedian(b, d)
}

func reportMedian(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "median-ms")
}
