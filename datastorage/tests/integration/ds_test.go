package ds_test

import (
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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/datastorage/internal/dlq"
	"github.com/dsenv/dsenv/datastorage/internal/testdocker"
	"github.com/dsenv/dsenv/datastorage/migrations"
)

func TestMigrateAppliesOnceAndSecondRunIsNoOp(t *testing.T) {
	t.Parallel()
	pg := testdocker.StartPostgres(t)
	_, out, logs := runMigrate(t, pg, "")
	assert.Equal(t, "migrated to version 1\n", out)
	assert.Contains(t, logs, `"file":"00001_audit_events.sql"`)

	_, out, logs = runMigrate(t, pg, "")
	assert.Equal(t, "migrated to version 1\n", out)
	assert.Contains(t, logs, "no migrations to apply")
	assert.NotContains(t, logs, "applied migration")

	pool := connectPool(t, pg)
	var strategy string
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'audit_events'::regclass`).Scan(&strategy))
	assert.Equal(t, "r", strategy, "audit_events is range partitioned")
	var def bool
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT to_regclass('audit_events_default') IS NOT NULL`).Scan(&def))
	assert.True(t, def, "the default partition exists")
}

func TestMigrateFailureExitsNonZeroNamingTheFile(t *testing.T) {
	t.Parallel()
	pg := testdocker.StartPostgres(t)
	dir := t.TempDir()
	entries, err := migrations.FS.ReadDir(".")
	require.NoError(t, err)
	for _, e := range entries {
		b, err := migrations.FS.ReadFile(e.Name())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	broken := "-- +goose Up\nCREATE TABLE broken (id int REFERENCES no_such_table(id));\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00002_broken.sql"), []byte(broken), 0o644))

	code, out, logs := runMigrate(t, pg, dir)
	assert.Equal(t, 1, code)
	assert.NotContains(t, out, "migrated to version")
	assert.Contains(t, logs, `"msg":"migration failed","file":"00002_broken.sql"`)
	assert.NotContains(t, logs, pg.Password, "the DSN's password is never logged")

	// The good migration before it stays applied; a fixed run continues from there.
	require.NoError(t, os.Remove(filepath.Join(dir, "00002_broken.sql")))
	code, out, _ = runMigrate(t, pg, dir)
	assert.Equal(t, 0, code)
	assert.Equal(t, "migrated to version 1\n", out)
}

func TestBatchOf100GatewayEventsIsAtomicAndReadBack(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	d := startReadyDS(t, s, dsOptions{})

	corr := "rr-batch-" + testdocker.RandomSecret(t)[:8]
	body := gatewayBatch(corr, 100)
	r := d.post(t, "/api/v1/audit/events/batch", body)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	var created struct {
		EventIDs []string `json:"event_ids"`
		Message  string   `json:"message"`
	}
	require.NoError(t, json.Unmarshal(r.body, &created))
	require.Len(t, created.EventIDs, 100)

	// The metrics port serves Prometheus text with the write counted.
	resp, err := http.Get(d.metrics + "/metrics")
	require.NoError(t, err)
	metricsText, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(metricsText), "datastorage_audit_events_written_total 100")
	assert.Contains(t, string(metricsText), "go_goroutines")
	assert.Contains(t, string(metricsText), "datastorage_dlq_depth 0")

	page := d.query(t, "correlation_id="+corr+"&limit=1000")
	require.Len(t, page.Data, 100)
	assert.Equal(t, int64(100), page.Pagination.Total)
	assert.False(t, page.Pagination.HasMore)

	var sent []json.RawMessage
	require.NoError(t, json.Unmarshal(body, &sent))
	sentData := map[string]json.RawMessage{} // by signal_name, which is unique per event
	for _, e := range sent {
		var ev struct {
			EventData json.RawMessage `json:"event_data"`
		}
		require.NoError(t, json.Unmarshal(e, &ev))
		var k struct {
			SignalName string `json:"signal_name"`
		}
		require.NoError(t, json.Unmarshal(ev.EventData, &k))
		sentData[k.SignalName] = ev.EventData
	}
	ids := map[string]bool{}
	for _, id := range created.EventIDs {
		ids[id] = true
	}
	for _, e := range page.Data {
		require.True(t, ids[e.EventID], "query returned an id the write did not: %s", e.EventID)
		delete(ids, e.EventID)
		// Byte-identical to what PostgreSQL stores (jsonb's canonical text) ...
		var stored string
		require.NoError(t, s.pool.QueryRow(context.Background(),
			`SELECT event_data::text FROM audit_events WHERE event_id = $1`, e.EventID).Scan(&stored))
		assert.Equal(t, stored, string(e.EventData), "event_data bytes as stored")
		// ... and the same JSON value the Gateway sent.
		var k struct {
			SignalName string `json:"signal_name"`
		}
		require.NoError(t, json.Unmarshal(e.EventData, &k))
		assert.JSONEq(t, string(sentData[k.SignalName]), string(e.EventData))
		assert.Equal(t, time.Now().UTC().Format("2006-01-02"), e.EventDate)
	}
	assert.Empty(t, ids)

	// Paging walks the same 100 events newest first.
	first := d.query(t, "correlation_id="+corr+"&limit=30&offset=0")
	assert.True(t, first.Pagination.HasMore)
	assert.Equal(t, page.Data[0].EventID, first.Data[0].EventID)
	last := d.query(t, "correlation_id="+corr+"&limit=30&offset=90")
	assert.Len(t, last.Data, 10)
	assert.False(t, last.Pagination.HasMore)
	byType := d.query(t, "correlation_id="+corr+"&event_type=gateway.crd.failed")
	assert.Len(t, byType.Data, 25)

	// event_data already in jsonb's output form comes back byte for byte as sent. (The original
	// event_data moves to an unknown top-level key, which DS ignores.)
	// (jsonb's order: shorter keys first, then bytewise.)
	canonical := `{"a": 1, "ns": "prod", "labels": {"app": "api", "team": "sre"}, "namespace": "prod", ` +
		`"event_type": "gateway.signal.received", "fingerprint": "sha256:abc", "signal_name": "HighMemoryUsage", ` +
		`"signal_type": "alert", "occurrence_count": 3}`
	corrC := corr + "-canonical"
	one := strings.Replace(gatewayEvent(corrC, 0, time.Now()), `"event_data":{`, `"event_data":`+canonical+`,"ignored":{`, 1)
	r = d.post(t, "/api/v1/audit/events", []byte(one))
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	got := d.request(t, http.MethodGet, "/api/v1/audit/events?correlation_id="+corrC, d.token, nil)
	assert.Contains(t, string(got.body), `"event_data":`+canonical+`}`)

	// One bad element: nothing is written and the error names its index.
	corr2 := corr + "-bad"
	var events []json.RawMessage
	require.NoError(t, json.Unmarshal(gatewayBatch(corr2, 100), &events))
	events[37] = json.RawMessage(strings.Replace(string(events[37]), `"event_outcome":"success"`, `"event_outcome":"done"`, 1))
	bad, err := json.Marshal(events)
	require.NoError(t, err)
	r = d.post(t, "/api/v1/audit/events/batch", bad)
	require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
	assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	assert.Contains(t, string(r.body), "event at index 37: event_outcome must be one of success, failure, pending")
	total, _ := countRows(t, s.pool, corr2)
	assert.Equal(t, 0, total)
}

func TestBearerTokenAuth(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	d := startReadyDS(t, s, dsOptions{})
	body := []byte("[" + gatewayEvent("rr-auth", 0, time.Now()) + "]")
	for name, tc := range map[string]struct {
		token  string
		status int
	}{"missing": {"", http.StatusUnauthorized}, "unknown": {"not-a-token", http.StatusForbidden}} {
		t.Run(name, func(t *testing.T) {
			for _, req := range []struct {
				method, path string
				body         []byte
			}{{http.MethodPost, "/api/v1/audit/events/batch", body}, {http.MethodGet, "/api/v1/audit/events", nil}} {
				r := d.request(t, req.method, req.path, tc.token, req.body)
				require.Equal(t, tc.status, r.status, string(r.body))
				assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
				var p map[string]any
				require.NoError(t, json.Unmarshal(r.body, &p))
				assert.Equal(t, float64(tc.status), p["status"])
				for _, k := range []string{"type", "title", "detail"} {
					assert.NotEmpty(t, p[k], k)
				}
			}
		})
	}
	total, _ := countRows(t, s.pool, "rr-auth")
	assert.Equal(t, 0, total, "rejected requests write nothing")
	assert.Equal(t, http.StatusCreated, d.post(t, "/api/v1/audit/events/batch", body).status)
}

func TestReadyzFollowsPostgres(t *testing.T) {
	t.Parallel()
	// A fixed host port, so the restarted container is reachable at the same address.
	s := newStack(t, testdocker.WithHostPort(testdocker.FreePort(t)))
	d := startReadyDS(t, s, dsOptions{})
	assert.Equal(t, http.StatusOK, getStatus(d.api+"/readyz"), "/readyz on the API port too")
	assert.Equal(t, http.StatusOK, getStatus(d.health+"/healthz"))

	s.pg.Do(t, "stop")
	waitStatus(t, d.health+"/readyz", http.StatusServiceUnavailable, 10*time.Second)
	assert.Equal(t, http.StatusServiceUnavailable, getStatus(d.api+"/readyz"))
	assert.Equal(t, http.StatusOK, getStatus(d.health+"/healthz"), "liveness does not follow Postgres")

	s.pg.Do(t, "start")
	waitStatus(t, d.health+"/readyz", http.StatusOK, 30*time.Second)
	assert.Equal(t, http.StatusOK, getStatus(d.api+"/readyz"))
	r := d.post(t, "/api/v1/audit/events/batch", []byte("["+gatewayEvent("rr-ready", 0, time.Now())+"]"))
	assert.Equal(t, http.StatusCreated, r.status, string(r.body))
}

func TestPostgresPausedEventsQueuedThenStoredExactlyOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	d := startReadyDS(t, s, dsOptions{writeTimeout: time.Second, retryInterval: 200 * time.Millisecond})
	rdb := s.rd.Client(t)
	ctx := context.Background()

	s.pg.Do(t, "pause")
	paused := true
	t.Cleanup(func() {
		if paused {
			s.pg.Do(t, "unpause")
		}
	})

	corr := "rr-paused-" + testdocker.RandomSecret(t)[:8]
	const n = 500
	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		statuses = map[int]int{}
		wg       sync.WaitGroup
		next     = make(chan int)
	)
	start := time.Now()
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := d.post(t, "/api/v1/audit/events", []byte(gatewayEvent(corr, i, time.Now())))
				var resp struct {
					Status  string `json:"status"`
					EventID string `json:"event_id"`
				}
				_ = json.Unmarshal(r.body, &resp)
				mu.Lock()
				statuses[r.status]++
				if r.status == http.StatusAccepted && resp.Status == "accepted" {
					accepted[resp.EventID] = true
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	t.Logf("%d single-event POSTs with Postgres paused took %s: %v", n, time.Since(start), statuses)
	require.Equal(t, map[int]int{http.StatusAccepted: n}, statuses)
	require.Len(t, accepted, n)

	// Every accepted event is in the Redis stream.
	entries, err := rdb.XRange(ctx, dlq.Stream, "-", "+").Result()
	require.NoError(t, err)
	inStream := map[string]bool{}
	for _, e := range entries {
		var m dlq.Message
		require.NoError(t, json.Unmarshal([]byte(e.Values[dlq.MessageField].(string)), &m))
		inStream[m.Payload.EventID.String()] = true
		assert.NotEmpty(t, m.LastError)
	}
	for id := range accepted {
		require.True(t, inStream[id], "accepted event %s is not in %s", id, dlq.Stream)
	}

	// Gateway behaviour, documented: its client does not treat 202 on the batch route as success
	// and re-sends the batch. DS assigns fresh event_ids, so a re-sent batch is stored twice.
	corrRetry := corr + "-retry"
	batch := gatewayBatch(corrRetry, 5)
	for i := 0; i < 2; i++ {
		r := d.post(t, "/api/v1/audit/events/batch", batch)
		require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	}

	s.pg.Do(t, "unpause")
	paused = false
	deadline := time.Now().Add(60 * time.Second)
	for {
		total, _ := countRows(t, s.pool, corr)
		if total >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	total, distinct := countRows(t, s.pool, corr)
	assert.Equal(t, n, total, "every accepted event is stored")
	assert.Equal(t, n, distinct, "none twice")

	page := d.query(t, "correlation_id="+corr+"&limit=1000")
	require.Len(t, page.Data, n)
	for _, e := range page.Data {
		assert.True(t, accepted[e.EventID], "unexpected event %s", e.EventID)
	}
	require.Eventually(t, func() bool {
		l, err := rdb.XLen(ctx, dlq.Stream).Result()
		return err == nil && l == 0
	}, 30*time.Second, 100*time.Millisecond, "the dead-letter stream empties")
	retried, _ := countRows(t, s.pool, corrRetry)
	assert.Equal(t, 10, retried, "a batch re-sent after 202 is stored twice")
	dead, err := rdb.XLen(ctx, dlq.DeadLetter).Result()
	require.NoError(t, err)
	assert.Zero(t, dead, "nothing was dead-lettered")
}

func TestSIGTERMDrainsDeadLetterQueueBeforeExit(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	// A long retry interval: after its first failed replay the worker backs off for 30 s, so the
	// events are still queued when SIGTERM arrives and only the shutdown drain can store them.
	d := startReadyDS(t, s, dsOptions{writeTimeout: time.Second, retryInterval: 30 * time.Second, shutdownTimeout: 20 * time.Second})
	rdb := s.rd.Client(t)
	ctx := context.Background()

	s.pg.Do(t, "pause")
	corr := "rr-sigterm-" + testdocker.RandomSecret(t)[:8]
	r := d.post(t, "/api/v1/audit/events/batch", gatewayBatch(corr, 50))
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	for i := 0; i < 10; i++ {
		r := d.post(t, "/api/v1/audit/events", []byte(gatewayEvent(corr, 100+i, time.Now())))
		require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	}
	l, err := rdb.XLen(ctx, dlq.Stream).Result()
	require.NoError(t, err)
	require.Equal(t, int64(60), l)

	// Wait until the worker's replay attempt timed out against the paused Postgres: from then on
	// it backs off for the retry interval.
	require.Eventually(t, func() bool {
		return strings.Contains(d.logs.String(), `"msg":"dead-letter replay failed; will retry"`)
	}, 15*time.Second, 50*time.Millisecond)
	s.pg.Do(t, "unpause")
	time.Sleep(500 * time.Millisecond)
	total, _ := countRows(t, s.pool, corr)
	require.Zero(t, total, "events still sit in the dead-letter queue before SIGTERM")

	sent := time.Now()
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	code := d.wait(t, 25*time.Second)
	t.Logf("exit %d %s after SIGTERM", code, d.exited.Sub(sent))
	assert.Equal(t, 0, code)
	total, distinct := countRows(t, s.pool, corr)
	assert.Equal(t, 60, total, "queued events reached Postgres before exit")
	assert.Equal(t, 60, distinct)
	l, err = rdb.XLen(ctx, dlq.Stream).Result()
	require.NoError(t, err)
	assert.Zero(t, l)
	assert.Contains(t, d.logs.String(), `"msg":"dead-letter queue drained","events":60`)
}

func TestRedisAbsentExitsAfterItsRetryBudget(t *testing.T) {
	t.Parallel()
	pg := testdocker.StartPostgres(t)
	runMigrate(t, pg, "")
	s := &stack{pg: pg}
	o := dsOptions{redisAddr: fmt.Sprintf("127.0.0.1:%d", testdocker.FreePort(t)), attempts: 3, connectInterval: 200 * time.Millisecond}
	start := time.Now()
	d := startDS(t, s, o)
	code := d.wait(t, 30*time.Second)
	elapsed := d.exited.Sub(start)
	t.Logf("exit %d after %s", code, elapsed)
	assert.Equal(t, 1, code)
	// The budget is counted, not timed (a busy machine stretches any wall-clock bound):
	// exactly the configured 3 attempts, then one error line and exit 1.
	logs := d.logs.String()
	assert.Contains(t, logs, `"msg":"failed to connect to Redis: `)
	assert.Equal(t, 3, strings.Count(logs, `"target":"redis"`), "three attempts")
	assert.Equal(t, 1, strings.Count(logs, `"level":"ERROR"`), "one error line")
}

func TestPostgresAbsentExitsWithPingError(t *testing.T) {
	t.Parallel()
	rd := testdocker.StartRedis(t)
	s := &stack{pg: &testdocker.Postgres{User: "datastorage", Password: "unused", DB: "datastorage"}, rd: rd}
	d := startDS(t, s, dsOptions{pgPort: testdocker.FreePort(t), attempts: 2, connectInterval: 100 * time.Millisecond})
	assert.Equal(t, 1, d.wait(t, 30*time.Second))
	assert.Contains(t, d.logs.String(), `"msg":"failed to ping PostgreSQL: `)
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	path, _, _ := writeDSConfig(t, s, dsOptions{})
	out, err := runDS(t, path, "preflight")
	require.NoError(t, err, out)
	assert.Contains(t, out, "preflight ok")

	bad, _, _ := writeDSConfig(t, s, dsOptions{redisAddr: fmt.Sprintf("127.0.0.1:%d", testdocker.FreePort(t)), attempts: 1})
	out, err = runDS(t, bad, "preflight")
	require.Error(t, err)
	assert.Contains(t, out, "failed to connect to Redis: ")
	assert.NotContains(t, out, "preflight ok")
}

func runDS(t *testing.T, configPath string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.datastorage, args...)
	cmd.Env = append(os.Environ(), "CONFIG_PATH="+configPath)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
