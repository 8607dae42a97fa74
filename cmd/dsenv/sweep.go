package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/dsenv/dsenv/internal/sweep"
)

func init() {
	register("sweep", "remove leftover test environments (dead owner, --ttl, --env ID)", runSweep)
}

func runSweep(ctx context.Context, args []string) error {
	fs := newFlagSet("sweep", "[--dry-run] [--ttl D] [--env ID] [--all]")
	var o sweep.Options
	fs.StringVar(&o.Env, "env", "", "remove this one environment (any owner)")
	fs.DurationVar(&o.TTL, "ttl", 0, "also remove environments older than this whose owner is not alive here (e.g. 24h)")
	fs.BoolVar(&o.All, "all", false, "also remove persistent environments (make up, shared); never one whose owner is alive")
	fs.BoolVar(&o.DryRun, "dry-run", false, "only list what would be removed")
	if err := parse(fs, args); err != nil {
		return err
	}
	swept, err := sweep.Run(ctx, o)
	verb := "removed"
	if o.DryRun {
		verb = "would remove"
	}
	for _, s := range swept {
		fmt.Printf("%s %s (owner %s; %s): %s\n", verb, s.Env, s.Owner, s.Reason, strings.Join(s.Objects, " "))
	}
	if len(swept) == 0 && err == nil {
		fmt.Println("nothing to sweep")
	}
	return err
}
