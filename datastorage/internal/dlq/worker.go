package dlq

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/dsenv/dsenv/datastorage/internal/audit"
	"github.com/dsenv/dsenv/datastorage/internal/metrics"
	"github.com/dsenv/dsenv/datastorage/internal/store"
)

// Writer stores events; a replay of an already stored event must be a no-op.
type Writer interface {
	InsertEvents(ctx context.Context, events []audit.Event) error
}

// Worker replays queued events to PostgreSQL. An event PostgreSQL rejects as bad data is retried
// MaxRetries times and then moved to the dead-letter stream; while PostgreSQL is unreachable
// nothing is counted against an event, so an accepted event is never dropped because of an outage.
type Worker struct {
	Queue         *Queue
	Writer        Writer
	RetryInterval time.Duration // poll interval and backoff base
	MaxRetries    int
	WriteTimeout  time.Duration // bound of one PostgreSQL write
	Log           *slog.Logger
	Metrics       *metrics.DS
	// OnReplayed, if set, is called after events were written (DS uses it to close its breaker).
	OnReplayed func()
}

const (
	batchSize = 100
	claimIdle = time.Minute
)

// Run replays events until ctx is cancelled, backing off exponentially while PostgreSQL or
// Redis fail.
func (w *Worker) Run(ctx context.Context) {
	interval := max(w.RetryInterval, 10*time.Millisecond)
	maxBackoff := min(8*interval, 30*time.Second)
	backoff := interval
	block := min(interval, time.Second)
	var lastClaim time.Time
	for ctx.Err() == nil {
		// Claiming other consumers' idle entries is a write in Redis (it dirties the dataset and
		// so triggers RDB saves): do it every claimIdle/2, not on every poll.
		idle := time.Duration(-1)
		if time.Since(lastClaim) >= claimIdle/2 {
			idle, lastClaim = claimIdle, time.Now()
		}
		res, err := w.pass(ctx, block, idle)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.Log.Warn("dead-letter replay failed; will retry", "error", err.Error(), "backoff_ms", backoff.Milliseconds())
			sleep(ctx, backoff)
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		backoff = interval
		if res.retried > 0 {
			sleep(ctx, interval) // space the retries of rejected events
		}
	}
}

// Drain replays everything in the queue, including entries other consumers left pending, until
// the queue is empty or ctx ends. It returns how many events it wrote.
func (w *Worker) Drain(ctx context.Context) (int, error) {
	written := 0
	for {
		res, err := w.pass(ctx, -1, 0)
		written += res.written
		if err != nil {
			if ctx.Err() != nil {
				return written, fmt.Errorf("drain dead-letter queue: %w (last error: %v)", ctx.Err(), err)
			}
			w.Log.Warn("dead-letter drain pass failed; retrying", "error", err.Error())
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		if res.read == 0 {
			return written, nil
		}
		if ctx.Err() != nil {
			return written, fmt.Errorf("drain dead-letter queue: %w", ctx.Err())
		}
	}
}

type passResult struct {
	read, written, retried, dead int
}

// pass reads one batch and writes it. A returned error means PostgreSQL or Redis is unavailable:
// the entries stay pending for this consumer and are read again by the next pass.
func (w *Worker) pass(ctx context.Context, block, idle time.Duration) (passResult, error) {
	var res passResult
	entries, err := w.Queue.read(ctx, batchSize, block, idle)
	res.read = len(entries)
	if err != nil || len(entries) == 0 {
		return res, err
	}
	good := make([]entry, 0, len(entries))
	for _, e := range entries {
		if e.bad != nil {
			w.Log.Error("undecodable dead-letter entry moved to dead-letter stream", "entry_id", e.id, "error", e.bad.Error())
			if err := w.Queue.move(ctx, e.id, DeadLetter, e.raw); err != nil {
				return res, err
			}
			res.dead++
			w.Metrics.DeadLettered(1)
			continue
		}
		good = append(good, e)
	}
	if len(good) == 0 {
		return res, nil
	}
	err = w.write(ctx, good)
	if err == nil {
		if err := w.Queue.ack(ctx, ids(good)...); err != nil {
			return res, err
		}
		res.written = len(good)
		w.replayed(len(good))
		return res, nil
	}
	if !store.IsDataError(err) {
		return res, err
	}
	// PostgreSQL rejected something in the batch: find the bad events one by one.
	for _, e := range good {
		err := w.write(ctx, []entry{e})
		switch {
		case err == nil:
			if err := w.Queue.ack(ctx, e.id); err != nil {
				return res, err
			}
			res.written++
			w.replayed(1)
		case store.IsDataError(err):
			if err := w.reject(ctx, e, err); err != nil {
				return res, err
			}
			if e.msg.RetryCount+1 >= w.MaxRetries {
				res.dead++
			} else {
				res.retried++
			}
		default:
			return res, err
		}
	}
	return res, nil
}

func (w *Worker) write(ctx context.Context, entries []entry) error {
	events := make([]audit.Event, len(entries))
	for i, e := range entries {
		events[i] = e.msg.Payload
	}
	timeout := w.WriteTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return w.Writer.InsertEvents(wctx, events)
}

// reject counts a failed attempt: the entry is queued again with retry_count+1, or moved to the
// dead-letter stream once it has failed MaxRetries times.
func (w *Worker) reject(ctx context.Context, e entry, cause error) error {
	m := e.msg
	m.RetryCount++
	m.LastError = cause.Error()
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode dead-letter message: %w", err)
	}
	target := Stream
	if m.RetryCount >= w.MaxRetries {
		target = DeadLetter
		w.Log.Error("audit event moved to dead-letter stream after repeated failures",
			"event_id", m.Payload.EventID.String(), "retry_count", m.RetryCount, "error", m.LastError)
		w.Metrics.DeadLettered(1)
	} else {
		w.Log.Warn("audit event rejected by PostgreSQL; will retry",
			"event_id", m.Payload.EventID.String(), "retry_count", m.RetryCount, "error", m.LastError)
	}
	return w.Queue.move(ctx, e.id, target, string(b))
}

func (w *Worker) replayed(n int) {
	w.Metrics.Replayed(n)
	w.Log.Info("replayed audit events from dead-letter queue", "count", n)
	if w.OnReplayed != nil {
		w.OnReplayed()
	}
}

func ids(entries []entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.id
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
