package tfharness

import (
	"context"
	"fmt"
	"time"

	"github.com/gruntwork-io/terratest/modules/logger"
	"github.com/gruntwork-io/terratest/modules/terraform"
	ttesting "github.com/gruntwork-io/terratest/modules/testing"
)

// TerratestOptions prepares an environment for terratest's API and returns its
// *terraform.Options: TerraformDir is the environment's own workspace copy (with the
// lock file, so InitAndApply's init installs the provider from the mirror at once),
// Vars the non-secret variables,
// EnvVars the CLI config, the data directory and the generated secrets as TF_VAR_* (so
// none is in argv), RetryableTerraformErrors the harness's transient errors.
//
//	opts := tfharness.TerratestOptions(t)
//	terraform.InitAndApply(t, opts)
//	out := tfharness.TerratestOutputs(t, opts)
//
// When t has Cleanup (a *testing.T does), the environment is removed by label at the
// end of the test (logs dumped first when it failed; DSENV_KEEP honoured), so a
// `defer terraform.Destroy(t, opts)` is optional.
func TerratestOptions(t ttesting.TestingT, opts ...Option) *terraform.Options {
	o, err := TerratestOptionsE(t, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TerratestOptionsE is TerratestOptions returning an error.
func TerratestOptionsE(t ttesting.TestingT, opts ...Option) (*terraform.Options, error) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	base := []Option{WithTestName(t.Name())}
	if l, ok := t.(Logger); ok {
		base = append(base, WithLogger(l))
	}
	cfg := newConfig(append(base, opts...))
	if cfg.err != nil {
		return nil, fmt.Errorf("tfharness: %w", cfg.err)
	}
	if cfg.logger == nil {
		cfg.logger = stderrLogger{}
	}
	e, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := e.prepareTerratest(ctx); err != nil {
		err = fmt.Errorf("env %s: %w", e.ID, err)
		e.failed(err)
		return nil, err
	}
	if c, ok := t.(interface {
		Cleanup(func())
		Failed() bool
	}); ok {
		c.Cleanup(func() {
			if err := e.finish(c.Failed()); err != nil {
				t.Error(err)
			}
		})
	}
	env := map[string]string{
		"TF_CLI_CONFIG_FILE": e.proc.cliConfig,
		"TF_DATA_DIR":        e.dataDir,
		"CHECKPOINT_DISABLE": "1",
		"DSENV_ENV":          e.ID,
		"DSENV_OWNER":        e.Owner.String(),
	}
	for k, v := range e.secrets {
		env["TF_VAR_"+k] = v
	}
	retryable := make(map[string]string, len(cfg.retryable))
	for _, r := range cfg.retryable {
		retryable[r.re.String()] = r.why
	}
	return &terraform.Options{
		TerraformBinary:          e.tmpl.execPath,
		TerraformDir:             e.Dir,
		Vars:                     e.terratestVars,
		EnvVars:                  env,
		RetryableTerraformErrors: retryable,
		MaxRetries:               cfg.maxRetries,
		TimeBetweenRetries:       time.Second,
		NoColor:                  true,
	}, nil
}

// prepareTerratest does Up's steps up to, not including, the apply.
func (e *Env) prepareTerratest(ctx context.Context) error {
	d, err := e.prepareProcess(ctx)
	if err != nil {
		return err
	}
	track(e)
	if e.tmpl, _, err = e.proc.template(ctx, e.cfg); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	start := time.Now()
	if e.Dir, e.dataDir, err = e.proc.workspace(e.tmpl, e.ID, false); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	e.Timings.Copy = time.Since(start)
	e.terratestVars = e.vars()
	if err := e.ownNetwork(ctx, d, e.terratestVars); err != nil {
		return err
	}
	// The harness's tf is still useful for outputs and a destroy.
	e.tf, err = e.newTerraform()
	return err
}

// TerratestOutputs decodes the outputs of an environment applied with terratest.
func TerratestOutputs(t ttesting.TestingT, opts *terraform.Options) *Outputs {
	out, err := TerratestOutputsE(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TerratestOutputsE is TerratestOutputs returning an error. Terratest logs every line a
// command prints, and `terraform output -json` prints secrets in clear: this call runs
// with terratest's logging discarded. (terraform.Output(t, opts, "api_token") would log
// the token.)
func TerratestOutputsE(t ttesting.TestingT, opts *terraform.Options) (*Outputs, error) {
	quiet, err := opts.Clone()
	if err != nil {
		return nil, err
	}
	quiet.Logger = logger.Discard
	doc, err := terraform.OutputJsonE(t, quiet, "")
	if err != nil {
		return nil, err
	}
	return DecodeOutputsJSON([]byte(doc))
}
