// Package status lists the dsenv environments on the Docker engine: what kind each is,
// who owns it, how old and healthy it is, and what `dsenv sweep` would do with it.
package status

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
	"github.com/dsenv/dsenv/internal/sweep"
)

// Kinds of environment.
const (
	KindUp         = "make up"    // persistent, applied by `make up` (dsenv up)
	KindShared     = "shared"     // persistent, terraform/envs/shared
	KindPersistent = "persistent" // persistent, applied some other way
	KindTest       = "test"       // a test's, whose process is alive
	KindKept       = "kept"       // a test's, kept with DSENV_KEEP after the test ended
	KindStale      = "stale"      // a test's, whose process is gone (dsenv sweep removes it)
	KindUnknown    = "unknown"    // owner on another host, or not readable
)

// Env is one environment.
type Env struct {
	ID         string      `json:"id"`
	Kind       string      `json:"kind"`
	Here       bool        `json:"here,omitempty"` // the `make up` environment of this checkout
	Owner      string      `json:"owner"`
	OwnerAlive bool        `json:"owner_alive"`
	Created    *time.Time  `json:"created,omitempty"`
	Age        string      `json:"age,omitempty"`
	Health     string      `json:"health"` // healthy, starting, unhealthy, or stopped
	Containers []Container `json:"containers"`
	Networks   []string    `json:"networks,omitempty"`
	Volumes    []string    `json:"volumes,omitempty"`
	Sweep      Sweep       `json:"sweep"`
}

// Container is one container of an environment.
type Container struct {
	Service  string `json:"service"`
	Name     string `json:"name"`
	State    string `json:"state"`            // running, exited, ...
	Health   string `json:"health,omitempty"` // healthy, starting, unhealthy; "" without a healthcheck
	ExitCode int    `json:"exit_code"`
}

// Sweep is what a plain `dsenv sweep` would do with the environment, and why.
type Sweep struct {
	Remove bool   `json:"remove"`
	Reason string `json:"reason"`
}

// List returns every environment on the engine, sorted by id. here is the id of this
// checkout's `make up` environment ("" if none).
func List(ctx context.Context, c *engine.Client, here string) ([]Env, error) {
	objs, err := c.List(ctx, label.Env)
	if err != nil {
		return nil, err
	}
	groups := map[string][]engine.Object{}
	for _, o := range objs {
		id := o.Labels[label.Env]
		groups[id] = append(groups[id], o)
	}
	envs := make([]Env, 0, len(groups))
	for id, members := range groups {
		envs = append(envs, describe(ctx, c, id, members, here))
	}
	sort.Slice(envs, func(i, j int) bool { return envs[i].ID < envs[j].ID })
	return envs, nil
}

func describe(ctx context.Context, c *engine.Client, id string, members []engine.Object, here string) Env {
	labels := sweep.EnvLabels(members)
	e := Env{ID: id, Owner: labels[label.Owner], Here: id == here && here != ""}
	created, cerr := label.ParseCreated(labels[label.Created])
	if cerr == nil {
		e.Created = &created
		e.Age = Age(time.Since(created))
	}
	o, oerr := owner.Parse(e.Owner)
	e.OwnerAlive = oerr == nil && !o.Manual() && o.Host == owner.Hostname() && owner.Alive(o.PID, created)
	e.Kind = kind(labels, e, o, oerr)
	remove, reason := sweep.Decide(members, sweep.Options{})
	e.Sweep = Sweep{Remove: remove, Reason: reason}
	for _, m := range members {
		switch m.Kind {
		case "container":
			e.Containers = append(e.Containers, container(ctx, c, id, m))
		case "network":
			e.Networks = append(e.Networks, m.Name)
		case "volume":
			e.Volumes = append(e.Volumes, m.Name)
		}
	}
	sort.Slice(e.Containers, func(i, j int) bool { return e.Containers[i].Service < e.Containers[j].Service })
	sort.Strings(e.Networks)
	sort.Strings(e.Volumes)
	e.Health = Health(e.Containers)
	return e
}

func kind(labels map[string]string, e Env, o owner.Owner, oerr error) string {
	switch {
	case labels[label.Kind] == "shared":
		return KindShared
	case labels[label.Persistent] == "true" && (e.Here || labels[label.Kind] == "up"):
		return KindUp
	case labels[label.Persistent] == "true":
		return KindPersistent
	case e.OwnerAlive:
		return KindTest
	case sweep.IsKept(e.ID):
		return KindKept
	case oerr == nil && !o.Manual() && o.Host == owner.Hostname():
		return KindStale
	}
	return KindUnknown
}

func container(ctx context.Context, c *engine.Client, env string, m engine.Object) Container {
	ct := Container{Service: strings.TrimPrefix(m.Name, env+"-"), Name: m.Name, State: m.State}
	if st, err := c.Inspect(ctx, m.ID); err == nil {
		ct.State, ct.ExitCode = st.State.Status, st.State.ExitCode
		if st.State.Health != nil {
			ct.Health = st.State.Health.Status
		}
	}
	return ct
}

// Health sums up containers: "healthy" when every long-running one is running (and
// healthy, if it has a healthcheck) and every job exited 0; "starting" while a
// healthcheck has not passed yet; "unhealthy" otherwise; "stopped" with none running.
func Health(cs []Container) string {
	running, starting, bad := 0, false, false
	for _, c := range cs {
		switch {
		case c.State == "running" && (c.Health == "" || c.Health == "healthy"):
			running++
		case c.State == "running" && c.Health == "starting":
			running++
			starting = true
		case c.State == "exited" && c.ExitCode == 0:
		default:
			bad = true
		}
	}
	switch {
	case bad:
		return "unhealthy"
	case running == 0:
		return "stopped"
	case starting:
		return "starting"
	}
	return "healthy"
}

// Age formats a duration the way docker ps does, roughly: 45s, 12m, 3h, 2d.
func Age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	case d < 48*time.Hour:
		return strings.TrimSuffix(strings.TrimSuffix(d.Round(time.Hour).String(), "0s"), "0m")
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
