package tfharness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// apply runs terraform apply, retrying only errors known to be transient. A container
// of the environment that exits with an error stops the apply at once, with that
// container's last log lines, instead of after the provider's health timeout.
func (e *Env) apply(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithCancelCause(ctx)
		stop := e.watchContainers(actx, cancel)
		err := e.tf.Apply(actx)
		stop()
		cause := context.Cause(actx)
		cancel(nil)
		var cf *containerFailure
		if errors.As(cause, &cf) {
			e.aborted.Store(true)
			return cf
		}
		if err == nil {
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
	d, err := dockerFromEnv()
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
			cs, err := d.containers(ctx, LabelEnv+"="+e.ID)
			if err != nil {
				continue
			}
			for _, c := range cs {
				if c.State != "exited" && c.State != "dead" && c.State != "restarting" {
					continue
				}
				st, err := d.inspect(ctx, c.ID)
				if err != nil || st.State.ExitCode == 0 {
					continue
				}
				logs, _ := d.logs(ctx, c.ID, 20, st.Config.Tty)
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

// waitReady confirms the DS readiness URL answers 200. The modules' healthchecks have
// already waited for it; this guards against a module that does not.
func waitReady(ctx context.Context, url string) error {
	if url == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer 200 (last: %s)", url, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
