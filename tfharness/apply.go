package tfharness

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// apply runs terraform apply, retrying only errors known to be transient.
func (e *Env) apply(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		err := e.tf.Apply(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (%s)", ctx.Err(), lastLines(e.redact(err.Error()), 20))
		}
		rule, ok := retryable(e.cfg.retryable, err)
		if !ok || attempt > e.cfg.maxRetries {
			return fmt.Errorf("%s", e.redact(err.Error()))
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
