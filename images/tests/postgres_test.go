package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const postgresImage = "dsenv/postgres:15"

// startPostgres runs the image with PGDATA on a tmpfs, the way the test environments do.
func startPostgres(t *testing.T, env []string, args ...string) (*container, string) {
	t.Helper()
	args = append([]string{"--tmpfs", "/var/lib/postgresql/data", "-p", "127.0.0.1::5432"}, args...)
	c := run(t, postgresImage, env, append(args, postgresImage)...)
	return c, c.hostPort(5432)
}

func dsn(port, user, password, db string) string {
	cfg := fmt.Sprintf("host=127.0.0.1 port=%s user=%s dbname=%s sslmode=disable connect_timeout=5", port, user, db)
	if password != "" {
		cfg += " password=" + password
	}
	return cfg
}

// connectReady retries until a TCP connection answers a query, and returns it.
func connectReady(t *testing.T, c *container, connStr string, timeout time.Duration) (*pgx.Conn, time.Duration) {
	t.Helper()
	start := time.Now()
	var last error
	for time.Since(start) < timeout {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, connStr)
		if err == nil {
			var one int
			if err = conn.QueryRow(ctx, "SELECT 1").Scan(&one); err == nil {
				cancel()
				t.Cleanup(func() { conn.Close(context.Background()) })
				return conn, time.Since(start)
			}
			conn.Close(ctx)
		}
		cancel()
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("postgres not ready after %s: %v\n%s", timeout, last, c.logs())
	return nil, 0
}

func TestPostgresPasswordLoginAsUserToDatabase(t *testing.T) {
	t.Parallel()
	pw := secret()
	c, port := startPostgres(t, []string{"POSTGRES_PASSWORD=" + pw, "POSTGRES_USER=u", "POSTGRES_DB=d"})
	conn, took := connectReady(t, c, dsn(port, "u", pw, "d"), 60*time.Second)
	t.Logf("first start to a TCP query answered: %s", took.Round(time.Millisecond))

	ctx := context.Background()
	var user, db, enc string
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_user, current_database(), pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()").Scan(&user, &db, &enc))
	assert.Equal(t, "u", user)
	assert.Equal(t, "d", db)
	assert.Equal(t, "UTF8", enc)
	var super bool
	require.NoError(t, conn.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super))
	assert.True(t, super, "POSTGRES_USER is a superuser, as in the official image")

	t.Run("wrong password is refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := pgx.Connect(ctx, dsn(port, "u", "not-"+pw, "d"))
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "want a server error, got %v", err)
		assert.Equal(t, "28P01", pgErr.Code, "invalid_password")
	})
	t.Run("no password is refused over TCP", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := pgx.Connect(ctx, dsn(port, "u", "", "d"))
		assert.Error(t, err)
	})
	t.Run("runs as postgres with pg_isready and psql on PATH", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := docker(ctx, nil, "exec", c.id, "pg_isready", "-q")
		require.NoError(t, err, out)
		out, err = docker(ctx, nil, "exec", c.id, "psql", "-U", "u", "-d", "d", "-Atc", "SELECT 1")
		require.NoError(t, err)
		assert.Equal(t, "1", out)
		out, err = docker(ctx, nil, "exec", c.id, "awk", "/^Uid:/{print $2}", "/proc/1/status")
		require.NoError(t, err)
		assert.NotEqual(t, "0", out, "the server does not run as root")
	})
}

func TestPostgresPasswordFileInitScriptsAndDefaults(t *testing.T) {
	t.Parallel()
	pw := secret()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pw"), []byte(pw+"\n"), 0o644))
	init := filepath.Join(dir, "init")
	require.NoError(t, os.MkdirAll(init, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(init, "01-table.sql"), []byte("CREATE TABLE seeded (v text); INSERT INTO seeded VALUES ('sql');\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(init, "02-more.sh"), []byte("#!/bin/bash\nset -e\npsql -v ON_ERROR_STOP=1 -c \"INSERT INTO seeded VALUES ('sh')\"\n"), 0o755))

	c, port := startPostgres(t, []string{"POSTGRES_PASSWORD_FILE=/run/secrets/pw"},
		"-v", filepath.Join(dir, "pw")+":/run/secrets/pw:ro",
		"-v", init+":/docker-entrypoint-initdb.d:ro")
	// Defaults: user postgres, database = user.
	conn, _ := connectReady(t, c, dsn(port, "postgres", pw, "postgres"), 60*time.Second)
	var n int
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT count(*) FROM seeded").Scan(&n))
	assert.Equal(t, 2, n, "both init scripts ran once, in order")
}

func TestPostgresRefusesToStartWithoutPassword(t *testing.T) {
	t.Parallel()
	c := run(t, postgresImage, nil, "--tmpfs", "/var/lib/postgresql/data", postgresImage)
	assert.Equal(t, 1, c.wait(60*time.Second))
	assert.Contains(t, c.logs(), "POSTGRES_PASSWORD")
}

func TestPostgresHostAuthTrustNeedsNoPassword(t *testing.T) {
	t.Parallel()
	c, port := startPostgres(t, []string{"POSTGRES_HOST_AUTH_METHOD=trust", "POSTGRES_DB=app"})
	connectReady(t, c, dsn(port, "postgres", "", "app"), 60*time.Second)
}
