package progress

import (
	"encoding/json"
	"testing"

	"github.com/dsenv/dsenv/internal/engine"
)

// Docker leaves Health out for a container without a healthcheck; Podman sends an empty
// one. Both are a running container, not an unhealthy one.
func TestDescribeTakesAnEmptyHealthForNone(t *testing.T) {
	for _, tt := range []struct {
		inspect string
		want    string
		state   State
	}{
		{`{"State":{"Status":"running"}}`, "running", Done},
		{`{"State":{"Status":"running","Health":{"Status":""}}}`, "running", Done},
		{`{"State":{"Status":"running","Health":{"Status":"healthy"}}}`, "running, healthy", Done},
		{`{"State":{"Status":"running","Health":{"Status":"starting"}}}`, "running, health starting", Running},
		{`{"State":{"Status":"running","Health":{"Status":"unhealthy"}}}`, "running, unhealthy", Failed},
		{`{"State":{"Status":"exited","ExitCode":0}}`, "exited 0", Done},
		{`{"State":{"Status":"exited","ExitCode":1}}`, "exited (exit 1)", Failed},
	} {
		var st engine.ContainerState
		if err := json.Unmarshal([]byte(tt.inspect), &st); err != nil {
			t.Fatal(err)
		}
		if got, state := describe(&st); got != tt.want || state != tt.state {
			t.Errorf("%s: describe = %q, %v; want %q, %v", tt.inspect, got, state, tt.want, tt.state)
		}
	}
}
