package tfharness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
)

// destroy removes everything of the environment. TeardownDestroy runs terraform destroy
// first; either way every object still labelled with the environment's id is removed
// through the Docker API, and the workspace (state included) is deleted.
func (e *Env) destroy(ctx context.Context) error {
	var errs []error
	if e.aborted.Load() {
		// A cancelled Terraform may leave its provider running; stop it before it
		// creates anything after the removal below.
		owner.KillProcesses("DSENV_ENV", e.ID)
	}
	if e.cfg.teardown == TeardownDestroy && e.tf != nil && !e.aborted.Load() {
		// Podman: see engine.PrepareTeardown (netavark 1.4 would leave firewall rules).
		if d, err := engine.FromEnv(); err == nil {
			if err := d.PrepareTeardown(ctx, label.Env+"="+e.ID); err != nil {
				errs = append(errs, err)
			}
		}
		// -refresh=false: faster (no 2 s network read) and works after setup rebuilt an image.
		if err := e.tf.Destroy(ctx, tfexec.Refresh(false)); err != nil {
			errs = append(errs, fmt.Errorf("terraform destroy: %s", lastLines(e.redact(err.Error()), 20)))
		}
	}
	d, err := engine.FromEnv()
	if err != nil {
		return err
	}
	// One pass normally; after an aborted apply, a few more until nothing new appears.
	passes := 1
	if e.aborted.Load() {
		passes = 3
	}
	for i := 0; i < passes; i++ {
		if i > 0 {
			time.Sleep(500 * time.Millisecond)
		}
		objs, err := d.List(ctx, label.Env+"="+e.ID)
		if err != nil {
			errs = append(errs, err)
			break
		}
		if err := d.Remove(ctx, objs); err != nil {
			errs = append(errs, err)
		}
	}
	if e.proc != nil {
		if err := os.RemoveAll(e.proc.workspaceRoot(e.ID)); err != nil {
			errs = append(errs, fmt.Errorf("remove workspace: %w", err))
		}
	}
	return errors.Join(errs...)
}
