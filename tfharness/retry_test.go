package tfharness

import (
	"errors"
	"testing"
)

func TestRetryableMatchesOnlyKnownTransientErrors(t *testing.T) {
	rules := defaultRetryable()
	tests := []struct {
		msg  string
		want bool
	}{
		{"Error: timeout while waiting for plugin to start", true},
		{"Error: failed to instantiate provider: timed out waiting for server handshake", true},
		{"Error response from daemon: driver failed programming external connectivity on endpoint t-x-postgres: Bind for 127.0.0.1:32768 failed: port is already allocated", true},
		{"listen tcp 127.0.0.1:5432: bind: address already in use", true},
		{"Error: Provider produced inconsistent result after apply", true},
		{"Error: Invalid value for variable name_prefix", false},
		{"Error: container exited with code 1: failed to connect to Redis: dial tcp: lookup nowhere", false},
		{"Error: Resource postcondition failed: migrate job exited 1: 00002_broken.sql", false},
		{"Error: Unable to find image 'dsenv/nope:latest' locally", false},
	}
	for _, tt := range tests {
		r, got := retryable(rules, errors.New(tt.msg))
		if got != tt.want {
			t.Errorf("retryable(%q) = %v; want %v", tt.msg, got, tt.want)
		}
		if got && r.why == "" {
			t.Errorf("rule for %q has no reason to log", tt.msg)
		}
	}
	if _, ok := retryable(rules, nil); ok {
		t.Error("nil error is retryable")
	}
}

func TestWithRetryableErrorRejectsABadPattern(t *testing.T) {
	c := newConfig([]Option{WithRetryableError("(unclosed", "x")})
	if c.err == nil {
		t.Fatal("bad regexp accepted")
	}
	c = newConfig([]Option{WithRetryableError(`(?i)flaky thing`, "flaky")})
	if _, ok := retryable(c.retryable, errors.New("a FLAKY THING happened")); !ok || c.err != nil {
		t.Fatalf("custom rule not applied (err %v)", c.err)
	}
}
