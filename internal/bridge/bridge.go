// Package bridge lets tfharness/terratest reach the harness's preparation step (Up's
// steps up to the apply) without making it part of tfharness's public API, and without
// making tfharness import terratest.
package bridge

import "context"

// Prepared is an environment ready for another runner to apply.
type Prepared struct {
	ID         string
	ExecPath   string            // terraform or tofu
	Dir        string            // the environment's workspace copy of the root module
	Vars       map[string]any    // non-secret variables
	EnvVars    map[string]string // CLI config, data dir and the secrets as TF_VAR_*
	Retryable  map[string]string // regular expression -> why it is transient
	MaxRetries int
	// Finish removes the environment (logs dumped first when failed; DSENV_KEEP honoured).
	Finish func(failed bool) error
}

// Prepare is set by package tfharness when it is initialised; opts are tfharness.Options.
var Prepare func(ctx context.Context, opts []any) (*Prepared, error)
