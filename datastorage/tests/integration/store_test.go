package ds_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/datastorage/internal/api"
	"github.com/dsenv/dsenv/datastorage/internal/audit"
	"github.com/dsenv/dsenv/datastorage/internal/dlq"
	"github.com/dsenv/dsenv/datastorage/internal/store"
	"github.com/dsenv/dsenv/datastorage/internal/testdocker"
)

func decodeBatch(t testing.TB, body []byte) []audit.Event {
	t.Helper()
	events, err := audit.DecodeBatch(body, time.Now(), 10000)
	require.NoError(t, err)
	return events
}

func TestStoreBatchIsOneTransaction(t *testing.T) {
	t.Parallel()
	pg := testdocker.StartPostgres(t)
	runMigrate(t, pg, "")
	st := store.New(connectPool(t, pg))
	ctx := context.Background()

	corr := "rr-atomic"
	events := decodeBatch(t, gatewayBatch(corr, 10))
	events[9].EventDate = "2001-01-01" // violates audit_events_date_check, after 9 good rows
	err := st.InsertEvents(ctx, events)
	require.Error(t, err)
	assert.True(t, store.IsDataError(err), "%v", err)
	total, _ := countRows(t, st.Pool(), corr)
	assert.Zero(t, total, "a failing batch leaves no row behind")

	events[9].EventDate = audit.DateOf(events[9].EventTimestamp)
	require.NoError(t, st.InsertEvents(ctx, events))
	require.NoError(t, st.InsertEvents(ctx, events), "a replay is a no-op")
	total, _ = countRows(t, st.Pool(), corr)
	assert.Equal(t, 10, total)
}

func TestEnsurePartitions(t *testing.T) {
	t.Parallel()
	pg := testdocker.StartPostgres(t)
	runMigrate(t, pg, "")
	st := store.New(connectPool(t, pg))
	ctx := context.Background()

	// An event far in the future lands in the default partition ...
	future := time.Date(2031, 5, 10, 12, 0, 0, 0, time.UTC)
	ev := decodeBatch(t, gatewayBatch("rr-part", 1))[0]
	ev.EventTimestamp, ev.EventDate = future, audit.DateOf(future)
	require.NoError(t, st.InsertEvents(ctx, []audit.Event{ev}))
	var part string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT tableoid::regclass::text FROM audit_events WHERE event_id = $1`, ev.EventID).Scan(&part))
	assert.Equal(t, "audit_events_default", part)

	now := time.Date(2031, 4, 20, 0, 0, 0, 0, time.UTC)
	created, err := st.EnsurePartitions(ctx, now, 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"audit_events_y2031m03", "audit_events_y2031m04", "audit_events_y2031m05",
		"audit_events_y2031m06", "audit_events_y2031m07"}, created)
	// ... and moves into its month's partition when that is created.
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT tableoid::regclass::text FROM audit_events WHERE event_id = $1`, ev.EventID).Scan(&part))
	assert.Equal(t, "audit_events_y2031m05", part)

	created, err = st.EnsurePartitions(ctx, now, 3)
	require.NoError(t, err)
	assert.Empty(t, created, "idempotent")
}

func TestDeadLetterWorkerMovesPoisonMessages(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: s.rd.Addr(), Password: s.rd.Password})
	t.Cleanup(func() { _ = rdb.Close() })
	q := dlq.New(rdb, 1000, "test-consumer")
	require.NoError(t, q.EnsureGroup(ctx))
	st := store.New(s.pool)

	events := decodeBatch(t, gatewayBatch("rr-poison", 3))
	events[1].EventDate = "2001-01-01" // PostgreSQL will always reject this one
	require.NoError(t, q.Enqueue(ctx, events, fmt.Errorf("test")))
	require.NoError(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: dlq.Stream, Values: []string{dlq.MessageField, "not json"}}).Err())

	w := &dlq.Worker{Queue: q, Writer: st, RetryInterval: 20 * time.Millisecond, MaxRetries: 3,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	n, err := w.Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the two good events are written")
	total, _ := countRows(t, s.pool, "rr-poison")
	assert.Equal(t, 2, total)

	l, err := rdb.XLen(ctx, dlq.Stream).Result()
	require.NoError(t, err)
	assert.Zero(t, l)
	dead, err := rdb.XRange(ctx, dlq.DeadLetter, "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, dead, 2, "the undecodable entry and the rejected event")
	var found bool
	for _, e := range dead {
		var m dlq.Message
		if json.Unmarshal([]byte(e.Values[dlq.MessageField].(string)), &m) == nil && m.Payload.EventID == events[1].EventID {
			found = true
			assert.Equal(t, 3, m.RetryCount)
			assert.Contains(t, m.LastError, "audit_events_date_check")
		}
	}
	assert.True(t, found, "the rejected event is in %s with its retry count", dlq.DeadLetter)
}

// BenchmarkInsertEvents measures batch writes to a real PostgreSQL (fsync off, as in test
// environments): events/s and allocations per batch.
func BenchmarkInsertEvents(b *testing.B) {
	pg := testdocker.StartPostgres(b)
	runMigrate(b, pg, "")
	st := store.New(connectPool(b, pg))
	ctx := context.Background()
	for _, size := range []int{1, 100, 500} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			template := decodeBatch(b, gatewayBatch("rr-bench", size))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				for j := range template {
					template[j].EventID = uuid.New()
				}
				if err := st.InsertEvents(ctx, template); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkAPIBatch measures the whole write path of POST /api/v1/audit/events/batch in
// process (auth, decode, validation, one INSERT, response) against a real PostgreSQL.
func BenchmarkAPIBatch(b *testing.B) {
	s := &stack{pg: testdocker.StartPostgres(b)}
	runMigrate(b, s.pg, "")
	st := store.New(connectPool(b, s.pg))
	srv := api.New(api.Config{MaxBodySize: 64 << 20, MaxBatchSize: 500}, st, nil,
		api.NewTokens([]string{"bench"}), nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	h := srv.Handler()
	for _, size := range []int{100, 500} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			body := gatewayBatch("rr-bench-api", size)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/audit/events/batch", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer bench")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusCreated {
					b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// An outage is not the events' fault: however many replays fail while PostgreSQL is unreachable,
// nothing is dead-lettered, and everything is stored once it returns.
func TestDeadLetterWorkerOutageNeverDeadLetters(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: s.rd.Addr(), Password: s.rd.Password})
	t.Cleanup(func() { _ = rdb.Close() })
	q := dlq.New(rdb, 1000, "outage-consumer")
	require.NoError(t, q.EnsureGroup(ctx))
	st := store.New(s.pool)
	events := decodeBatch(t, gatewayBatch("rr-outage", 5))
	require.NoError(t, q.Enqueue(ctx, events, fmt.Errorf("test")))

	s.pg.Do(t, "pause")
	var logs syncBuffer
	w := &dlq.Worker{Queue: q, Writer: st, RetryInterval: 50 * time.Millisecond, MaxRetries: 1,
		WriteTimeout: 200 * time.Millisecond, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(wctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	require.Eventually(t, func() bool {
		return strings.Count(logs.String(), "dead-letter replay failed") >= 3
	}, 20*time.Second, 50*time.Millisecond, "the worker fails several times against the paused PostgreSQL")
	s.pg.Do(t, "unpause")

	require.Eventually(t, func() bool {
		total, _ := countRows(t, s.pool, "rr-outage")
		return total == 5
	}, 30*time.Second, 100*time.Millisecond)
	dead, err := rdb.XLen(ctx, dlq.DeadLetter).Result()
	require.NoError(t, err)
	assert.Zero(t, dead)
}
