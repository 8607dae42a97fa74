package status

import (
	"testing"
	"time"
)

func TestHealth(t *testing.T) {
	job := Container{Service: "migrate", State: "exited", ExitCode: 0}
	for _, tc := range []struct {
		cs   []Container
		want string
	}{
		{[]Container{{State: "running", Health: "healthy"}, {State: "running"}, job}, "healthy"},
		{[]Container{{State: "running", Health: "starting"}, job}, "starting"},
		{[]Container{{State: "running", Health: "unhealthy"}, job}, "unhealthy"},
		{[]Container{{State: "running", Health: "healthy"}, {State: "exited", ExitCode: 1}}, "unhealthy"},
		{[]Container{job}, "stopped"},
		{nil, "stopped"},
	} {
		if got := Health(tc.cs); got != tc.want {
			t.Errorf("Health(%+v) = %q, want %q", tc.cs, got, tc.want)
		}
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		42 * time.Second: "42s", 12*time.Minute + 20*time.Second: "12m", 3*time.Hour + 10*time.Minute: "3h", 50 * time.Hour: "2d",
	} {
		if got := Age(d); got != want {
			t.Errorf("Age(%s) = %q, want %q", d, got, want)
		}
	}
}
