package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	dsterraform "github.com/dsenv/dsenv/terraform"
	"github.com/dsenv/dsenv/tfharness"
)

// dsenvStack starts the environment with tfharness.Up (terraform/env as embedded in the
// harness, Terraform from PATH, the provider from the local mirror) and tears it down with
// Down (the harness default: by label through the Docker API, state discarded). terraform
// init runs once per process, in the unrecorded warm-up round; its time is reported apart.
type dsenvStack struct {
	name     string // "dsenv", or an experiment's name (-variants)
	short    string // an experiment's part of environment ids: v1, v2, ...
	modules  string // a terraform/ tree to apply instead of the embedded one
	vars     map[string]any
	log      *slog.Logger
	teardown tfharness.Teardown
	initTime time.Duration         // the first environment's init, once per process
	images   Images                // the suite's images (the single-environment samples take them from the Spec)
	auth     tfharness.AuthBackend // "" or AuthStandIn: the stand-in; AuthKube: etcd + kube-apiserver
	err      error                 // why this stack cannot run here (dsenv-kube without its images)
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
	return d.short
}

// variant is an experiment: dsenv with other variables or another module tree, measured
// beside dsenv as committed (-variants FILE, a JSON list of these).
type variant struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Modules     string         `json:"modules"`
	Vars        map[string]any `json:"vars"`
	Teardown    string         `json:"teardown"`
	// Overrides are Terraform override files (path in the module tree -> content) added
	// to a copy of the embedded modules, e.g. "modules/datastorage/bench_override.tf".
	Overrides map[string]string `json:"overrides"`
}

// withOverrides writes the embedded module tree plus the override files under dir and
// returns dir.
func withOverrides(dir string, overrides map[string]string) (string, error) {
	err := fs.WalkDir(dsterraform.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := dsterraform.FS.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return "", err
	}
	for p, content := range overrides {
		if !strings.HasSuffix(p, "_override.tf") {
			return "", fmt.Errorf("override %q: the name must end in _override.tf", p)
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

type dsenvEnv struct {
	env *tfharness.Env
}

type logDiscard struct{ log *slog.Logger }

func (l logDiscard) Logf(format string, args ...any) { l.log.Debug("tfharness", "msg", format) }

func (d *dsenvStack) Up(ctx context.Context, s *Spec) (Env, error) {
	if d.err != nil {
		return nil, d.err
	}
	opts := []tfharness.Option{
		tfharness.WithIDPrefix("bench-" + d.Short()),
		tfharness.WithLabels(map[string]string{"dsenv.bench": s.RunID, "dsenv.bench.env": s.ID}),
		tfharness.WithImage(tfharness.ServicePostgres, s.Images.Postgres),
		tfharness.WithImage(tfharness.ServiceRedis, s.Images.Redis),
		tfharness.WithImage(tfharness.ServiceMigrate, s.Images.Migrate),
		tfharness.WithImage(tfharness.ServiceDataStorage, s.Images.DataStorage),
		tfharness.WithLogger(logDiscard{d.log}),
		tfharness.WithTimeout(3 * time.Minute),
	}
	if d.auth != "" {
		opts = append(opts, tfharness.WithAuthBackend(d.auth))
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

func (e *dsenvEnv) APIURL() string   { return e.env.DataStorage.URL }
func (e *dsenvEnv) APIToken() string { return e.env.Token }

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
