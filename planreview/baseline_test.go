package planreview

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
)

func TestBaselineSaysWhatThePlanComparedAgainst(t *testing.T) {
	withState := &tfjson.Plan{PriorState: &tfjson.State{Values: &tfjson.StateValues{RootModule: &tfjson.StateModule{
		Resources:    []*tfjson.StateResource{{Mode: tfjson.ManagedResourceMode}, {Mode: tfjson.DataResourceMode}},
		ChildModules: []*tfjson.StateModule{{Resources: []*tfjson.StateResource{{Mode: tfjson.ManagedResourceMode}}}},
	}}}}
	none := t.TempDir()
	if got := baseline("", none, &tfjson.Plan{}); !strings.HasPrefix(got, "Compared against nothing") {
		t.Errorf("no backend, no state: %q", got)
	}
	if got := baseline("", none, withState); !strings.Contains(got, "local state file (2 resources)") {
		t.Errorf("local state: %q", got)
	}
	pg := t.TempDir()
	if err := os.WriteFile(filepath.Join(pg, "terraform.tfstate"), []byte(`{"version":3,"backend":{"type":"pg","config":{}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := baseline("", pg, withState); got != "Compared against the live state in the `pg` backend (2 resources)." {
		t.Errorf("pg backend: %q", got)
	}
	if got := baseline("", pg, &tfjson.Plan{}); !strings.Contains(got, "holds no resources") {
		t.Errorf("empty pg state: %q", got)
	}
}

func TestLockDetailPicksTheLockInfo(t *testing.T) {
	msg := "Error: Error acquiring the state lock\n\nError message: locked\nLock Info:\n  ID:  abc\n  Who: bob@box\n\n\nTerraform acquires..."
	if got := lockDetail(msg); got != "Lock Info: ID: abc Who: bob@box" {
		t.Errorf("lockDetail = %q", got)
	}
}

func TestMovesAreListedNotCounted(t *testing.T) {
	p := &tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{{
		Address: "module.stack.module.redis.docker_container.this", PreviousAddress: "module.redis.docker_container.this",
		Type: "docker_container", Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionNoop}},
	}}}
	s := Summarize(p)
	if len(s.Changes) != 0 || len(s.Moved) != 1 || s.HasChanges() {
		t.Fatalf("a move only: changes %v, moved %v", s.Changes, s.Moved)
	}
	if md := RenderSummary(s, RenderOptions{}); !strings.Contains(md, "- `module.redis.docker_container.this` → `module.stack.module.redis.docker_container.this`") {
		t.Errorf("the markdown does not list the move:\n%s", md)
	}
}
