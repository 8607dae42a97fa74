package progress

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
)

// Containers shows one line per container of an environment, fed by the engine's event
// stream: created, started, healthy (or exited), with the time since creation.
type Containers struct {
	d      *Display
	env    string
	mu     sync.Mutex
	seen   map[string]*containerLine // by container name
	cancel context.CancelFunc
	ended  <-chan error
}

type containerLine struct {
	created  time.Time
	steps    []string
	state    State
	stopping bool // killed or stopped on purpose (a replacement): its exit is no failure
}

// WatchContainers subscribes to the container events of env and shows them on d until
// Finish. It returns once the subscription is in place.
func WatchContainers(ctx context.Context, d *Display, c *engine.Client, env string) (*Containers, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &Containers{d: d, env: env, seen: map[string]*containerLine{}, cancel: cancel}
	ended, err := c.Events(ctx, time.Time{}, func(ev engine.Event) bool { w.event(ev); return true }, label.Env+"="+env)
	if err != nil {
		cancel()
		return nil, err
	}
	w.ended = ended
	return w, nil
}

// Service is a container's name without its environment prefix ("postgres").
func Service(env, name string) string {
	if s := strings.TrimPrefix(name, env+"-"); s != "" {
		return s
	}
	return name
}

func (w *Containers) event(ev engine.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.seen[ev.Name]
	if l == nil || ev.Action == "create" {
		l = &containerLine{created: ev.Time}
		w.seen[ev.Name] = l
	}
	since := Seconds(ev.Time.Sub(l.created))
	switch {
	case ev.Action == "create":
		l.steps, l.state = []string{"created"}, Running
	case ev.Action == "start":
		l.steps = append(l.steps, "started "+since)
	case ev.Action == "health_status: healthy":
		l.steps, l.state = append(l.steps, "healthy "+since), Done
	case ev.Action == "health_status: unhealthy":
		l.steps, l.state = append(l.steps, "unhealthy "+since), Failed
	case ev.Action == "kill" || ev.Action == "stop":
		l.stopping = true
		return
	case ev.Action == "die":
		code := ev.Labels["exitCode"]
		if l.stopping {
			l.steps, l.state = []string{"stopped (replaced)"}, Running
		} else if code == "0" {
			l.steps, l.state = append(l.steps, "completed "+since), Done
		} else if l.state != Done {
			l.steps, l.state = append(l.steps, "exited "+code+" "+since), Failed
		}
	case ev.Action == "destroy":
		l.steps, l.state = []string{"removed (replaced)"}, Running
	default:
		return
	}
	w.d.Set("c/"+ev.Name, Service(w.env, ev.Name), strings.Join(l.steps, " · "), l.state)
}

// Finish stops the event stream and settles every container's line from its current
// state: running and healthy, running without a healthcheck, or exited with a code. It
// reports the containers that are neither running well nor exited 0.
func (w *Containers) Finish(ctx context.Context, c *engine.Client) (bad []string, err error) {
	w.cancel()
	<-w.ended
	cs, err := c.Containers(ctx, label.Env+"="+w.env)
	if err != nil {
		return nil, err
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range cs {
		st, err := c.Inspect(ctx, o.ID)
		if err != nil {
			continue
		}
		now, state := describe(st)
		l := w.seen[o.Name]
		text := now
		if l != nil && len(l.steps) > 0 {
			text = strings.Join(l.steps, " · ")
			if state == Failed || (l.state == Running && now != "running") {
				text += " · " + now
			}
		} else if state == Done {
			state = Info // already so before this run
		}
		if state == Failed {
			bad = append(bad, Service(w.env, o.Name)+" "+now)
		}
		w.d.Set("c/"+o.Name, Service(w.env, o.Name), text, state)
	}
	return bad, nil
}

// describe says what a container is doing now: "running, healthy", "exited 0", ...
func describe(st *engine.ContainerState) (string, State) {
	s := st.State
	if s.Health != nil && s.Health.Status == "" {
		s.Health = nil // Podman reports an empty health for a container without a healthcheck
	}
	switch {
	case s.Status == "running" && s.Health != nil && s.Health.Status == "healthy":
		return "running, healthy", Done
	case s.Status == "running" && s.Health != nil && s.Health.Status == "starting":
		return "running, health starting", Running
	case s.Status == "running" && s.Health != nil:
		return "running, " + s.Health.Status, Failed
	case s.Status == "running":
		return "running", Done
	case s.Status == "exited" && s.ExitCode == 0:
		return "exited 0", Done
	}
	return fmt.Sprintf("%s (exit %d)", s.Status, s.ExitCode), Failed
}
