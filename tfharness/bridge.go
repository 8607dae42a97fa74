package tfharness

import (
	"context"
	"fmt"
	"time"

	"github.com/dsenv/dsenv/internal/bridge"
)

func init() { bridge.Prepare = prepareForRunner }

// prepareForRunner does Up's steps up to, not including, the apply, for another runner
// (package tfharness/terratest).
func prepareForRunner(ctx context.Context, anyOpts []any) (*bridge.Prepared, error) {
	opts := make([]Option, 0, len(anyOpts))
	for _, o := range anyOpts {
		opt, ok := o.(Option)
		if !ok {
			return nil, fmt.Errorf("tfharness: %T is not a tfharness.Option", o)
		}
		opts = append(opts, opt)
	}
	cfg := newConfig(opts)
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
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	if err := e.prepareRunner(ctx); err != nil {
		err = envError(e.ID, err)
		e.failed(err)
		return nil, err
	}
	env := map[string]string{
		"TF_CLI_CONFIG_FILE": e.proc.cliConfig,
		"TF_DATA_DIR":        e.dataDir,
		"CHECKPOINT_DISABLE": "1",
		"DSENV_ENV":          e.ID,
		"DSENV_OWNER":        e.Owner,
	}
	if err := e.awaitSigning(); err != nil {
		err = envError(e.ID, stepError("copy", err))
		e.failed(err)
		return nil, err
	}
	for k, v := range e.secrets {
		env["TF_VAR_"+k] = v
	}
	retryable := make(map[string]string, len(cfg.retryable))
	for _, r := range cfg.retryable {
		retryable[r.re.String()] = r.why
	}
	return &bridge.Prepared{
		ID: e.ID, ExecPath: e.tmpl.execPath, Dir: e.Dir, Vars: e.runnerVars, EnvVars: env,
		Retryable: retryable, MaxRetries: cfg.maxRetries, Finish: e.finish,
	}, nil
}

// prepareRunner does Up's steps up to, not including, the apply.
func (e *Env) prepareRunner(ctx context.Context) error {
	d, err := e.prepareProcess(ctx)
	if err != nil {
		return err
	}
	track(e)
	if e.tmpl, _, err = e.proc.template(ctx, e.cfg); err != nil {
		return stepError("init", err)
	}
	start := time.Now()
	if e.Dir, e.dataDir, err = e.proc.workspace(e.tmpl, e.ID, false); err != nil {
		return stepError("copy", err)
	}
	e.Timings.Copy = time.Since(start)
	e.runnerVars = e.vars()
	if err := e.ownNetwork(ctx, d, e.runnerVars); err != nil {
		return err
	}
	// The harness's tf is still useful for outputs and a destroy.
	e.tf, err = e.newTerraform()
	return err
}
