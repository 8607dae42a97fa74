package terraform_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/testenv"
)

// TestModules runs `terraform test` (plan-time tests with a mocked docker provider: no Docker
// daemon involved) in every module that has *.tftest.hcl files. It works on a copy of this
// directory so that no .terraform/ or lock file lands in the source tree, and installs the
// provider from dsenv's mirror only (`dsenv setup` builds it).
func TestModules(t *testing.T) {
	bin := os.Getenv("DSENV_TF_BINARY")
	if bin == "" {
		bin = "terraform"
	}
	binPath, err := exec.LookPath(bin)
	if err != nil {
		testenv.Missing(t, "%s not on PATH: %v", bin, err)
	}
	dir, err := cache.Dir()
	if err != nil {
		t.Fatal(err)
	}
	host := "registry.terraform.io"
	if bin == "tofu" {
		host = "registry.opentofu.org"
	}
	if _, err := os.Stat(cache.ProviderBinary(dir, host)); err != nil {
		testenv.Missing(t, "docker provider not in the mirror (run `make setup` first): %v", err)
	}

	work := t.TempDir()
	if err := copyModules(".", work); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(work, "terraformrc")
	if err := os.WriteFile(cliConfig, []byte(cache.CLIConfigText(cache.ProviderMirror(dir))), 0o600); err != nil {
		t.Fatal(err)
	}

	var roots []string
	err = filepath.WalkDir(work, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "tests" {
			roots = append(roots, filepath.Dir(path))
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) == 0 {
		t.Fatal("no module with tests/ found")
	}

	for _, root := range roots {
		name, _ := filepath.Rel(work, root)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			run(ctx, t, binPath, root, cliConfig, "init", "-backend=false", "-input=false", "-no-color")
			out := run(ctx, t, binPath, root, cliConfig, "test", "-no-color")
			t.Log(lastLine(out))
		})
	}
}

// run executes one command in dir and fails the test with its output when it fails.
func run(ctx context.Context, t *testing.T, bin, dir, cliConfig string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	// Keep the caller's environment (PATH, HOME, DOCKER_HOST); override only what matters.
	cmd.Env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"TF_DATA_DIR="+filepath.Join(dir, ".terraform"),
		"CHECKPOINT_DISABLE=1",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), dir, err, out.String())
	}
	return out.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// copyModules copies the Terraform sources, templates and tests under src to dst.
func copyModules(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return fs.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, path), 0o755)
		}
		if !(strings.HasSuffix(path, ".tf") || strings.HasSuffix(path, ".tftpl") || strings.HasSuffix(path, ".tftest.hcl")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, path), b, 0o644)
	})
}

// TestREADMEsListEveryInputAndOutput keeps each module's README tables in step with its
// variables.tf and outputs.tf.
func TestREADMEsListEveryInputAndOutput(t *testing.T) {
	decl := regexp.MustCompile(`(?m)^(variable|output) "(\w+)"`)
	dirs, err := filepath.Glob("modules/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range append(dirs, "env") {
		readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		for _, file := range []string{"variables.tf", "outputs.tf"} {
			src, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Errorf("%s: %v", dir, err)
				continue
			}
			for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
				if !strings.Contains(string(readme), "| `"+m[2]+"` |") {
					t.Errorf("%s/README.md does not list %s %q", dir, m[1], m[2])
				}
			}
		}
	}
}

// TestRootsShareTheirOutputs keeps the two roots' outputs the same: terraform/envs/shared's
// outputs.tf is terraform/env's, byte for byte (its own extra outputs live in
// outputs-shared.tf), so the names tfharness decodes mean the same in both.
func TestRootsShareTheirOutputs(t *testing.T) {
	env, err := os.ReadFile(filepath.Join("env", "outputs.tf"))
	if err != nil {
		t.Fatal(err)
	}
	shared, err := os.ReadFile(filepath.Join("envs", "shared", "outputs.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(env, shared) {
		t.Errorf("envs/shared/outputs.tf differs from env/outputs.tf: copy env/outputs.tf over it (shared-only outputs go in outputs-shared.tf)")
	}
}
