package main

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/dsenv/dsenv/tfharness"
)

// dsenvStack starts the environment with tfharness.Up (terraform/env as embedded in the
// harness, Terraform from PATH, the provider from the local mirror) and tears it down with
// Down (the harness default: by label through the Docker API, state discarded). terraform
// init runs once per process, in the unrecorded warm-up round; its time is reported apart.
type dsenvStack struct {
	name     string // "dsenv", or an experiment's name (-variants)
	modules  string // a terraform/ tree to apply instead of the embedded one
	vars     map[string]any
	log      *slog.Logger
	teardown tfharness.Teardown
	initTime time.Duration // the first environment's init, once per process
}

func (d *dsenvStack) Name() string {
	if d.name == "" {
		return "dsenv"
	}
	return d.name
}

func (d *dsenvStack) Short() string {
	if d.name == "" {
		return "ds"
	}
	return "dv"
}

// variant is an experiment: dsenv with other variables or another module tree, measured
// beside dsenv as committed (-variants FILE, a JSON list of these).
type variant struct {
	Name     string         `json:"name"`
	Modules  string         `json:"modules"`
	Vars     map[string]any `json:"vars"`
	Teardown string         `json:"teardown"`
}

type dsenvEnv struct {
	env *tfharness.Env
}

type logDiscard struct{ log *slog.Logger }

func (l logDiscard) Logf(format string, args ...any) { l.log.Debug("tfharness", "msg", format) }

func (d *dsenvStack) Up(ctx context.Context, s *Spec) (Env, error) {
	opts := []tfharness.Option{
		tfharness.WithIDPrefix("bench-ds"),
		tfharness.WithLabels(map[string]string{"dsenv.bench": s.RunID, "dsenv.bench.env": s.ID}),
		tfharness.WithImage(tfharness.ServicePostgres, s.Images.Postgres),
		tfharness.WithImage(tfharness.ServiceRedis, s.Images.Redis),
		tfharness.WithImage(tfharness.ServiceMigrate, s.Images.Migrate),
		tfharness.WithImage(tfharness.ServiceDataStorage, s.Images.DataStorage),
		tfharness.WithLogger(logDiscard{d.log}),
		tfharness.WithTimeout(3 * time.Minute),
	}
	if len(d.vars) > 0 {
		opts = append(opts, tfharness.WithVars(d.vars))
	}
	if d.modules != "" {
		opts = append(opts, tfharness.WithModules(os.DirFS(d.modules), "env"))
	}
	if d.teardown != "" {
		opts = append(opts, tfharness.WithTeardown(d.teardown))
	}
	e, err := tfharness.Up(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if e.Timings.Init > 0 {
		d.initTime = e.Timings.Init
	}
	return &dsenvEnv{env: e}, nil
}

func (e *dsenvEnv) HealthURL() string {
	return strings.TrimRight(e.env.DataStorage.HealthURL, "/") + "/readyz"
}

func (e *dsenvEnv) Down(ctx context.Context) error { return e.env.Down(ctx) }

func (e *dsenvEnv) Phases() []Phase {
	t := e.env.Timings
	return []Phase{
		{"copy (workspace)", t.Copy}, {"init", t.Init}, {"network (Docker API)", t.Network},
		{"apply", t.Apply}, {"outputs + /readyz", t.Ready},
	}
}

func (e *dsenvEnv) DownPhases() []Phase {
	return []Phase{{"teardown", e.env.Timings.Destroy}}
}
