package persistent

import (
	"strings"
	"testing"
)

func TestErrorBlocksKeepsOnlyTheErrorPart(t *testing.T) {
	out := `Initializing the backend...
Initializing modules...
╷
│ Error: Module not installed
│
│   on main.tf line 3:
│    3: module "network" {
╵
`
	want := "Error: Module not installed\n\non main.tf line 3:\n3: module \"network\" {"
	if got := ErrorBlocks(out, nil); got != want {
		t.Errorf("ErrorBlocks:\n%q\nwant\n%q", got, want)
	}
}

func TestApplyStreamReportsPlanApplyAndDiagnostics(t *testing.T) {
	var events []Event
	a := &applyStream{p: &Persistent{Progress: func(e Event) { events = append(events, e) }}}
	a.read(strings.NewReader(strings.Join([]string{
		`{"type":"apply_start","hook":{"resource":{"addr":"module.redis.data.docker_image.this[0]"},"action":"read"}}`,
		`{"type":"change_summary","changes":{"add":2,"change":0,"remove":0,"operation":"plan"}}`,
		`{"type":"apply_start","hook":{"resource":{"addr":"module.network[0].docker_network.this"},"action":"create"}}`,
		`{"type":"apply_complete","hook":{"resource":{"addr":"module.network[0].docker_network.this"},"action":"create","elapsed_seconds":2}}`,
		`not json`,
		`{"type":"diagnostic","diagnostic":{"severity":"warning","summary":"ignored"}}`,
		`{"type":"diagnostic","diagnostic":{"severity":"error","summary":"Invalid value","detail":"log_level must be one of debug, info","range":{"filename":"dsenv.auto.tfvars","start":{"line":11}}}}`,
		`{"type":"change_summary","changes":{"add":1,"change":0,"remove":0,"operation":"apply"}}`,
	}, "\n")))
	var got []string
	for _, e := range events {
		got = append(got, e.Step+"|"+e.Resource+"|"+e.Action+"|"+[]string{"started", "done", "failed"}[e.Phase]+"|"+e.Detail)
	}
	want := []string{
		"apply|module.redis.data.docker_image.this[0]|read|started|",
		"plan|||done|2 to add, 0 to change, 0 to destroy",
		"apply|||started|",
		"apply|module.network[0].docker_network.this|create|started|",
		"apply|module.network[0].docker_network.this|create|done|",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !a.planned || a.summary != "1 added, 0 changed, 0 destroyed" {
		t.Errorf("planned %v, summary %q", a.planned, a.summary)
	}
	wantErr := "Error: Invalid value\n  on dsenv.auto.tfvars line 11\n  log_level must be one of debug, info"
	if len(a.errors) != 1 || a.errors[0] != wantErr {
		t.Errorf("errors = %q, want [%q]", a.errors, wantErr)
	}
}
