// Package health serves liveness and readiness: /healthz answers while the process lives,
// /readyz answers 200 only while PostgreSQL and Redis answer and no shutdown has begun.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Check is one dependency probe.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Checker runs the readiness checks.
type Checker struct {
	checks       []Check
	timeout      time.Duration
	shuttingDown atomic.Bool
}

// NewChecker builds a checker; each probe is bounded by timeout.
func NewChecker(timeout time.Duration, checks ...Check) *Checker {
	if timeout <= 0 {
		timeout = time.Second
	}
	return &Checker{checks: checks, timeout: timeout}
}

// errShuttingDown is the readiness error once a shutdown has begun.
var errShuttingDown = errors.New("shutting down")

// SetShuttingDown makes readiness fail from now on.
func (c *Checker) SetShuttingDown() { c.shuttingDown.Store(true) }

// Ready runs every check concurrently and joins their failures.
func (c *Checker) Ready(ctx context.Context) error {
	if c.shuttingDown.Load() {
		return errShuttingDown
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	errs := make([]error, len(c.checks))
	var wg sync.WaitGroup
	for i, ch := range c.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ch.Fn(ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", ch.Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

type status struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// ReadyHandler answers 200 {"status":"ready"} or 503 {"status":"not ready","reason":...}.
func (c *Checker) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.Ready(r.Context()); err != nil {
			write(w, http.StatusServiceUnavailable, status{Status: "not ready", Reason: strings.ReplaceAll(err.Error(), "\n", "; ")})
			return
		}
		write(w, http.StatusOK, status{Status: "ready"})
	})
}

// LiveHandler answers 200 {"status":"alive"}.
func LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write(w, http.StatusOK, status{Status: "alive"})
	})
}

// Mux serves /healthz and /readyz (the health port).
func Mux(c *Checker) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/healthz", LiveHandler())
	mux.Handle("/readyz", c.ReadyHandler())
	return mux
}

func write(w http.ResponseWriter, code int, s status) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(s)
}

// Probe is the client side of `datastorage healthcheck`: it reports whether url answers 200.
func Probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
