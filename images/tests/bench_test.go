package images

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BenchmarkPostgresFirstStart measures `docker run` of a fresh container (PGDATA on tmpfs)
// until a TCP connection with the password answers SELECT 1: the image's template copy
// against a real initdb (forced by POSTGRES_INITDB_ARGS), reported as ms-to-ready.
// Run: go test -run '^$' -bench . -benchtime 5x ./images/tests
func BenchmarkPostgresFirstStart(b *testing.B) {
	for _, bc := range []struct {
		name string
		env  []string
	}{
		{"template", nil},
		{"initdb", []string{"POSTGRES_INITDB_ARGS=--data-checksums"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				total += firstStart(b, bc.env)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-ready")
		})
	}
}

func firstStart(b *testing.B, extra []string) time.Duration {
	b.Helper()
	ctx := context.Background()
	pw := secret()
	env := append([]string{"POSTGRES_PASSWORD=" + pw, "POSTGRES_USER=u", "POSTGRES_DB=d"}, extra...)
	args := []string{"run", "-d", "--label", "dsenv.env=" + envLabel, "--tmpfs", "/var/lib/postgresql/data", "-p", "127.0.0.1::5432"}
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		args = append(args, "-e", name)
	}
	start := time.Now()
	id, err := docker(ctx, env, append(args, postgresImage)...)
	if id != "" {
		defer docker(context.Background(), nil, "rm", "-f", "-v", id) //nolint:errcheck
	}
	if err != nil {
		b.Fatal(err)
	}
	out, err := docker(ctx, nil, "port", id, "5432/tcp")
	if err != nil {
		b.Fatal(err)
	}
	line, _, _ := strings.Cut(out, "\n")
	port := line[strings.LastIndexByte(line, ':')+1:]
	for time.Since(start) < 60*time.Second {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, dsn(port, "u", pw, "d"))
		if err == nil {
			var one int
			err = conn.QueryRow(cctx, "SELECT 1").Scan(&one)
			conn.Close(cctx)
		}
		cancel()
		if err == nil {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatal("postgres not ready within 60s")
	return 0
}
