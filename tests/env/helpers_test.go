// Package env_test checks the terraform/env root module end to end against real Docker:
// the `make up` / `make down` path (cmd/dsenv up and down, applied in place in a copy of
// the repository's terraform tree), and that a broken migration or an unreachable Redis
// fails the apply fast with the failing job's own log line (issue 4, "Must show" 1-3, 5-7).
package env_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/tfbin"
)

// images are the local images the root module uses by default; `make setup` builds them.
var images = []string{"dsenv/postgres:15", "dsenv/redis:7", "dsenv/datastorage:latest", "dsenv/migrate:latest", "dsenv/authstandin:latest"}

// testContext is bounded by the test deadline (minus time for the cleanups), else 10 min.
func testContext(t *testing.T) context.Context {
	t.Helper()
	d := time.Now().Add(10 * time.Minute)
	if dl, ok := t.Deadline(); ok {
		d = dl.Add(-30 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// requireDocker fails the test with a clear message when the docker CLI, the daemon or
// one of the images is missing.
func requireDocker(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("docker CLI not on PATH: %v (these tests need a running Docker daemon)", err)
	}
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		t.Fatalf("Docker daemon does not answer: %v: %s", err, bytes.TrimSpace(out))
	}
	for _, img := range images {
		if out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", img).CombinedOutput(); err != nil {
			t.Fatalf("image %s missing (run `make setup`): %v: %s", img, err, bytes.TrimSpace(out))
		}
	}
}

// repoRoot is the module root: two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	return root
}

// randomSuffix returns n lower-case hex characters.
func randomSuffix(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)[:n]
}

var spaces = regexp.MustCompile(`\s+`)

// normalise collapses every run of whitespace into one space: Terraform wraps long
// diagnostic lines and indents the continuation.
func normalise(s string) string { return spaces.ReplaceAllString(s, " ") }

// result is a finished command.
type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// run runs name args in dir with env (nil: the test's environment). A command that
// cannot start fails the test; a non-zero exit is returned in code.
func run(t *testing.T, ctx context.Context, dir string, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, r.stdout, r.stderr)
	}
	return r
}

// goBinary is the go command that builds cmd/dsenv: the one on PATH, else the one of
// the toolchain that built this test.
func goBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("go command not on PATH nor at %s: it builds cmd/dsenv for this test", p)
	}
	return p
}

// buildDsenv builds cmd/dsenv into dir, as `make up` does.
func buildDsenv(t *testing.T, ctx context.Context, root, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "dsenv")
	r := run(t, ctx, root, nil, goBinary(t), "build", "-o", bin, "./cmd/dsenv")
	if r.code != 0 {
		t.Fatalf("go build ./cmd/dsenv: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("go build ./cmd/dsenv: %s", r.took.Round(time.Millisecond))
	return bin
}

// copyTerraform copies the Terraform sources of root/terraform (env/ and modules/) to
// dst: *.tf, *.tf.json, *.tftpl, *.tftest.hcl; never state, variables files, lock files
// or .terraform directories (a developer's own `make up` environment lives in the
// original terraform/env). It returns dst.
func copyTerraform(t *testing.T, root, dst string) string {
	t.Helper()
	src := filepath.Join(root, "terraform")
	for _, sub := range []string{"env", "modules"} {
		err := filepath.WalkDir(filepath.Join(src, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, path)
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == ".terraform" {
					return filepath.SkipDir
				}
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			name := d.Name()
			if !(strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json") ||
				strings.HasSuffix(name, ".tftpl") || strings.HasSuffix(name, ".tftest.hcl")) {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
		})
		if err != nil {
			t.Fatalf("copy %s: %v", filepath.Join(src, sub), err)
		}
	}
	return dst
}

// terraformCmd returns the Terraform (or OpenTofu, DSENV_TF_BINARY) binary dsenv uses and
// an environment for it: the provider mirror's CLI config, no TF_VAR_* or TF_CLI_ARGS*.
func terraformCmd(t *testing.T, ctx context.Context) (string, []string) {
	t.Helper()
	b, err := tfbin.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := cache.Dir()
	if err != nil {
		t.Fatal(err)
	}
	path, _, err := tfbin.Find(ctx, b, filepath.Join(dir, "bin"))
	if err != nil {
		t.Fatalf("%s not found (run `make setup`): %v", b, err)
	}
	cfg := cache.CLIConfig(dir)
	if _, err := os.Stat(cfg); err != nil {
		t.Fatalf("CLI config of the provider mirror missing (run `make setup`): %v", err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+cfg, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	return path, env
}

// docker runs the docker CLI and returns its trimmed output, failing the test on error.
func docker(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return strings.TrimSpace(string(out))
}
