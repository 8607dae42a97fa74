package tfharness

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/planreview"
)

// PlanResult is a saved plan and its review (markdown for a pull request, text for a
// terminal); see package planreview.
type PlanResult = planreview.Result

// PlanOption configures PlanReview.
type PlanOption func(*planConfig)

type planConfig struct {
	opts   planreview.Options
	binary Binary
	err    error
}

// PlanVarFile adds a -var-file (a tfvars or tfvars.json file), in order.
func PlanVarFile(path string) PlanOption {
	return func(c *planConfig) { c.opts.VarFiles = append(c.opts.VarFiles, path) }
}

// PlanVar sets a variable. Values go to a private temporary var file, never to argv, so
// credentials are safe here; TF_VAR_* in the environment work as well.
func PlanVar(name, value string) PlanOption {
	return func(c *planConfig) {
		if c.opts.Vars == nil {
			c.opts.Vars = map[string]string{}
		}
		c.opts.Vars[name] = value
	}
}

// PlanExecPath uses this terraform or tofu binary instead of looking one up.
func PlanExecPath(path string) PlanOption {
	return func(c *planConfig) { c.opts.ExecPath = path }
}

// PlanBinary chooses terraform or tofu (default: DSENV_TF_BINARY, else terraform).
func PlanBinary(b Binary) PlanOption { return func(c *planConfig) { c.binary = b } }

// PlanPluginDir sets the provider mirror for `terraform init -plugin-dir`
// (default: the dsenv cache's mirror when it holds the provider).
func PlanPluginDir(dir string) PlanOption {
	return func(c *planConfig) { c.opts.PluginDir = dir }
}

// PlanSkipInit skips `terraform init`: the directory is initialised already (a remote
// backend configured by hand, for example).
func PlanSkipInit() PlanOption { return func(c *planConfig) { c.opts.SkipInit = true } }

// PlanTitle heads the markdown review (usually the module directory).
func PlanTitle(title string) PlanOption {
	return func(c *planConfig) { c.opts.Render.Title = title }
}

// PlanOutput streams terraform's own output (init, plan progress) to w.
func PlanOutput(stdout, stderr io.Writer) PlanOption {
	return func(c *planConfig) { c.opts.Stdout, c.opts.Stderr = stdout, stderr }
}

// PlanJSONFile also writes the `terraform show -json` document of the plan to path (mode
// 0600: like the saved plan, it holds variable values, credentials included, in clear).
func PlanJSONFile(path string) PlanOption {
	return func(c *planConfig) { c.opts.JSONFile = path }
}

// PlanFile keeps the saved plan at path, for a later `terraform apply path`.
func PlanFile(path string) PlanOption {
	return func(c *planConfig) { c.opts.PlanFile = path }
}

// PlanReview plans the root module in dir (`terraform init`, `terraform plan -out`,
// `terraform show -json`) and reviews the plan. Its exit code in `-detailed-exitcode`
// terms is planreview.ExitCode(result, err): 0 no changes, 2 changes, 1 error.
func PlanReview(ctx context.Context, dir string, opts ...PlanOption) (*PlanResult, error) {
	c := &planConfig{opts: planreview.Options{Dir: dir}}
	if b, err := BinaryFromEnv(); err != nil {
		c.err = err
	} else {
		c.binary = b
	}
	for _, o := range opts {
		o(c)
	}
	if c.opts.ExecPath == "" {
		if c.err != nil {
			return nil, c.err
		}
		path, _, err := FindBinary(ctx, c.binary, "")
		if err != nil {
			return nil, err
		}
		c.opts.ExecPath = path
	}
	if c.opts.PluginDir == "" && !c.opts.SkipInit {
		c.opts.PluginDir = planMirror(c.binary)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("plan review: %w", err)
	}
	return planreview.Run(ctx, c.opts)
}

// planMirror returns the cache's provider mirror when it holds the provider, else "".
func planMirror(b Binary) string {
	dir, err := cache.Dir()
	if err != nil {
		return ""
	}
	host := "registry.terraform.io"
	if b == OpenTofu {
		host = "registry.opentofu.org"
	}
	if _, err := os.Stat(cache.ProviderBinary(dir, host)); err != nil {
		return ""
	}
	return cache.ProviderMirror(dir)
}
