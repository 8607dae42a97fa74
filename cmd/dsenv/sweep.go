package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/dsenv/dsenv/internal/sweep"
)

func init() {
	register("sweep", "remove leftover test environments (dead owner, --ttl, --env ID); persistent data stays", runSweep)
}

func runSweep(ctx context.Context, args []string) error {
	fs := newFlagSet("sweep", "[--dry-run] [--ttl D] [--env ID] [--all]")
	var o sweep.Options
	fs.StringVar(&o.Env, "env", "", "remove this one environment (any owner); a persistent one only with --force")
	fs.DurationVar(&o.TTL, "ttl", 0, "also remove environments older than this whose owner is not alive here (e.g. 24h)")
	fs.BoolVar(&o.All, "all", false, "also remove persistent environments (make up, shared): their containers and networks, not their volumes; never one whose owner is alive")
	fs.BoolVar(&o.Force, "force", false, "with --env: remove it even when it is persistent (its volumes only with --volumes)")
	fs.BoolVar(&o.Volumes, "volumes", false, "also remove the data volumes of the persistent environments removed (their data is gone for good)")
	fs.StringVar(&o.Label, "label", "", "only objects that also carry this label (key=value or key)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "only list what would be removed")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (flags only)", fs.Args())
	}
	if o.Force && o.Env == "" {
		return fmt.Errorf("--force needs --env ID: it names the one persistent environment to remove")
	}
	swept, err := sweep.Run(ctx, o)
	verb, keptVerb := "removed", "kept"
	if o.DryRun {
		verb, keptVerb = "would remove", "would keep"
	}
	for _, s := range swept {
		fmt.Printf("%s %s (owner %s; %s): %s\n", verb, s.Env, s.Owner, s.Reason, strings.Join(s.Objects, " "))
		if len(s.Kept) > 0 {
			fmt.Printf("%s of %s (%s): %s\n", keptVerb, s.Env, s.KeptReason, strings.Join(s.Kept, " "))
		}
	}
	if len(swept) == 0 && err == nil {
		fmt.Println("nothing to sweep")
	}
	return err
}
