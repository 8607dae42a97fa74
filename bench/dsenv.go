package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/dsenv/dsenv/tfharness"
)

// dsenvStack starts the environment with tfharness.Up (terraform/env as embedded in the
// harness, Terraform from PATH, the provider from the local mirror) and tears it down with
// Down (the harness default: by label through the Docker API, state discarded). terraform
// init runs once per process, in the unrecorded warm-up round; its time is reported apart.
type dsenvStack struct {
	repo     string
	log      *slog.Logger
	teardown tfharness.Teardown
	initTime time.Duration // the first environment's init, once per process
}

func (*dsenvStack) Name() string  { return "dsenv" }
func (*dsenvStack) Short() string { return "ds" }

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
