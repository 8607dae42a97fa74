package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// partitionLockKey serialises partition maintenance between DS instances (pg_advisory_xact_lock).
const partitionLockKey = 0x64736576 // "dsev"

// PartitionName is the monthly partition holding month's events: audit_events_yYYYYmMM.
func PartitionName(month time.Time) string {
	return fmt.Sprintf("audit_events_y%04dm%02d", month.Year(), int(month.Month()))
}

// MonthStart is the first day (UTC) of t's month.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// EnsurePartitions makes sure monthly partitions exist from the month before now (events may be
// up to 7 days old) to ahead months after it. Rows of a new month that already sit in the default
// partition are moved into the new partition, so attaching it never fails.
func (s *Store) EnsurePartitions(ctx context.Context, now time.Time, ahead int) ([]string, error) {
	var created []string
	first := MonthStart(now).AddDate(0, -1, 0)
	for i := 0; i <= ahead+1; i++ {
		from := first.AddDate(0, i, 0)
		ok, err := s.ensurePartition(ctx, from)
		if err != nil {
			return created, fmt.Errorf("ensure partition %s: %w", PartitionName(from), err)
		}
		if ok {
			created = append(created, PartitionName(from))
		}
	}
	return created, nil
}

func (s *Store) ensurePartition(ctx context.Context, from time.Time) (bool, error) {
	name := PartitionName(from)
	to := from.AddDate(0, 1, 0)
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, "public."+name).Scan(&exists); err != nil {
		return false, err
	}
	if exists {
		return false, nil
	}
	created := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(partitionLockKey)); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, "public."+name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		ident := pgx.Identifier{name}.Sanitize()
		fromS, toS := from.Format("2006-01-02"), to.Format("2006-01-02")
		stmts := []string{
			`CREATE TABLE ` + ident + ` (LIKE audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
			`WITH moved AS (DELETE FROM audit_events_default WHERE event_date >= '` + fromS + `' AND event_date < '` + toS + `' RETURNING *)
			 INSERT INTO ` + ident + ` SELECT * FROM moved`,
			`ALTER TABLE audit_events ATTACH PARTITION ` + ident + ` FOR VALUES FROM ('` + fromS + `') TO ('` + toS + `')`,
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	return created, err
}
