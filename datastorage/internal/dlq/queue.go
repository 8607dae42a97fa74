// Package dlq is the dead-letter queue of DS: events that could not be written to PostgreSQL are
// appended to a Redis stream, and a consumer-group worker writes them back when PostgreSQL returns.
package dlq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dsenv/dsenv/datastorage/internal/audit"
	"github.com/dsenv/dsenv/datastorage/internal/dsconfig"
	"github.com/dsenv/dsenv/datastorage/internal/retry"
)

// Stream names, consumer group and message field (DS contract).
const (
	Stream       = "audit:dlq:events"
	DeadLetter   = "audit:dead-letter:events"
	Group        = "datastorage-dlq-workers"
	MessageField = "message"
)

// Message is the JSON held in the stream entry's "message" field.
type Message struct {
	Payload    audit.Event `json:"payload"`
	Timestamp  time.Time   `json:"timestamp"`
	RetryCount int         `json:"retry_count"`
	LastError  string      `json:"last_error,omitempty"`
}

// Queue is the Redis side of the dead-letter queue.
type Queue struct {
	rdb      *redis.Client
	maxLen   int64
	consumer string
}

// Options builds the go-redis options; the password comes from the secrets file.
func Options(cfg dsconfig.Redis) *redis.Options {
	return &redis.Options{
		Addr:         cfg.Addr,
		Password:     cfg.Password,
		DialTimeout:  2 * time.Second,
		ReadTimeout:  3 * time.Second,
		WriteTimeout: 3 * time.Second,
		MaxRetries:   1,
		// One dial per try: the startup retry budget and the worker's backoff do the retrying.
		DialerRetries: 1,
	}
}

// RedisLogger routes go-redis's internal log lines into slog at debug level (install it with
// redis.SetLogger in main); otherwise they go to stderr as plain text among the JSON logs.
type RedisLogger struct{ Log *slog.Logger }

// Printf implements go-redis's logging interface.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.Log.DebugContext(ctx, "go-redis", "detail", fmt.Sprintf(format, v...))
}

// Connect PINGs Redis within the retry budget and makes sure the consumer group exists. On
// failure the error reads "failed to connect to Redis: <cause>".
func Connect(ctx context.Context, cfg dsconfig.Redis, budget retry.Budget, log *slog.Logger) (*Queue, error) {
	rdb := redis.NewClient(Options(cfg))
	q := New(rdb, cfg.DLQMaxLen, "")
	err := budget.Do(ctx, log, "redis", func(ctx context.Context) error {
		if err := rdb.Ping(ctx).Err(); err != nil {
			return err
		}
		return q.EnsureGroup(ctx)
	})
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("failed to connect to Redis: %w", err)
	}
	return q, nil
}

// New wraps a client. consumer names this process in the group (default: the host name, which
// is stable across restarts of a container, so its pending entries are picked up again).
func New(rdb *redis.Client, maxLen int64, consumer string) *Queue {
	if consumer == "" {
		consumer, _ = os.Hostname()
		if consumer == "" {
			consumer = "datastorage"
		}
	}
	if maxLen <= 0 {
		maxLen = dsconfig.DefaultDLQMaxLen
	}
	return &Queue{rdb: rdb, maxLen: maxLen, consumer: consumer}
}

// EnsureGroup creates the stream and its consumer group if they do not exist.
func (q *Queue) EnsureGroup(ctx context.Context) error {
	err := q.rdb.XGroupCreateMkStream(ctx, Stream, Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create consumer group %s: %w", Group, err)
	}
	return nil
}

// Ping checks that Redis answers.
func (q *Queue) Ping(ctx context.Context) error {
	if err := q.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping Redis: %w", err)
	}
	return nil
}

// Len is the number of entries waiting in the dead-letter stream.
func (q *Queue) Len(ctx context.Context) (int64, error) {
	n, err := q.rdb.XLen(ctx, Stream).Result()
	if err != nil {
		return 0, fmt.Errorf("length of %s: %w", Stream, err)
	}
	return n, nil
}

// Close closes the client.
func (q *Queue) Close() error { return q.rdb.Close() }

// Client exposes the client (tests).
func (q *Queue) Client() *redis.Client { return q.rdb }

// Enqueue appends one message per event to the stream in a single MULTI/EXEC, so either all
// events of a request are queued or none is.
func (q *Queue) Enqueue(ctx context.Context, events []audit.Event, cause error) error {
	now := time.Now().UTC()
	lastErr := ""
	if cause != nil {
		lastErr = cause.Error()
	}
	msgs := make([]string, len(events))
	for i := range events {
		b, err := json.Marshal(Message{Payload: events[i], Timestamp: now, LastError: lastErr})
		if err != nil {
			return fmt.Errorf("encode dead-letter message: %w", err)
		}
		msgs[i] = string(b)
	}
	_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range msgs {
			p.XAdd(ctx, q.addArgs(Stream, m))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append %d events to %s: %w", len(events), Stream, err)
	}
	return nil
}

func (q *Queue) addArgs(stream, msg string) *redis.XAddArgs {
	return &redis.XAddArgs{Stream: stream, MaxLen: q.maxLen, Approx: true, Values: []string{MessageField, msg}}
}

// entry is one stream entry as the worker sees it.
type entry struct {
	id  string
	msg Message
	raw string
	bad error // the entry could not be decoded
}

// read returns entries for this consumer: its own pending ones first ("0"), then entries idle
// for claimIdle in other consumers (claimIdle < 0: skip), then new ones (">"), waiting up to block
// (block < 0: no wait).
func (q *Queue) read(ctx context.Context, count int64, block, claimIdle time.Duration) ([]entry, error) {
	msgs, err := q.readGroup(ctx, "0", count, -1)
	if err != nil || len(msgs) > 0 {
		return decode(msgs), err
	}
	if claimIdle < 0 {
		msgs, err = q.readGroup(ctx, ">", count, block)
		return decode(msgs), err
	}
	claimed, _, err := q.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: Stream, Group: Group, Consumer: q.consumer, MinIdle: claimIdle, Start: "0-0", Count: count,
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("claim idle dead-letter entries: %w", err)
	}
	if len(claimed) > 0 {
		return decode(claimed), nil
	}
	msgs, err = q.readGroup(ctx, ">", count, block)
	return decode(msgs), err
}

func (q *Queue) readGroup(ctx context.Context, id string, count int64, block time.Duration) ([]redis.XMessage, error) {
	res, err := q.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: Group, Consumer: q.consumer, Streams: []string{Stream, id}, Count: count, Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		if strings.HasPrefix(err.Error(), "NOGROUP") {
			if gerr := q.EnsureGroup(ctx); gerr != nil {
				return nil, gerr
			}
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", Stream, err)
	}
	var out []redis.XMessage
	for _, s := range res {
		out = append(out, s.Messages...)
	}
	return out, nil
}

func decode(msgs []redis.XMessage) []entry {
	out := make([]entry, 0, len(msgs))
	for _, m := range msgs {
		e := entry{id: m.ID}
		raw, ok := m.Values[MessageField].(string)
		e.raw = raw
		switch {
		case !ok:
			e.bad = fmt.Errorf("entry has no %q field", MessageField)
		default:
			if err := json.Unmarshal([]byte(raw), &e.msg); err != nil {
				e.bad = fmt.Errorf("decode entry: %w", err)
			}
		}
		out = append(out, e)
	}
	return out
}

// ack acknowledges and deletes entries that reached PostgreSQL.
func (q *Queue) ack(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, Stream, Group, ids...)
		p.XDel(ctx, Stream, ids...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("acknowledge %d dead-letter entries: %w", len(ids), err)
	}
	return nil
}

// move atomically appends msg to stream and acknowledges and deletes entry id.
func (q *Queue) move(ctx context.Context, id, stream, msg string) error {
	_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, q.addArgs(stream, msg))
		p.XAck(ctx, Stream, Group, id)
		p.XDel(ctx, Stream, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("move dead-letter entry %s to %s: %w", id, stream, err)
	}
	return nil
}
