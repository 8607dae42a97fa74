package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/persistent"
)

func init() {
	register("logs", "show the last log lines and health of an environment's containers", runLogs)
}

func runLogs(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	env := fs.String("env", "", "environment id (default: the one `dsenv up` created)")
	tail := fs.Int("tail", 100, "lines per container")
	dir := envDirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *env == "" {
		d, err := persistentDir(*dir)
		if err != nil {
			return err
		}
		id, err := (&persistent.Persistent{Dir: d}).EnvID()
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("no environment from `dsenv up` here: pass --env ID (dsenv sweep --dry-run --all lists them)")
		}
		if err != nil {
			return err
		}
		*env = id
	}
	reports, err := engine.CollectLogs(ctx, *env, *tail)
	if err != nil {
		return err
	}
	if len(reports) == 0 {
		return fmt.Errorf("no containers labelled %s=%s", label.Env, *env)
	}
	engine.WriteReport(os.Stdout, reports)
	return nil
}
