package tfharness

import (
	"testing"
	"time"
)

func TestParseOwner(t *testing.T) {
	tests := []struct {
		in      string
		want    Owner
		wantErr bool
	}{
		{"1234@build-7", Owner{PID: 1234, Host: "build-7"}, false},
		{"manual@laptop", Owner{Host: "laptop"}, false},
		{"1234@host@with-at", Owner{PID: 1234, Host: "host@with-at"}, false},
		{"1234", Owner{}, true},
		{"@host", Owner{}, true},
		{"abc@host", Owner{}, true},
		{"-5@host", Owner{}, true},
		{"12@", Owner{}, true},
	}
	for _, tt := range tests {
		got, err := ParseOwner(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseOwner(%q) = %+v, %v; want %+v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParseOwner(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestCurrentOwnerIsThisProcessAndAlive(t *testing.T) {
	o := CurrentOwner()
	if o.Manual() || o.Host == "" {
		t.Fatalf("CurrentOwner() = %+v", o)
	}
	if !processAlive(o.PID, time.Now()) {
		t.Error("this process is not alive according to processAlive")
	}
	// A process that started after the environment was created cannot own it (pid reuse).
	if processAlive(o.PID, time.Now().Add(-24*time.Hour)) {
		if started, ok := processStart(o.PID); ok && started.After(time.Now().Add(-23*time.Hour)) {
			t.Error("processAlive ignores a reused pid")
		}
	}
	if processAlive(1<<22+12345, time.Time{}) {
		t.Error("a pid beyond pid_max is alive")
	}
}

func TestNewIDIsAValidNamePrefix(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id, err := newID("t")
		if err != nil {
			t.Fatal(err)
		}
		if !validPrefix.MatchString(id) || len(id) != 10 {
			t.Fatalf("id %q is not a valid name_prefix", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
}
