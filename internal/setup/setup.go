// Package setup takes a fresh machine to a ready dsenv toolchain: it checks the Docker
// daemon, finds Terraform, builds the docker provider into a local mirror and builds the
// images, each step skipped when its result is already there. cmd/dsenv setup runs it.
package setup

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
)

// Options says where setup works and where it reports.
type Options struct {
	RepoDir  string    // the dsenv checkout: images/, tools/provider/, cmd/
	CacheDir string    // cache.Dir()
	Out      io.Writer // one line per step, then a summary
	// WithOpenTofu also builds OpenTofu (always when DSENV_TF_BINARY=tofu).
	WithOpenTofu bool
	// WithKube also builds etcd and kube-apiserver and their images (terraform/modules/kubeapi
	// runs them): the first build takes about 5 minutes and 3 GB of memory.
	WithKube bool
}

// result is what a step reports on its line.
type result struct {
	detail   string
	built    bool   // false: found or skipped, nothing was built
	replaced string // id of the image a rebuild replaced, removed at the end
}

// runner prints each step's line and remembers what was built.
type runner struct {
	out      io.Writer
	built    []string
	replaced []string
	started  time.Time
}

func (r *runner) step(ctx context.Context, name string, fn func(context.Context) (result, error)) error {
	t0 := time.Now()
	res, err := fn(ctx)
	if err != nil {
		return err
	}
	state := "ok   "
	if res.built {
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

// Run performs every step in order and stops at the first that fails; its error is one
// line that names the problem and what to do.
func Run(ctx context.Context, o Options) error {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	r := &runner{out: o.Out, started: time.Now()}

	// Docker first: without a daemon nothing else is worth doing, and the check is fast.
	if err := r.step(ctx, "docker", checkDocker); err != nil {
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
	// OpenTofu before the binary check: with DSENV_TF_BINARY=tofu that check needs it.
	if o.WithOpenTofu || os.Getenv("DSENV_TF_BINARY") == "tofu" {
		steps = append(steps, step{"opentofu", func(ctx context.Context) (result, error) { return buildOpenTofu(ctx, o, r) }})
	}
	steps = append(steps,
		step{"terraform", func(ctx context.Context) (result, error) { return findTerraform(ctx, o.CacheDir) }},
		step{"provider", func(ctx context.Context) (result, error) { return buildProvider(ctx, o, r) }},
	)
	for _, s := range steps {
		if err := r.step(ctx, s.name, s.fn); err != nil {
			return err
		}
	}
	defer func() { removeReplaced(r.replaced) }()
	for _, img := range images(o.RepoDir) {
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
	fmt.Fprintf(o.Out, "setup: ready in %.1fs (%s); Terraform CLI config: %s\n",
		time.Since(r.started).Seconds(), what, cache.CLIConfig(o.CacheDir))
	return nil
}
