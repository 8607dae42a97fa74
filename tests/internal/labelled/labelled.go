// Package labelled lists Docker objects by label for tests, with the docker CLI: an
// independent check of what the harness removed through the API.
package labelled

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Objects returns "kind name" for every container, network and volume with the label
// filter (k=v or k).
func Objects(t testing.TB, ctx context.Context, filter string) []string {
	t.Helper()
	var out []string
	for _, kind := range []string{"container", "network", "volume"} {
		args := []string{kind, "ls", "-q", "--filter", "label=" + filter}
		if kind == "container" {
			args = []string{"ps", "-a", "--format", "{{.Names}}", "--filter", "label=" + filter}
		}
		b, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, b)
		}
		for _, name := range strings.Fields(string(b)) {
			out = append(out, kind+" "+name)
		}
	}
	return out
}

// Running returns the names of running containers with the label filter.
func Running(t testing.TB, ctx context.Context, filter string) []string {
	t.Helper()
	b, err := exec.CommandContext(ctx, "docker", "ps", "--format", "{{.Names}}", "--filter", "label="+filter).CombinedOutput()
	if err != nil {
		t.Fatalf("docker ps: %v: %s", err, b)
	}
	return strings.Fields(string(b))
}

// WaitGone polls until nothing matches filter and returns how long it took, or fails
// the test after timeout.
func WaitGone(t testing.TB, ctx context.Context, filter string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		objs := Objects(t, ctx, filter)
		if len(objs) == 0 {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("after %s still there (%s): %v", timeout, filter, objs)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Remove removes every container (with its anonymous volumes), then network, then volume
// with the label filter, for test cleanups; a removal that fails fails the test.
func Remove(t testing.TB, filter string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, s := range []struct{ list, rm []string }{
		{[]string{"ps", "-aq", "--filter", "label=" + filter}, []string{"rm", "-f", "-v"}},
		{[]string{"network", "ls", "-q", "--filter", "label=" + filter}, []string{"network", "rm"}},
		{[]string{"volume", "ls", "-q", "--filter", "label=" + filter}, []string{"volume", "rm", "-f"}},
	} {
		out, err := exec.CommandContext(ctx, "docker", s.list...).CombinedOutput()
		if err != nil {
			t.Errorf("cleanup: docker %s: %v: %s", strings.Join(s.list, " "), err, out)
			continue
		}
		ids := strings.Fields(string(out))
		if len(ids) == 0 {
			continue
		}
		t.Logf("cleanup: docker %s %s", strings.Join(s.rm, " "), strings.Join(ids, " "))
		if out, err := exec.CommandContext(ctx, "docker", append(s.rm, ids...)...).CombinedOutput(); err != nil {
			t.Errorf("cleanup: docker %s: %v: %s", strings.Join(s.rm, " "), err, out)
		}
	}
}

// Watcher counts the environments (networks with a dsenv.env label) matching a label filter,
// from a poll every 200 ms: it sees environments that came and went between a test's looks.
type Watcher struct {
	mu         sync.Mutex
	ids        map[string]bool
	maxLive    int
	polls      int
	stop, done chan struct{}
	stopOnce   sync.Once
}

// Watch starts a Watcher; Stop (or Result) ends it.
func Watch(filter string) *Watcher {
	w := &Watcher{ids: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			b, err := exec.Command("docker", "network", "ls", "--filter", "label="+filter, "--format", `{{.Label "dsenv.env"}}`).Output()
			if err == nil {
				live := strings.Fields(string(b))
				w.mu.Lock()
				w.polls++
				w.maxLive = max(w.maxLive, len(live))
				for _, id := range live {
					w.ids[id] = true
				}
				w.mu.Unlock()
			}
			select {
			case <-w.stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return w
}

// Stop ends the polling; it may be called more than once.
func (w *Watcher) Stop() {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
}

// Result stops the Watcher and returns the environment ids it saw, the most it saw at once
// and how many polls it made.
func (w *Watcher) Result() (ids []string, maxLive, polls int) {
	w.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.ids {
		ids = append(ids, id)
	}
	return ids, w.maxLive, w.polls
}
