// Package terratest bridges tfharness to terratest's terraform module: it prepares an
// environment (its own workspace, network, secrets) and returns the *terraform.Options
// for terraform.InitAndApply. It is a package of its own so that importing tfharness
// never compiles terratest.
//
//	opts := terratest.Options(t)
//	terraform.InitAndApply(t, opts)
//	out := terratest.Outputs(t, opts) // *tfharness.Outputs
package terratest

import (
	"context"
	"time"

	"github.com/gruntwork-io/terratest/modules/logger"
	"github.com/gruntwork-io/terratest/modules/terraform"
	ttesting "github.com/gruntwork-io/terratest/modules/testing"

	"github.com/dsenv/dsenv/internal/bridge"
	"github.com/dsenv/dsenv/tfharness"
)

// Options prepares an environment for terratest and returns its *terraform.Options:
// TerraformDir is the environment's own workspace copy (with the lock file, so
// InitAndApply's init installs the provider from the mirror at once), Vars the
// non-secret variables, EnvVars the CLI config, the data directory and the generated
// secrets as TF_VAR_* (so none is in argv), RetryableTerraformErrors the harness's
// transient errors.
//
// When t has Cleanup (a *testing.T does), the environment is removed by label at the
// end of the test (logs dumped first when it failed; DSENV_KEEP honoured), so a
// `defer terraform.Destroy(t, opts)` is optional.
func Options(t ttesting.TestingT, opts ...tfharness.Option) *terraform.Options {
	o, err := OptionsE(t, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// OptionsE is Options returning an error.
func OptionsE(t ttesting.TestingT, opts ...tfharness.Option) (*terraform.Options, error) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	all := []any{tfharness.WithTestName(t.Name())}
	if l, ok := t.(tfharness.Logger); ok {
		all = append(all, tfharness.WithLogger(l))
	}
	for _, o := range opts {
		all = append(all, o)
	}
	p, err := bridge.Prepare(context.Background(), all)
	if err != nil {
		return nil, err
	}
	if c, ok := t.(interface {
		Cleanup(func())
		Failed() bool
	}); ok {
		c.Cleanup(func() {
			if err := p.Finish(c.Failed()); err != nil {
				t.Error(err)
			}
		})
	}
	return &terraform.Options{
		TerraformBinary:          p.ExecPath,
		TerraformDir:             p.Dir,
		Vars:                     p.Vars,
		EnvVars:                  p.EnvVars,
		RetryableTerraformErrors: p.Retryable,
		MaxRetries:               p.MaxRetries,
		TimeBetweenRetries:       time.Second,
		NoColor:                  true,
	}, nil
}

// Outputs decodes the outputs of an environment applied with terratest.
func Outputs(t ttesting.TestingT, opts *terraform.Options) *tfharness.Outputs {
	out, err := OutputsE(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// OutputsE is Outputs returning an error. Terratest logs every line a command prints,
// and `terraform output -json` prints secrets in clear: this call runs with terratest's
// logging discarded. (terraform.Output(t, opts, "api_token") would log the token.)
func OutputsE(t ttesting.TestingT, opts *terraform.Options) (*tfharness.Outputs, error) {
	quiet, err := opts.Clone()
	if err != nil {
		return nil, err
	}
	quiet.Logger = logger.Discard
	doc, err := terraform.OutputJsonE(t, quiet, "")
	if err != nil {
		return nil, err
	}
	return tfharness.DecodeOutputsJSON([]byte(doc))
}
