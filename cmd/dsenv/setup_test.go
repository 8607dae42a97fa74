package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/images"
)

// A machine without debootstrap, where setup may not install it: setup fails at its
// prerequisite check, naming the command, before the provider step runs (the cache is
// empty, so that step would spend minutes building). Once as root with --no-install and
// once as an unprivileged user (setpriv), who gets the sudo form.
func TestSetupStopsAtAMissingPrerequisiteBeforeAnyBuild(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("docker not on PATH under CI=true")
		}
		t.Skip("docker not on PATH")
	}
	work, err := os.MkdirTemp("", "dsenv-prereq-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	if err := os.Chmod(work, 0o755); err != nil { // the unprivileged run reads it
		t.Fatal(err)
	}
	bin := filepath.Join(work, "dsenv")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build dsenv: %v\n%s", err, out)
	}
	// PATH holds what setup needs except debootstrap.
	pathDir := filepath.Join(work, "path")
	mustMkdir(t, pathDir)
	for _, tool := range []string{"docker", "go", "terraform", "tar", "apt-get"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s not on PATH: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(pathDir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	// Recipes whose base image is not built yet, so debootstrap is needed.
	recipes := filepath.Join(work, "images")
	copyFS(t, recipes)
	pk := filepath.Join(recipes, "base", "packages")
	b, err := os.ReadFile(pk)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, []byte("# "+t.Name()+" "+strconv.FormatInt(time.Now().UnixNano(), 10)+"\n")...)
	if err := os.WriteFile(pk, b, 0o644); err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, cacheDir string, prefix []string, args ...string) (string, error) {
		argv := append(append(prefix, bin, "setup", "-recipes", recipes, "-repo", repoRoot(t)), args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "PATH="+pathDir, "DSENV_CACHE_DIR="+cacheDir, "DSENV_NO_INSTALL=", "HOME="+work)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	check := func(t *testing.T, out string, err error, cacheDir, want string) {
		t.Helper()
		if err == nil {
			t.Fatalf("setup succeeded without debootstrap:\n%s", out)
		}
		if !strings.Contains(out, want) {
			t.Errorf("the error does not name %q:\n%s", want, out)
		}
		for _, later := range []string{"provider ", "terraform ", "debian-base "} {
			if strings.Contains(out, "  "+later) {
				t.Errorf("step %q ran before the prerequisite failed:\n%s", later, out)
			}
		}
		if ents, _ := os.ReadDir(cacheDir); len(ents) > 0 {
			t.Errorf("the cache dir was written (a build started): %v", ents)
		}
	}

	t.Run("root, --no-install", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root")
		}
		cacheDir := filepath.Join(work, "cache-root")
		out, err := run(t, cacheDir, nil, "--no-install")
		t.Log(out)
		check(t, out, err, cacheDir, "debootstrap (builds the base image from Debian packages) not found on PATH: run `apt-get install -y debootstrap`")
	})
	t.Run("unprivileged user", func(t *testing.T) {
		setpriv, err := exec.LookPath("setpriv")
		if os.Geteuid() != 0 || err != nil {
			t.Skip("needs root and setpriv to become another user")
		}
		gid := dockerGroup(t)
		cacheDir := filepath.Join(work, "cache-user")
		out, err := run(t, cacheDir, []string{setpriv, "--reuid=65534", "--regid=65534", "--groups=" + gid, "--"})
		t.Log(out)
		check(t, out, err, cacheDir, "run `sudo apt-get install -y debootstrap`")
	})
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// copyFS writes the embedded recipes to dir, world-readable.
func copyFS(t *testing.T, dir string) {
	t.Helper()
	if err := os.CopyFS(dir, images.FS); err != nil {
		t.Fatal(err)
	}
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			mode := os.FileMode(0o644)
			if fi.IsDir() || images.Executable(p) {
				mode = 0o755
			}
			_ = os.Chmod(p, mode)
		}
		return nil
	})
}

// dockerGroup is the gid owning the Docker socket, so the unprivileged user reaches it.
func dockerGroup(t *testing.T) string {
	out, err := exec.Command("stat", "-c", "%g", "/var/run/docker.sock").Output()
	if err != nil {
		t.Skipf("no /var/run/docker.sock to share with another user: %v", err)
	}
	return strings.TrimSpace(string(out))
}
