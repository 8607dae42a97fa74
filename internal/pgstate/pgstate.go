// Package pgstate reads what Terraform's pg backend cannot say itself: who holds the state
// lock. The backend locks with a PostgreSQL advisory lock and records no lock information
// (its "Lock Info" is the waiting run's own), so the holder is found in pg_locks and
// pg_stat_activity: its database user, application name (PGAPPNAME of the holding run),
// client address and since when its session exists (the last two only for a role that
// may read other roles' statistics).
package pgstate

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ConnString is the backend's connection string: conn_str in one of the -backend-config
// files, else PG_CONN_STR as getenv reads it.
func ConnString(backendConfigFiles []string, getenv func(string) string) string {
	re := regexp.MustCompile(`(?m)^\s*conn_str\s*=\s*"([^"]+)"`)
	for _, f := range backendConfigFiles {
		if b, err := os.ReadFile(f); err == nil {
			if m := re.FindSubmatch(b); m != nil {
				return string(m[1])
			}
		}
	}
	return getenv("PG_CONN_STR")
}

// Holder describes the sessions other than its own that hold an advisory lock in the
// backend's database: the pg backend's state lock. password (PGPASSWORD, as the backend
// takes it) is used when connStr has none.
func Holder(ctx context.Context, connStr, password string) (string, error) {
	if connStr == "" {
		return "", fmt.Errorf("no connection string (PG_CONN_STR or conn_str in a -backend-config file)")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(connStr)
	if err != nil {
		return "", fmt.Errorf("state database connection string: %w", err)
	}
	if cfg.Password == "" {
		cfg.Password = password
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("connect to the state database: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `
SELECT a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''),
       coalesce(host(a.client_addr), ''), a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY a.backend_start`)
	if err != nil {
		return "", fmt.Errorf("read pg_locks: %w", err)
	}
	var holders []string
	seen := map[int32]bool{}
	for rows.Next() {
		var pid int32
		var user, app, client string
		var start *time.Time
		if err := rows.Scan(&pid, &user, &app, &client, &start); err != nil {
			return "", err
		}
		if seen[pid] {
			continue
		}
		seen[pid] = true
		h := fmt.Sprintf("database user %q", user)
		if app != "" {
			h += fmt.Sprintf(", application %q", app)
		}
		if client != "" { // hidden from a role without pg_read_all_stats
			h += ", from " + client
		}
		if start != nil {
			h += fmt.Sprintf(", session since %s", start.UTC().Format(time.RFC3339))
		}
		holders = append(holders, fmt.Sprintf("%s (backend pid %d)", h, pid))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(holders) == 0 {
		return "the lock was released meanwhile: plan again", nil
	}
	return "held by " + strings.Join(holders, "; "), nil
}
