// Package setup takes a fresh machine to a ready dsenv toolchain: it checks the Docker
// daemon, finds Terraform, builds the docker provider into a local mirror and builds the
// images, each step skipped when its result is already there. cmd/dsenv setup runs it.
package setup

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dsenv/dsenv/images"
	"github.com/dsenv/dsenv/internal/cache"
)

// Options says where setup works and where it reports.
type Options struct {
	// Recipes holds the image recipes, one directory per image (images.FS when nil).
	Recipes fs.FS
	// RepoDir is a dsenv checkout to build the reference DS images from. Empty: build them
	// from the dsenv module at ModuleVersion (this binary's own version, outside a checkout).
	RepoDir       string
	ModuleVersion string
	CacheDir      string    // cache.Dir()
	Out           io.Writer // one line per step, then a summary
	// WithOpenTofu also builds OpenTofu (always when DSENV_TF_BINARY=tofu).
	WithOpenTofu bool
	// WithKube also builds etcd and kube-apiserver and their images (terraform/modules/kubeapi
	// runs them): the first build takes about 5 minutes and 3 GB of memory.
	WithKube bool
	// NoInstall: never install a missing tool, only say which command does.
	NoInstall bool
}

// result is what a step reports on its line.
type result struct {
	detail   string
	built    bool   // false: found or skipped, nothing was built
	replaced string // id of the image a rebuild replaced, removed at the end
	// installed: Debian packages the step installed (built is then true too)
	installed []string
}

// runner prints each step's line and remembers what was built.
type runner struct {
	out       io.Writer
	built     []string
	installed []string
	replaced  []string
	started   time.Time
}

func (r *runner) step(ctx context.Context, name string, fn func(context.Context) (result, error)) error {
	t0 := time.Now()
	res, err := fn(ctx)
	if err != nil {
		return err
	}
	state := "ok   "
	switch {
	case res.built && len(res.installed) > 0:
		state = "instd"
		r.installed = append(r.installed, res.installed...)
	case res.built:
		state = "built"
		r.built = append(r.built, name)
	}
	if res.replaced != "" {
		r.replaced = append(r.replaced, res.replaced)
	}
	fmt.Fprintf(r.out, "  %-20s %s %6.1fs  %s\n", name, state, time.Since(t0).Seconds(), res.detail)
	return nil
}

// notef prints an indented note before a long step starts, so a user knows why it waits.
func (r *runner) notef(format string, args ...any) {
	fmt.Fprintf(r.out, "  "+format+"\n", args...)
}

// baseNeeded reports whether the base image is missing or older than its recipe.
func baseNeeded(ctx context.Context, o Options) (bool, error) {
	for _, img := range imageList() {
		if img.kind != kindBase {
			continue
		}
		_, _, want, err := baseRecipe(o.Recipes, img)
		if err != nil {
			return false, fmt.Errorf("base image recipe: %w", err)
		}
		ok, _, err := img.current(ctx, want)
		return !ok, err
	}
	return false, nil
}

// Run performs every step in order and stops at the first that fails; its error is one
// line that names the problem and what to do.
func Run(ctx context.Context, o Options) error {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Recipes == nil {
		o.Recipes = images.FS
	}
	r := &runner{out: o.Out, started: time.Now()}

	// Docker first: without a daemon nothing else is worth doing, and the check is fast.
	if err := r.step(ctx, "docker", checkDocker); err != nil {
		return err
	}
	// Then every tool a later step runs, installed where it can be: seconds, before any build.
	needBase, err := baseNeeded(ctx, o)
	if err != nil {
		return err
	}
	if err := r.step(ctx, "prerequisites", func(ctx context.Context) (result, error) { return prerequisites(ctx, o, needBase) }); err != nil {
		return err
	}
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return fmt.Errorf("create cache dir %s: %w", o.CacheDir, err)
	}
	unlock, err := lock(ctx, filepath.Join(o.CacheDir, "setup.lock"), r)
	if err != nil {
		return err
	}
	defer unlock()

	type step struct {
		name string
		fn   func(context.Context) (result, error)
	}
	var steps []step
	tofu := os.Getenv("DSENV_TF_BINARY") == "tofu"
	terraform := step{"terraform", func(ctx context.Context) (result, error) { return findTerraform(ctx, o.CacheDir) }}
	if !tofu {
		// Terraform is a prerequisite too: found (or fetched) before any build.
		steps = append(steps, terraform)
	}
	if o.WithOpenTofu || tofu {
		steps = append(steps, step{"opentofu", func(ctx context.Context) (result, error) { return buildOpenTofu(ctx, o, r) }})
	}
	if tofu {
		// With DSENV_TF_BINARY=tofu the binary check needs the OpenTofu setup builds.
		steps = append(steps, terraform)
	}
	steps = append(steps, step{"provider", func(ctx context.Context) (result, error) { return buildProvider(ctx, o, r) }})
	for _, s := range steps {
		if err := r.step(ctx, s.name, s.fn); err != nil {
			return err
		}
	}
	defer func() { removeReplaced(r.replaced) }()
	for _, img := range imageList() {
		if err := r.step(ctx, img.Name, func(ctx context.Context) (result, error) { return img.build(ctx, o, r) }); err != nil {
			return err
		}
	}
	if o.WithKube {
		for _, kb := range kubeBinaries() {
			if err := r.step(ctx, kb.name, func(ctx context.Context) (result, error) { return kb.build(ctx, o, r) }); err != nil {
				return err
			}
		}
	}

	what := "nothing built"
	if len(r.built) > 0 {
		what = "built " + strings.Join(r.built, ", ")
	}
	if len(r.installed) > 0 {
		what = "installed " + strings.Join(r.installed, ", ") + "; " + what
	}
	fmt.Fprintf(o.Out, "setup: ready in %.1fs (%s); Terraform CLI config: %s\n",
		time.Since(r.started).Seconds(), what, cache.CLIConfig(o.CacheDir))
	return nil
}
