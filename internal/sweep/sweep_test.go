package sweep

import (
	"strconv"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
)

func TestSweepDecision(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	const host = "here"
	alivePID := 100
	alive := func(pid int, _ time.Time) bool { return pid == alivePID }
	labels := func(env, owner string, age time.Duration, persistent bool) map[string]string {
		l := map[string]string{
			label.Env: env, label.Owner: owner, label.Created: strconv.FormatInt(now.Add(-age).Unix(), 10),
		}
		if persistent {
			l[label.Persistent] = "true"
		}
		return l
	}
	tests := []struct {
		name   string
		labels map[string]string
		kept   bool
		opts   Options
		want   bool
	}{
		{"dead owner here", labels("t-1", "200@here", time.Minute, false), false, Options{}, true},
		{"live owner here", labels("t-2", "100@here", 48*time.Hour, false), false, Options{TTL: time.Hour}, false},
		{"live owner here, --all", labels("t-2", "100@here", 48*time.Hour, false), false, Options{All: true}, false},
		{"live owner here, --env", labels("t-2", "100@here", time.Minute, false), false, Options{Env: "t-2"}, true},
		{"other env, --env", labels("t-3", "200@here", time.Minute, false), false, Options{Env: "t-2"}, false},
		{"persistent manual", labels("dsenv-local", "manual@here", 90*24*time.Hour, true), false, Options{TTL: time.Hour}, false},
		{"persistent manual, --all", labels("dsenv-local", "manual@here", time.Minute, true), false, Options{All: true}, true},
		{"persistent, dead owner", labels("t-4", "200@here", time.Minute, true), false, Options{}, false},
		{"other host, no ttl", labels("t-5", "100@there", 48*time.Hour, false), false, Options{}, false},
		{"other host, older than ttl", labels("t-5", "100@there", 48*time.Hour, false), false, Options{TTL: 24 * time.Hour}, true},
		{"other host, younger than ttl", labels("t-5", "100@there", time.Hour, false), false, Options{TTL: 24 * time.Hour}, false},
		{"garbled owner, ttl", map[string]string{label.Env: "t-6", label.Owner: "?", label.Created: "x"}, false, Options{TTL: time.Hour}, true},
		{"kept, dead owner", labels("t-7", "200@here", time.Hour, false), true, Options{}, false},
		{"kept, dead owner, --env", labels("t-7", "200@here", time.Hour, false), true, Options{Env: "t-7"}, true},
		{"kept, older than ttl", labels("t-7", "200@here", 48*time.Hour, false), true, Options{TTL: 24 * time.Hour}, true},
		{"kept, --all", labels("t-7", "200@here", time.Hour, false), true, Options{All: true}, true},
		{"persistent, --env", labels("dsenv-shared", "manual@here", time.Minute, true), false, Options{Env: "dsenv-shared"}, false},
		{"persistent, --env --force", labels("dsenv-shared", "manual@here", time.Minute, true), false, Options{Env: "dsenv-shared", Force: true}, true},
		{"garbled owner, no ttl", map[string]string{label.Env: "t-6", label.Owner: "?"}, false, Options{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := sweepDecision(tt.labels, tt.kept, tt.opts, host, now, alive)
			if got != tt.want || reason == "" {
				t.Errorf("sweepDecision = %v (%s); want %v", got, reason, tt.want)
			}
		})
	}
}

func TestEnvLabelsTakeTheOldestCreatedAndAnyPersistent(t *testing.T) {
	l := EnvLabels([]engine.Object{
		{Labels: map[string]string{label.Env: "e", label.Created: "1800000100"}},
		{Labels: map[string]string{label.Env: "e", label.Created: "1800000000", label.Persistent: "true"}},
		{Labels: map[string]string{label.Env: "e", label.Created: "1800000200", label.Persistent: "false"}},
	})
	if l[label.Created] != "1800000000" || l[label.Persistent] != "true" {
		t.Errorf("EnvLabels = %v", l)
	}
}
