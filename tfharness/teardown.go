package tfharness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/sweep"
)

// Down tears the environment down (TeardownFast: by label through the Docker API;
// TeardownDestroy: terraform destroy first) and removes its workspace. It is safe to
// call more than once and from several goroutines. On an Env from Attach or Shared it
// does nothing: the owner (or the last user of a shared environment) removes it.
func (e *Env) Down(ctx context.Context) error {
	if e.attached {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down || e.kept {
		return nil
	}
	e.down = true
	defer untrack(e)
	if e.providerStopped != nil {
		select {
		case <-e.providerStopped:
		case <-ctx.Done():
		}
	}
	start := time.Now()
	err := e.destroy(ctx)
	e.Timings.Destroy = time.Since(start)
	if err != nil {
		return &Error{Env: e.ID, Step: "destroy", Err: err}
	}
	return nil
}

// finish is New's cleanup: dump logs on failure, keep or tear down, report timings.
func (e *Env) finish(failed bool) error {
	if failed && !interrupted.Load() {
		e.DumpLogs(context.Background(), "test failed")
	}
	if e.shouldKeep(failed) {
		e.keep()
		e.report(failed)
		return nil
	}
	if e.pooled && !interrupted.Load() {
		// The test is over and the next one takes a spare: remove this one in the
		// background (ClosePools waits for it; the reaper covers a process that exits first).
		downInBackground(e, failed)
		return nil
	}
	defer awaitSignalTeardown()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := e.Down(ctx)
	e.report(failed)
	return err
}

// failed handles an Up that did not finish: dump logs, then keep or tear down.
func (e *Env) failed(err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e.aborted.Store(true)
	}
	if !interrupted.Load() && e.proc != nil {
		e.DumpLogs(context.Background(), "up failed")
	}
	if e.proc != nil && e.shouldKeep(true) {
		e.keep()
		return
	}
	defer awaitSignalTeardown()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if derr := e.Down(ctx); derr != nil {
		e.logf("%v", derr)
	}
	e.report(true)
}

func (e *Env) shouldKeep(failed bool) bool {
	if interrupted.Load() {
		return false
	}
	return e.cfg.keep == KeepAlways || (failed && e.cfg.keep == KeepOnFailure)
}

// keep leaves the environment running and says how to reach and remove it.
func (e *Env) keep() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down || e.kept {
		return
	}
	e.kept = true
	untrack(e)
	reaperKeep(e.ID)
	if err := sweep.MarkKept(e.ID, fmt.Sprintf("kept %s by %s (%s)", time.Now().Format(time.RFC3339), e.Owner, e.cfg.testName)); err != nil {
		e.logf("env %s: cannot record it as kept (a sweep may remove it): %v", e.ID, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "env %s: kept (DSENV_KEEP=%s); it stays until you remove it:\n", e.ID, e.cfg.keep)
	if e.DataStorage.URL != "" {
		fmt.Fprintf(&b, "  DS:        %s  (health %s)\n", e.DataStorage.URL, e.DataStorage.HealthURL)
		fmt.Fprintf(&b, "  Postgres:  %s:%d  user %s  db %s\n", e.Postgres.Host, e.Postgres.Port, e.Postgres.User, e.Postgres.Database)
		fmt.Fprintf(&b, "  Redis:     %s\n", e.Redis.Addr)
	}
	fmt.Fprintf(&b, "  secrets:   %s (0600)\n", filepath.Join(e.Dir, "secrets.auto.tfvars.json"))
	b.WriteString(e.keepKubeTokens())
	fmt.Fprintf(&b, "  outputs:   cd %s && TF_DATA_DIR=%s TF_CLI_CONFIG_FILE=%s %s output\n",
		e.Dir, e.dataDir, e.proc.cliConfig, e.cfg.binary)
	fmt.Fprintf(&b, "  logs:      go run github.com/dsenv/dsenv/cmd/dsenv logs --env %s\n", e.ID)
	fmt.Fprintf(&b, "  remove:    go run github.com/dsenv/dsenv/cmd/dsenv sweep --env %s\n", e.ID)
	fmt.Fprintf(&b, "         or: docker rm -f -v $(docker ps -aq --filter label=%s=%s); docker network prune -f --filter label=%s=%s; docker volume prune -f --filter label=%s=%s",
		label.Env, e.ID, label.Env, e.ID, label.Env, e.ID)
	e.logf("%s", b.String())
}
