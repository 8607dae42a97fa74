// Command dsmigrate waits for PostgreSQL, applies the DS schema migrations (goose, embedded) and
// prints the resulting version. It is the one-shot migration job of a dsenv environment.
//
// Environment:
//
//	DSMIGRATE_DSN_FILE  file holding the DSN (preferred: keeps the password out of the environment)
//	DATABASE_URL        the DSN, when DSMIGRATE_DSN_FILE is not set
//	DSMIGRATE_WAIT      how long to wait for PostgreSQL to answer SELECT 1 (default 60s)
//	DSMIGRATE_DIR       apply the *.sql files of this directory instead of the embedded ones
//
// The flag -dir overrides DSMIGRATE_DIR.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dsenv/dsenv/datastorage/internal/migrate"
	"github.com/dsenv/dsenv/datastorage/migrations"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	fl := flag.NewFlagSet("dsmigrate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("dir", getenv("DSMIGRATE_DIR"), "directory of goose *.sql migrations (default: the embedded ones)")
	if err := fl.Parse(args); err != nil {
		return 2
	}

	dsn, err := readDSN(getenv)
	if err != nil {
		log.Error(err.Error())
		return 1
	}
	wait, err := parseWait(getenv("DSMIGRATE_WAIT"))
	if err != nil {
		log.Error(err.Error())
		return 1
	}
	var fsys fs.FS = migrations.FS
	source := "embedded"
	if *dir != "" {
		fsys, source = os.DirFS(*dir), *dir
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	db, err := migrate.Open(dsn)
	if err != nil {
		log.Error("failed to open database", "error", err.Error())
		return 1
	}
	defer db.Close()

	start := time.Now()
	if err := migrate.WaitReady(ctx, db, wait, 250*time.Millisecond, log); err != nil {
		log.Error("database not ready", "error", err.Error())
		return 1
	}
	log.Info("database ready", "waited_ms", time.Since(start).Milliseconds(), "migrations", source)

	res, err := migrate.Up(ctx, db, fsys, log)
	if err != nil {
		var me *migrate.Error
		if errors.As(err, &me) {
			log.Error("migration failed", "file", me.File, "error", err.Error())
		} else {
			log.Error("migration failed", "error", err.Error())
		}
		return 1
	}
	if len(res.Applied) == 0 {
		log.Info("no migrations to apply", "version", res.Version)
	}
	fmt.Fprintf(stdout, "migrated to version %d\n", res.Version)
	return 0
}

// readDSN prefers the file named by DSMIGRATE_DSN_FILE, then DATABASE_URL.
func readDSN(getenv func(string) string) (string, error) {
	if p := getenv("DSMIGRATE_DSN_FILE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("failed to read DSMIGRATE_DSN_FILE: %w", err)
		}
		dsn := strings.TrimSpace(string(b))
		if dsn == "" {
			return "", fmt.Errorf("DSMIGRATE_DSN_FILE %s is empty", p)
		}
		return dsn, nil
	}
	if dsn := strings.TrimSpace(getenv("DATABASE_URL")); dsn != "" {
		return dsn, nil
	}
	return "", errors.New("DSMIGRATE_DSN_FILE or DATABASE_URL environment variable required")
}

// parseWait reads DSMIGRATE_WAIT: a Go duration ("60s") or a number of seconds.
func parseWait(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 60 * time.Second, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid DSMIGRATE_WAIT %q: want a duration like 60s", s)
	}
	return d, nil
}
