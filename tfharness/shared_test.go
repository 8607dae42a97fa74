package tfharness

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dsenv/dsenv/internal/owner"
)

func TestSharedKeySeparatesRunsOptionsAndCheckouts(t *testing.T) {
	run := procOf(os.Getpid())
	base := sharedKey("gateway", newConfig(nil), run)
	dirA := sharedKey("gateway", newConfig([]Option{WithModules(os.DirFS("/a/terraform"), "env")}), run)
	if again := sharedKey("gateway", newConfig([]Option{WithModules(os.DirFS("/a/terraform"), "env")}), run); again != dirA {
		t.Errorf("the same module directory gives keys %s and %s", dirA, again)
	}
	if again := sharedKey("gateway", newConfig(nil), run); again != base {
		t.Fatalf("same name, options and run: keys %s and %s", base, again)
	}
	other := run
	other.Start++
	for what, k := range map[string]string{
		"name":     sharedKey("other", newConfig(nil), run),
		"options":  sharedKey("gateway", newConfig([]Option{WithLogLevel("debug")}), run),
		"secret":   sharedKey("gateway", newConfig([]Option{WithSensitiveVar("api_token", "x")}), run),
		"run":      sharedKey("gateway", newConfig(nil), other),
		"modules":  sharedKey("gateway", newConfig([]Option{WithModules(os.DirFS("/elsewhere/terraform"), "env")}), run),
		"checkout": func() string { t.Chdir(t.TempDir()); return sharedKey("gateway", newConfig(nil), run) }(),
	} {
		if k == base {
			t.Errorf("another %s gives the same key %s", what, k)
		}
	}
}

func TestSharedRecordIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	if err := writeRecord(path, &record{Version: recordVersion, Payload: []byte(`{"secret":"s"}`)}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("record mode %v; want 0600 (it holds the payload's secrets)", st.Mode().Perm())
	}
	r, err := readRecord(path)
	if err != nil || string(r.Payload) != `{"secret":"s"}` {
		t.Errorf("readRecord = %+v, %v", r, err)
	}
}

func TestRunProcessIsTheGoCommandUnderGoTest(t *testing.T) {
	// `go test` starts this binary: the run is the go command, so that every package
	// process of the run agrees on it.
	want := os.Getpid()
	if b := filepath.Base(owner.Executable(os.Getppid())); b == "go" || b == "ginkgo" {
		want = os.Getppid()
	}
	if got := runProcess(); got.PID != want {
		t.Errorf("runProcess() = %d; want %d (parent %s)", got.PID, want, owner.Executable(os.Getppid()))
	}
	if !procOf(os.Getpid()).alive() {
		t.Error("this process is not alive by pid and start time")
	}
	p := procOf(os.Getpid())
	p.Start++
	if p.alive() {
		t.Error("a process with another start time (a reused pid) counts as alive")
	}
}
