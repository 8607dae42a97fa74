package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Event is one moment of a container's life, relative to the start of Up.
type Event struct {
	Name string // "postgres start", "migrate die", "datastorage health_status: healthy", ...
	At   time.Duration
}

// services in the order of the critical path; a container belongs to the first whose
// name its container name contains.
var services = []string{"preflight", "migrate", "postgres", "redis", "etcd", "kube-apiserver", "datastorage"}

type rawEvent struct {
	env, svc, what string
	t              time.Time
}

// events records Docker container events (create, start, health_status, die) of this
// run's containers, from one `docker events` stream for the whole run. They show where a
// stack's time goes whatever the tool: the gap between one container's readiness and
// the next one's creation is the tool's own overhead.
type events struct {
	mu  sync.Mutex
	evs []rawEvent
	cmd *exec.Cmd
}

func watchEvents(ctx context.Context, runID string) (*events, error) {
	cmd := exec.CommandContext(ctx, "docker", "events", "--filter", "type=container",
		"--filter", "label=dsenv.bench="+runID, "--format", "{{json .}}")
	// Ends with this process, however it ends (tfharness's signal handler exits directly).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &events{cmd: cmd}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m struct {
				Status   string `json:"status"`
				TimeNano int64  `json:"timeNano"`
				Actor    struct {
					Attributes map[string]string
				}
			}
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			switch {
			case m.Status == "create", m.Status == "start", m.Status == "die",
				m.Status == "health_status: healthy":
			default:
				continue
			}
			name := m.Actor.Attributes["name"]
			svc := ""
			for _, s := range services {
				if strings.Contains(name, s) {
					svc = s
					break
				}
			}
			if svc == "" {
				continue
			}
			e.mu.Lock()
			e.evs = append(e.evs, rawEvent{env: m.Actor.Attributes["dsenv.bench.env"], svc: svc,
				what: strings.TrimPrefix(m.Status, "health_status: "), t: time.Unix(0, m.TimeNano)})
			e.mu.Unlock()
		}
	}()
	return e, nil
}

// timeline returns environment env's events relative to t0, each (service, event) once:
// the first occurrence.
func (e *events) timeline(env string, t0 time.Time) []Event {
	if e == nil {
		return nil
	}
	time.Sleep(100 * time.Millisecond) // let the stream catch up
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	var out []Event
	for _, r := range e.evs {
		n := r.svc + " " + r.what
		if r.env != env || seen[n] || r.t.Before(t0) {
			continue
		}
		seen[n] = true
		out = append(out, Event{n, r.t.Sub(t0)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}
