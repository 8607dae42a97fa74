package reset_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dsenv/dsenv/tfharness"
)

// realMigrations is where kubernaut's own goose migrations are (never in this
// repository): DSENV_KUBERNAUT_MIGRATIONS, else /tmp/kubernaut-migrations.
func realMigrations(t *testing.T) string {
	dir := os.Getenv("DSENV_KUBERNAUT_MIGRATIONS")
	if dir == "" {
		dir = "/tmp/kubernaut-migrations"
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.sql")); len(m) == 0 {
		t.Skipf("no kubernaut migrations in %s (set DSENV_KUBERNAUT_MIGRATIONS to a checkout's migrations/)", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// Reset on the real DS's schema: kubernaut's migrations, applied by dsenv's migrate
// image (DSMIGRATE_DIR, as the migrations_dir variable does) to a second database of the
// environment's Postgres (the reference DS cannot run on that schema; the real DS needs
// more than this repository provides, REAL-DS.md). Partitioned audit_events and
// resource_action_traces, and DELETE triggers (legal hold, parent immutability) that a
// DELETE-based cleanup trips over.
func TestResetOnTheRealSchema(t *testing.T) {
	dir := realMigrations(t)
	env := tfharness.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	real := realSchemaEnv(t, ctx, env, dir)
	db, err := pgx.Connect(ctx, real.Postgres.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	var version int64
	if err := db.QueryRow(ctx, "SELECT max(version_id) FROM goose_db_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	// A parent event and a child under legal hold, as kubernaut's DS writes them.
	const insert = `INSERT INTO audit_events (event_id, event_date, event_type, event_category, event_action,
		event_outcome, actor_type, actor_id, resource_type, resource_id, correlation_id, event_data,
		parent_event_id, parent_event_date, legal_hold)
		VALUES ($1, current_date, 'gateway.signal.received', 'gateway', 'received', 'success', 'service',
		'gateway', 'Signal', 'fp-1', 'rr-real', '{}', $2, $3, $4)`
	parent, child := "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	if _, err := db.Exec(ctx, insert, parent, nil, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, insert, child, parent, time.Now().UTC().Format("2006-01-02"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "DELETE FROM audit_events"); err == nil {
		t.Fatal("DELETE of events under legal hold succeeded: the schema's triggers are not there")
	} else {
		t.Logf("what a DELETE-based cleanup gets on this schema: %v", err)
	}
	tables := userTables(t, ctx, db)
	nonEmpty := 0
	for _, tbl := range tables {
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 && tbl != "public.goose_db_version" {
			nonEmpty++
		}
	}
	t.Logf("real schema at version %d: %d tables (partitions included), %d of them with rows", version, len(tables), nonEmpty)

	start := time.Now()
	if err := real.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("reset of the real schema in %s", time.Since(start).Round(time.Microsecond))
	var left []string
	for _, tbl := range tables {
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM "+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 && tbl != "public.goose_db_version" {
			left = append(left, tbl)
		}
	}
	if len(left) > 0 {
		t.Errorf("after reset, rows left in %s", strings.Join(left, ", "))
	}
	var after int64
	if err := db.QueryRow(ctx, "SELECT max(version_id) FROM goose_db_version").Scan(&after); err != nil || after != version {
		t.Errorf("goose version after reset %d (%v); want %d kept", after, err, version)
	}
	// The schema still works: the trigger that sets event_date runs on the next insert.
	if _, err := db.Exec(ctx, insert, parent, nil, nil, false); err != nil {
		t.Errorf("insert after reset: %v", err)
	}
}

// realSchemaEnv creates the database "kubernaut" in env's Postgres, applies the real
// migrations to it with the migrate image, and returns env attached with that database.
func realSchemaEnv(t *testing.T, ctx context.Context, env *tfharness.Env, dir string) *tfharness.Env {
	t.Helper()
	admin, err := pgx.Connect(ctx, env.Postgres.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE kubernaut"); err != nil {
		t.Fatal(err)
	}
	internal, err := url.Parse(env.Postgres.InternalDSN)
	if err != nil {
		t.Fatal("internal DSN does not parse")
	}
	internal.Path = "/kubernaut"
	// The DSN reaches the job through an --env-file (0600), never argv.
	envFile := filepath.Join(t.TempDir(), "migrate.env")
	if err := os.WriteFile(envFile, []byte("DATABASE_URL="+internal.String()+"\nDSMIGRATE_DIR=/migrations\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	image := os.Getenv("DSENV_MIGRATE_IMAGE")
	if image == "" {
		image = "dsenv/migrate:latest"
	}
	start := time.Now()
	out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", env.Network, "--env-file", envFile,
		"--label", "dsenv.env="+env.ID, "-v", dir+":/migrations:ro", image).CombinedOutput()
	if err != nil {
		t.Fatalf("migrate the real schema: %v\n%s", err, out)
	}
	t.Logf("kubernaut's migrations applied by %s in %s", image, time.Since(start).Round(time.Millisecond))

	p, err := env.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(p, &doc); err != nil {
		t.Fatal(err)
	}
	host, err := url.Parse(env.Postgres.DSN)
	if err != nil {
		t.Fatal("DSN does not parse")
	}
	host.Path = "/kubernaut"
	doc["outputs"].(map[string]any)["postgres_dsn"] = host.String()
	p, _ = json.Marshal(doc)
	real, err := tfharness.Attach(p)
	if err != nil {
		t.Fatal(err)
	}
	return real
}
