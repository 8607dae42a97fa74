package owner

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
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
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("Parse(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestCurrentOwnerIsThisProcessAndAlive(t *testing.T) {
	o := Current()
	if o.Manual() || o.Host == "" {
		t.Fatalf("Current() = %+v", o)
	}
	if !Alive(o.PID, time.Now()) {
		t.Error("this process is not alive according to Alive")
	}
	// A process that started after the environment was created cannot own it (pid reuse).
	if Alive(o.PID, time.Now().Add(-24*time.Hour)) {
		if started, ok := start(o.PID); ok && started.After(time.Now().Add(-23*time.Hour)) {
			t.Error("Alive ignores a reused pid")
		}
	}
	if Alive(1<<22+12345, time.Time{}) {
		t.Error("a pid beyond pid_max is alive")
	}
}
