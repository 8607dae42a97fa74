package tfharness

import (
	"strconv"
	"testing"
	"time"
)

func TestSweepDecision(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	const host = "here"
	alivePID := 100
	alive := func(pid int, _ time.Time) bool { return pid == alivePID }
	labels := func(env, owner string, age time.Duration, persistent bool) map[string]string {
		l := map[string]string{
			LabelEnv: env, LabelOwner: owner, LabelCreated: strconv.FormatInt(now.Add(-age).Unix(), 10),
		}
		if persistent {
			l[LabelPersistent] = "true"
		}
		return l
	}
	tests := []struct {
		name   string
		labels map[string]string
		kept   bool
		opts   SweepOptions
		want   bool
	}{
		{"dead owner here", labels("t-1", "200@here", time.Minute, false), false, SweepOptions{}, true},
		{"live owner here", labels("t-2", "100@here", 48*time.Hour, false), false, SweepOptions{TTL: time.Hour}, false},
		{"live owner here, --all", labels("t-2", "100@here", 48*time.Hour, false), false, SweepOptions{All: true}, false},
		{"live owner here, --env", labels("t-2", "100@here", time.Minute, false), false, SweepOptions{Env: "t-2"}, true},
		{"other env, --env", labels("t-3", "200@here", time.Minute, false), false, SweepOptions{Env: "t-2"}, false},
		{"persistent manual", labels("dsenv-local", "manual@here", 90*24*time.Hour, true), false, SweepOptions{TTL: time.Hour}, false},
		{"persistent manual, --all", labels("dsenv-local", "manual@here", time.Minute, true), false, SweepOptions{All: true}, true},
		{"persistent, dead owner", labels("t-4", "200@here", time.Minute, true), false, SweepOptions{}, false},
		{"other host, no ttl", labels("t-5", "100@there", 48*time.Hour, false), false, SweepOptions{}, false},
		{"other host, older than ttl", labels("t-5", "100@there", 48*time.Hour, false), false, SweepOptions{TTL: 24 * time.Hour}, true},
		{"other host, younger than ttl", labels("t-5", "100@there", time.Hour, false), false, SweepOptions{TTL: 24 * time.Hour}, false},
		{"garbled owner, ttl", map[string]string{LabelEnv: "t-6", LabelOwner: "?", LabelCreated: "x"}, false, SweepOptions{TTL: time.Hour}, true},
		{"kept, dead owner", labels("t-7", "200@here", time.Hour, false), true, SweepOptions{}, false},
		{"kept, dead owner, --env", labels("t-7", "200@here", time.Hour, false), true, SweepOptions{Env: "t-7"}, true},
		{"kept, older than ttl", labels("t-7", "200@here", 48*time.Hour, false), true, SweepOptions{TTL: 24 * time.Hour}, true},
		{"kept, --all", labels("t-7", "200@here", time.Hour, false), true, SweepOptions{All: true}, true},
		{"garbled owner, no ttl", map[string]string{LabelEnv: "t-6", LabelOwner: "?"}, false, SweepOptions{}, false},
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
	l := envLabels([]object{
		{Labels: map[string]string{LabelEnv: "e", LabelCreated: "1800000100"}},
		{Labels: map[string]string{LabelEnv: "e", LabelCreated: "1800000000", LabelPersistent: "true"}},
		{Labels: map[string]string{LabelEnv: "e", LabelCreated: "1800000200", LabelPersistent: "false"}},
	})
	if l[LabelCreated] != "1800000000" || l[LabelPersistent] != "true" {
		t.Errorf("envLabels = %v", l)
	}
}
