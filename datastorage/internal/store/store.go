// Package store keeps audit events in PostgreSQL through a pgx pool: batch writes in one
// statement, filtered queries, and the monthly partitions of audit_events.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dsenv/dsenv/datastorage/internal/dsconfig"
	"github.com/dsenv/dsenv/datastorage/internal/retry"
)

// Store is the PostgreSQL side of DS.
type Store struct {
	pool *pgxpool.Pool
}

// New wraps an existing pool (tests, benchmarks).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// PoolConfig builds the pgx pool configuration from the database config. The password is set on
// the parsed config, never written into a connection string.
func PoolConfig(db dsconfig.Database) (*pgxpool.Config, error) {
	parts := []string{
		"host=" + quote(db.Host),
		"port=" + strconv.Itoa(db.Port),
		"dbname=" + quote(db.Name),
		"user=" + quote(db.User),
		"application_name=datastorage",
		"connect_timeout=5",
	}
	if db.SSLMode != "" {
		parts = append(parts, "sslmode="+quote(db.SSLMode))
	}
	cfg, err := pgxpool.ParseConfig(strings.Join(parts, " "))
	if err != nil {
		return nil, fmt.Errorf("invalid database settings: %w", err)
	}
	cfg.ConnConfig.Password = db.Password
	if db.MaxOpenConns > 0 {
		cfg.MaxConns = int32(db.MaxOpenConns)
	}
	if db.MaxIdleConns > 0 {
		cfg.MinIdleConns = int32(min(db.MaxIdleConns, int(cfg.MaxConns)))
	}
	if db.ConnMaxLifetime > 0 {
		cfg.MaxConnLifetime = db.ConnMaxLifetime
	}
	if db.ConnMaxIdleTime > 0 {
		cfg.MaxConnIdleTime = db.ConnMaxIdleTime
	}
	if db.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(db.StatementTimeout.Milliseconds(), 10)
	}
	if db.LockTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["lock_timeout"] = strconv.FormatInt(db.LockTimeout.Milliseconds(), 10)
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	return cfg, nil
}

// quote makes a libpq keyword/value: 'value' with \ and ' escaped.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Connect opens the pool and pings PostgreSQL within the retry budget. On failure the error
// reads "failed to ping PostgreSQL: <cause>".
func Connect(ctx context.Context, db dsconfig.Database, budget retry.Budget, log *slog.Logger) (*Store, error) {
	cfg, err := PoolConfig(db)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to ping PostgreSQL: %w", err)
	}
	if err := budget.Do(ctx, log, "postgresql", pool.Ping); err != nil {
		pool.Close()
		return nil, fmt.Errorf("failed to ping PostgreSQL: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Ping checks that PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping PostgreSQL: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the pool (tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// IsDataError reports whether PostgreSQL rejected the data itself (a data exception or an
// integrity violation): retrying the same events cannot succeed.
func IsDataError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	class := pe.Code[:2]
	return class == "22" || class == "23"
}
