package shared

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/dsenv/dsenv/tfharness"
)

// TestNoSecretOnDiskForOthers: after `dsenv up` (make up) and after `dsenv down`, every
// state, state backup and variables file in the environment's directory is 0600; the
// failure artifacts of a harness environment are in directories only their owner can
// enter, files 0600, even where an older dsenv left the artifacts root 0755.
func TestNoSecretOnDiskForOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("applies real environments")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dsenv := buildDsenv(ctx, t)

	work := t.TempDir()
	copyTerraform(t, repoPath(t, "terraform"), filepath.Join(work, "terraform"))
	dir := filepath.Join(work, "terraform", "env")
	name := "dsenv-uptest-" + randomHex(t, 3)
	t.Cleanup(func() { labelled.Remove(t, "dsenv.env="+name) })
	secretFiles := func(rel string) bool {
		return strings.Contains(rel, "tfstate") || strings.HasSuffix(rel, ".tfvars") || strings.HasSuffix(rel, ".tfplan")
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, dsenv, args...)
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dsenv %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("up", "--dir", dir, "--name", name)
	seen := checkModes(t, dir, secretFiles)
	t.Logf("after dsenv up: %v", seen)
	if !contains(seen, "terraform.tfstate 0600") || !contains(seen, "dsenv.auto.tfvars 0600") {
		t.Errorf("after dsenv up: want terraform.tfstate and dsenv.auto.tfvars, 0600; got %v", seen)
	}
	run("up", "--dir", dir) // a second apply writes the backup too
	run("down", "--dir", dir)
	seen = checkModes(t, dir, secretFiles)
	t.Logf("after dsenv up, up, down: %v", seen)
	if !contains(seen, "terraform.tfstate.backup 0600") {
		t.Errorf("after dsenv down: want terraform.tfstate.backup 0600; got %v", seen)
	}

	// Artifacts: DumpLogs of a live harness environment into a root an older dsenv left 0755.
	root := filepath.Join(t.TempDir(), "artifacts")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	env := tfharness.New(t, tfharness.WithArtifactsDir(root))
	out := env.DumpLogs(ctx, "checking the artifacts' modes")
	if out == "" {
		t.Fatal("DumpLogs wrote no artifacts")
	}
	for d := out; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("artifacts directory %s is mode %04o, want 0700", d, st.Mode().Perm())
		}
		if d == root {
			break
		}
	}
	files := checkModes(t, root, func(string) bool { return true })
	t.Logf("artifacts: %v", files)
	if len(files) < 4 {
		t.Errorf("want terraform.log and the containers' logs in the artifacts; got %v", files)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
