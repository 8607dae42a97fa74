// Package migrate waits for PostgreSQL and applies the goose migrations of the DS schema.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Error is a failed migration; File names the migration file.
type Error struct {
	File string
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("migration %s failed: %v", e.File, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Open opens a database/sql handle on the pgx driver. It does not connect.
func Open(dsn string) (*sql.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// WaitReady polls until the database answers SELECT 1 or the wait elapses. It returns the last
// connection error on timeout.
func WaitReady(ctx context.Context, db *sql.DB, wait, every time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(wait)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, min(2*time.Second, max(time.Until(deadline), 100*time.Millisecond)))
		var one int
		err := db.QueryRowContext(actx, "SELECT 1").Scan(&one)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for PostgreSQL: %w", ctx.Err())
		}
		if time.Now().Add(every).After(deadline) {
			return fmt.Errorf("PostgreSQL did not answer SELECT 1 within %s: %w", wait, err)
		}
		log.Debug("waiting for PostgreSQL", "attempt", attempt, "error", err.Error())
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for PostgreSQL: %w", ctx.Err())
		case <-time.After(every):
		}
	}
}

// Result is what Up did.
type Result struct {
	Version int64    // the database version afterwards
	Applied []string // files applied by this run, in order
}

// Up applies every pending migration in fsys (files at its root) under a session lock, so
// concurrent runs are safe. A failing migration returns an *Error naming its file.
func Up(ctx context.Context, db *sql.DB, fsys fs.FS, log *slog.Logger) (Result, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return Result{}, fmt.Errorf("create migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return Result{}, fmt.Errorf("load migrations: %w", err)
	}
	results, err := p.Up(ctx)
	var res Result
	for _, r := range results {
		res.Applied = append(res.Applied, path.Base(r.Source.Path))
		log.Info("applied migration", "file", path.Base(r.Source.Path), "duration_ms", r.Duration.Milliseconds())
	}
	if err != nil {
		var pe *goose.PartialError
		if errors.As(err, &pe) && pe.Failed != nil && pe.Failed.Source != nil {
			for _, r := range pe.Applied {
				res.Applied = append(res.Applied, path.Base(r.Source.Path))
			}
			return res, &Error{File: path.Base(pe.Failed.Source.Path), Err: pe.Err}
		}
		return res, fmt.Errorf("apply migrations: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return res, fmt.Errorf("read schema version: %w", err)
	}
	res.Version = v
	return res, nil
}
