package tfharness

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// migrationTable is the migration tool's own table (goose); Reset leaves it alone, so
// the schema stays at its version.
const migrationTable = "goose_db_version"

// resetLockTimeout bounds the wait for TRUNCATE's ACCESS EXCLUSIVE lock: a DS request
// holding a row lock makes Reset fail with a clear error instead of stalling every
// request queued behind it.
const resetLockTimeout = 5 * time.Second

// Reset empties the environment for the next test without a new environment: every
// table the migrations created (all but goose_db_version; tables read from pg_catalog,
// so any schema works: a partitioned table is emptied through its parent, triggers do
// not fire on TRUNCATE) in one TRUNCATE ... RESTART IDENTITY CASCADE, and every Redis
// stream (the DS's dead-letter streams audit:dlq:events and audit:dead-letter:events)
// trimmed to no entries with their groups' pending entries acknowledged, which keeps the
// consumer groups, so the DS's worker reads on.
// The DS keeps running; its pooled connections stay valid (TRUNCATE does not end
// sessions). Reset empties the environment for every process attached to it: in a
// parallel Ginkgo suite run the specs that use it as Serial.
func (e *Env) Reset(ctx context.Context) error {
	if err := e.resetPostgres(ctx); err != nil {
		return &Error{Env: e.ID, Step: "reset", Err: err}
	}
	if err := e.resetRedis(ctx); err != nil {
		return &Error{Env: e.ID, Step: "reset", Err: err}
	}
	return nil
}

func (e *Env) resetPostgres(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, e.Postgres.DSN)
	if err != nil {
		return fmt.Errorf("postgres: %s", e.redact(err.Error()))
	}
	defer conn.Close(context.Background())
	// Ordinary and partitioned tables outside the system schemas; partitions go with
	// their parent.
	rows, err := conn.Query(ctx, `
		SELECT format('%I.%I', n.nspname, c.relname)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		  AND c.relname <> $1
		ORDER BY 1`, migrationTable)
	if err != nil {
		return fmt.Errorf("postgres: list tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgres: list tables: %w", err)
	}
	if len(tables) == 0 {
		return nil
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = '%dms'", resetLockTimeout.Milliseconds())); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(tables, ", ")+" RESTART IDENTITY CASCADE"); err != nil {
		return fmt.Errorf("postgres: truncate %s: %w", strings.Join(tables, ", "), err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func (e *Env) resetRedis(ctx context.Context) error {
	rdb := redis.NewClient(&redis.Options{Addr: e.Redis.Addr, Password: e.Redis.Password})
	defer rdb.Close()
	var streams []string
	iter := rdb.ScanType(ctx, 0, "*", 100, "stream").Iterator()
	for iter.Next(ctx) {
		streams = append(streams, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("redis: list streams: %s", e.redact(err.Error()))
	}
	if len(streams) == 0 {
		return nil
	}
	// XTRIM, not DEL: deleting a stream deletes its consumer group, and a consumer that
	// does not recreate it on NOGROUP would stop reading.
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, s := range streams {
			p.XTrimMaxLen(ctx, s, 0)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: trim %s: %w", strings.Join(streams, ", "), err)
	}
	// Pending entries of the groups now name deleted entries; a consumer reading its
	// pending list would get them without fields (the reference DS's worker would move
	// them to the dead-letter stream). Acknowledge them all.
	for _, s := range streams {
		groups, err := rdb.XInfoGroups(ctx, s).Result()
		if err != nil {
			return fmt.Errorf("redis: groups of %s: %w", s, err)
		}
		for _, g := range groups {
			for {
				pend, err := rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: s, Group: g.Name, Start: "-", End: "+", Count: 1000}).Result()
				if err != nil {
					return fmt.Errorf("redis: pending of %s/%s: %w", s, g.Name, err)
				}
				if len(pend) == 0 {
					break
				}
				ids := make([]string, len(pend))
				for i, p := range pend {
					ids[i] = p.ID
				}
				if err := rdb.XAck(ctx, s, g.Name, ids...).Err(); err != nil {
					return fmt.Errorf("redis: acknowledge pending of %s/%s: %w", s, g.Name, err)
				}
			}
		}
	}
	return nil
}
