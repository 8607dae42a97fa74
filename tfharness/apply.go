package tfharness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/ready"
)

// apply runs terraform apply, retrying only errors known to be transient, then after
// (reading the outputs, waiting for /readyz) while the containers are still watched. A
// container of the environment that exits with an error stops the apply, or the wait
// after it, at once, with that container's last log lines, instead of after a health
// timeout. An error of after is returned as it is (the caller tells the two apart with
// afterFailed).
func (e *Env) apply(ctx context.Context, after func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithCancelCause(ctx)
		stop := e.watchContainers(actx, cancel)
		var opts []tfexec.ApplyOption
		if e.reattach != nil {
			opts = append(opts, tfexec.Reattach(e.reattach))
		}
		err := e.tf.Apply(actx, opts...)
		var afterErr error
		if err == nil && after != nil {
			afterErr = after(actx)
		}
		stop()
		cause := context.Cause(actx)
		cancel(nil)
		var cf *containerFailure
		if errors.As(cause, &cf) {
			e.aborted.Store(true)
			return cf
		}
		if err == nil {
			if afterErr != nil {
				return &afterError{afterErr}
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (%s)", ctx.Err(), lastLines(e.redact(err.Error()), 20))
		}
		rule, ok := retryable(e.cfg.retryable, err)
		if !ok || attempt > e.cfg.maxRetries {
			msg := e.redact(err.Error())
			if strings.Contains(msg, "did not find docker image") {
				msg += "\n(images are built locally, nothing is pulled: run `make setup`, or point DSENV_<SERVICE>_IMAGE at an image you have)"
			}
			return errors.New(msg)
		}
		e.Timings.Retries++
		e.logf("env %s: apply: retry %d/%d after a transient error (%s; matched %q): %s",
			e.ID, attempt, e.cfg.maxRetries, rule.why, rule.re.String(), firstLine(e.redact(err.Error())))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
		}
	}
}

// afterError is the error of apply's after step (outputs, readiness), not Terraform's.
type afterError struct{ err error }

func (a *afterError) Error() string { return a.err.Error() }
func (a *afterError) Unwrap() error { return a.err }

// containerFailure is a container that failed while the apply ran.
type containerFailure struct {
	name string
	code int
	logs string
}

func (f *containerFailure) Error() string {
	return fmt.Sprintf("container %s exited with code %d; its last log lines:\n%s", f.name, f.code, f.logs)
}

// watchContainers polls the environment's containers while an apply runs and cancels it
// with a *containerFailure when one exits non-zero (or keeps restarting). It returns a
// function that stops the watch and waits for it.
func (e *Env) watchContainers(ctx context.Context, cancel context.CancelCauseFunc) (stop func()) {
	d, err := engine.FromEnv()
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			cs, err := d.Containers(ctx, label.Env+"="+e.ID)
			if err != nil {
				continue
			}
			for _, c := range cs {
				if c.State != "exited" && c.State != "dead" && c.State != "restarting" {
					continue
				}
				st, err := d.Inspect(ctx, c.ID)
				if err != nil || st.State.ExitCode == 0 {
					continue
				}
				logs, _ := d.Logs(ctx, c.ID, 20, st.Config.Tty)
				cancel(&containerFailure{name: c.Name, code: st.State.ExitCode, logs: e.redact(strings.TrimRight(logs, "\n"))})
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// readyURL is the DS readiness endpoint: /readyz on the health port (or the API port).
func readyURL(ds DataStorage) string {
	base := ds.HealthURL
	if base == "" {
		base = ds.URL
	}
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/readyz"
}

// readyTimeout bounds waitReady: the DS module's default wait_timeout, which it replaces
// when the apply does not wait (datastorage_wait = false).
const readyTimeout = 60 * time.Second

// readyPoll is how often waitReady asks. /readyz is cheap, and with datastorage_wait =
// false this poll is what ends Up.
const readyPoll = 50 * time.Millisecond

// waitReady waits until the DS readiness URL answers 200. With datastorage_wait = false
// (the harness's default) this is the wait; otherwise the module's healthcheck already
// waited and it answers at once. The caller runs it while the containers are watched, so
// a DS that exits ends it (ctx is cancelled) instead of the timeout.
func waitReady(ctx context.Context, url string) error {
	if url == "" {
		return nil
	}
	err := ready.Probe{URL: url, Timeout: readyTimeout, Interval: readyPoll, RequestTimeout: 2 * time.Second}.Wait(ctx)
	var re *ready.Error
	if errors.As(err, &re) {
		return fmt.Errorf("%s did not answer 200 (last: %s)", url, re.Last)
	}
	return err
}
