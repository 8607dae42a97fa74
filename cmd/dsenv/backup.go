package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/dsenv/dsenv/internal/backup"
	"github.com/dsenv/dsenv/internal/label"
)

func init() {
	register("backup", "save the DS database and Redis streams of an environment (default dsenv-shared) into DIR", runBackup)
	register("restore", "put a backup (dsenv backup DIR) into an environment, a fresh one as a rule", runRestore)
}

func backupFlags(name string, args []string, o *backup.Options) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&o.Env, "env", "dsenv-shared", "environment id (name_prefix): its containers <ID>-postgres, <ID>-redis, <ID>-datastorage")
	if name == "restore" {
		fs.BoolVar(&o.KeepStopped, "keep-stopped", false, "leave the DS stopped afterwards (it would start draining the restored queue at once)")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: dsenv %s [flags] DIR\n\nflags:\n", name)
		fs.PrintDefaults()
	}
	var positionals []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positionals = append(positionals, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(positionals) != 1 {
		fs.Usage()
		return fmt.Errorf("want exactly one DIR, got %d", len(positionals))
	}
	if !label.ValidEnvID.MatchString(o.Env) {
		return fmt.Errorf("--env %q: want %s", o.Env, label.ValidEnvID)
	}
	o.Dir = positionals[0]
	o.Log = os.Stderr
	return nil
}

func runBackup(ctx context.Context, args []string) error {
	var o backup.Options
	if err := backupFlags("backup", args, &o); err != nil {
		return err
	}
	m, err := backup.Backup(ctx, o)
	if err != nil {
		return err
	}
	fmt.Printf("backup of %s in %s (mode 0700):\n", o.Env, o.Dir)
	printManifest(m)
	return nil
}

func runRestore(ctx context.Context, args []string) error {
	var o backup.Options
	if err := backupFlags("restore", args, &o); err != nil {
		return err
	}
	m, err := backup.Restore(ctx, o)
	if err != nil {
		return err
	}
	fmt.Printf("restored the backup of %s (%s) into %s; rows and stream lengths checked:\n", m.Env, m.Created.Format("2006-01-02 15:04:05Z"), o.Env)
	printManifest(m)
	return nil
}

func printManifest(m *backup.Manifest) {
	fmt.Printf("  PostgreSQL %s, database %s: %s (%d bytes)\n", m.Postgres.Version, m.Postgres.Database, m.Postgres.File, m.Postgres.Bytes)
	for _, t := range sortedKeys(m.Postgres.Rows) {
		fmt.Printf("    %-40s %d rows\n", t, m.Postgres.Rows[t])
	}
	fmt.Printf("  Redis %s: %s (%d bytes)\n", m.Redis.Version, m.Redis.File, m.Redis.Bytes)
	for _, k := range sortedKeys(m.Redis.Streams) {
		fmt.Printf("    %-40s %d entries\n", k, m.Redis.Streams[k])
	}
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
