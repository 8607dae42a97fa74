package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/persistent"
	"github.com/dsenv/dsenv/internal/status"
)

func init() {
	register("status", "every dsenv environment on the engine: kind, owner, age, containers and health, what `dsenv sweep` would do", runStatus)
}

func runStatus(ctx context.Context, args []string) error {
	fs := newFlagSet("status", "[--json]")
	dir := envDirFlag(fs)
	asJSON := fs.Bool("json", false, "print a JSON array (one object per environment) for scripts")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q: dsenv status takes only flags", fs.Arg(0))
	}
	here := ""
	if d, err := persistentDir(*dir); err == nil {
		here, _ = (&persistent.Persistent{Dir: d}).EnvID()
	}
	eng, err := engine.FromEnv()
	if err != nil {
		return &prereqError{err: err, fix: "fix DOCKER_HOST"}
	}
	if err := eng.Ping(ctx); err != nil {
		return &prereqError{err: err, fix: "start Docker (or set DOCKER_HOST) and retry"}
	}
	envs, err := status.List(ctx, eng, here)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(envs)
	}
	if len(envs) == 0 {
		fmt.Println("No dsenv environments on this engine. `make up` starts one.")
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENVIRONMENT\tKIND\tOWNER\tAGE\tHEALTH\tCONTAINERS\tdsenv sweep WOULD")
	for _, e := range envs {
		kind := e.Kind
		if e.Here {
			kind += " (here)"
		}
		owner := e.Owner
		if e.OwnerAlive {
			owner += " (alive)"
		}
		// ✔ running (healthy) or a job that exited 0, … health starting, ✘ anything else.
		var cs []string
		for _, c := range e.Containers {
			switch h := status.Health([]status.Container{c}); {
			case h == "healthy" || h == "stopped" && c.State == "exited" && c.ExitCode == 0:
				cs = append(cs, c.Service+" ✔")
			case h == "starting":
				cs = append(cs, c.Service+" …")
			default:
				cs = append(cs, c.Service+" ✘ "+containerState(c))
			}
		}
		would := "keep: " + e.Sweep.Reason
		if e.Sweep.Remove {
			would = "remove: " + e.Sweep.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, kind, owner, dash(e.Age), e.Health, dash(strings.Join(cs, " ")), would)
	}
	return tw.Flush()
}

func containerState(c status.Container) string {
	switch {
	case c.State == "running" && c.Health != "":
		return c.Health
	case c.State == "exited":
		return fmt.Sprintf("exited %d", c.ExitCode)
	}
	return c.State
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
