package tfharness

import (
	"os"
	"path/filepath"
	"testing"
)

// An artifacts directory left 0755 by an older dsenv becomes 0700, and so does every level
// created below it.
func TestPrivateDirMakesTheArtifactsOwnerOnly(t *testing.T) {
	root := filepath.Join(t.TempDir(), "artifacts")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "TestX", "dsenv-t1")
	if err := privateDir(root, dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{root, filepath.Dir(dir), dir} {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %o, want 700", d, st.Mode().Perm())
		}
	}
	if err := privateDir(root, filepath.Join(t.TempDir(), "elsewhere")); err == nil {
		t.Error("a directory outside the artifacts root must be refused")
	}
}

func TestArtifactsDefaultIsPerUser(t *testing.T) {
	t.Setenv("DSENV_ARTIFACTS_DIR", "")
	t.Setenv("DSENV_CACHE_DIR", "/home/someone/.cache/dsenv")
	if got := artifactsDir(); got != "/home/someone/.cache/dsenv/artifacts" {
		t.Errorf("artifactsDir() = %s, want the per-user cache's artifacts", got)
	}
}
