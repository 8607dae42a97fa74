package tfharness

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
)

// prepareProcess does what every environment of the process needs before its own steps:
// a Docker daemon that answers, the shared process state, the reaper and signal handling.
func (e *Env) prepareProcess(ctx context.Context) (*engine.Client, error) {
	d, err := engine.FromEnv()
	if err != nil {
		return nil, stepError("docker", err)
	}
	if err := d.Ping(ctx); err != nil {
		return nil, stepError("docker", err)
	}
	if e.proc, err = sharedProcess(); err != nil {
		return nil, stepError("prepare", err)
	}
	if err := startReaper(e.proc); err != nil {
		return nil, stepError("reaper", err)
	}
	if wantSignals(e.cfg) {
		handleSignals()
	}
	return d, nil
}

// ownNetwork creates the environment's network through the Docker API (no 2 s waits of
// the provider's network resource) when the root module accepts one, and names it in vars.
func (e *Env) ownNetwork(ctx context.Context, d *engine.Client, vars map[string]any) error {
	if !e.cfg.ownNetwork || !e.tmpl.declares("network_name") {
		return nil
	}
	name := e.ID + "-net"
	if _, err := d.CreateNetwork(ctx, name, e.labels()); err != nil {
		return stepError("network", err)
	}
	vars["network_name"] = name
	return nil
}

// up runs every step; each error says which.
func (e *Env) up(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	e.mu.Lock()
	e.cancel = cancel
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.cancel = nil
		e.mu.Unlock()
		cancel()
	}()
	track(e)

	d, err := e.prepareProcess(ctx)
	if err != nil {
		return err
	}
	sweepOnStart()

	start := time.Now()
	var first bool
	if e.tmpl, first, err = e.proc.template(ctx, e.cfg); err != nil {
		return stepError("init", err)
	}
	// The first environment pays for the shared init; one that started while it ran, for
	// the wait; later ones nothing.
	switch {
	case first:
		e.Timings.Init = e.tmpl.initTime
	case start.Before(e.tmpl.ready):
		e.Timings.Init = e.tmpl.ready.Sub(start)
	}
	start = time.Now()
	prov := e.startProvider(ctx)
	defer func() {
		// Not on the way to ready: Down waits for it.
		p := <-prov
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			p.stop()
		}()
		e.mu.Lock()
		e.providerStopped = stopped
		e.mu.Unlock()
	}()

	if e.Dir, e.dataDir, err = e.proc.workspace(e.tmpl, e.ID, true); err != nil {
		return stepError("copy", err)
	}
	vars := e.vars()
	for name, v := range fastDefaults {
		if _, set := e.cfg.vars[name]; !set && e.tmpl.declares(name) {
			vars[name] = v
		}
	}
	// Podman 4.3's log follow can miss a one-shot job's exit and hang the apply.
	if _, set := e.cfg.vars["job_logs"]; !set && e.tmpl.declares("job_logs") {
		if v, err := d.Version(ctx); err == nil && v.Kind == engine.Podman {
			vars["job_logs"] = false
		}
	}
	if err := e.resolveImages(ctx, d, vars); err != nil {
		return err
	}
	t0 := time.Now()
	if err := e.ownNetwork(ctx, d, vars); err != nil {
		return err
	}
	e.Timings.Network = time.Since(t0)
	if err := e.awaitSigning(); err != nil {
		return stepError("copy", err)
	}
	if err := kubeVars(vars); err != nil {
		return stepError("copy", err)
	}
	if err := e.writeVars(vars); err != nil {
		return stepError("copy", err)
	}
	if e.tf, err = e.newTerraform(); err != nil {
		return stepError("copy", err)
	}
	e.Timings.Copy = time.Since(start) - e.Timings.Network

	// The outputs and the wait for /readyz run while the containers are still watched:
	// with datastorage_wait = false the apply returns once the DS started, and a DS that
	// then exits (e.g. Redis unreachable after its connect retries) fails Up at once with
	// its own log lines.
	t := time.Now()
	p := <-prov
	prov <- p // for the deferred stop
	if p != nil {
		e.reattach = p.info
	}
	var ready time.Time
	err = e.apply(ctx, func(ctx context.Context) error {
		ready = time.Now()
		e.Timings.Apply = ready.Sub(t)
		out, err := readOutputs(ctx, e.tf, filepath.Join(e.Dir, "terraform.tfstate"))
		if err != nil {
			return stepError("outputs", err)
		}
		e.Outputs = *out
		if err := waitReady(ctx, readyURL(e.DataStorage)); err != nil {
			return stepError("ready", err)
		}
		// With the real Kubernetes API the tokens exist only once it runs.
		if err := e.kubeBootstrap(ctx); err != nil {
			return stepError("kube", err)
		}
		// /readyz checks PostgreSQL and Redis only: one authenticated request proves the
		// token path (DS -> auth stand-in) too.
		if err := e.waitAuthenticated(ctx); err != nil {
			return stepError("auth", err)
		}
		return nil
	})
	if ready.IsZero() {
		e.Timings.Apply = time.Since(t)
	} else {
		e.Timings.Ready = time.Since(ready)
	}
	if err != nil {
		var ae *afterError
		if errors.As(err, &ae) {
			return ae.err
		}
		return stepError("apply", err)
	}
	return nil
}
