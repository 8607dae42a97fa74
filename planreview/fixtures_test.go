package planreview

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/testenv"
)

var regenPlans = flag.Bool("plans", false, "regenerate testdata/*.plan.json from the fixtures with real terraform and Docker")

const (
	fixtureLabel = "dsenv.env=planreview-fixture"
	fixtureImage = "dsenv/planreview-fixture:latest"
)

// fixtureDrift names, per fixture, the resource whose container is removed by hand
// between apply and plan.
var fixtureDrift = map[string]string{"drift": "datastorage"}

// TestGeneratePlans makes the committed plan JSON from the fixture modules: apply the
// "before" variables, plan the "after" ones, save `terraform show -json`, destroy.
func TestGeneratePlans(t *testing.T) {
	if !*regenPlans {
		t.Skip("run with -plans to regenerate the plan JSON (needs terraform, Docker and the provider mirror)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	execPath, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := cache.Dir()
	if err != nil {
		t.Fatal(err)
	}
	mirror := cache.ProviderMirror(dir)
	if _, err := os.Stat(cache.ProviderBinary(dir, "registry.terraform.io")); err != nil {
		t.Fatalf("provider mirror: %v (run `go run ./cmd/dsenv setup` or set DSENV_CACHE_DIR)", err)
	}
	imageID := fixtureImageID(t)
	t.Cleanup(func() { removeFixtureObjects(t) })

	entries, err := os.ReadDir("testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			generatePlan(ctx, t, execPath, mirror, imageID, name)
		})
	}
}

func generatePlan(ctx context.Context, t *testing.T, execPath, mirror, imageID, name string) {
	src := filepath.Join("testdata", "fixtures", name)
	work := t.TempDir()
	if err := os.CopyFS(work, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"image": imageID, "prefix": "planreview-" + strings.ReplaceAll(name, "_", "-")}
	varFile := filepath.Join(t.TempDir(), "fixture.tfvars.json")
	data, _ := json.Marshal(vars)
	if err := os.WriteFile(varFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	tf, err := tfexec.NewTerraform(work, execPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := tf.Init(ctx, tfexec.PluginDir(mirror)); err != nil {
		t.Fatal(err)
	}
	before := filepath.Join(work, "before.tfvars.json")
	after := filepath.Join(work, "after.tfvars.json")
	if _, err := os.Stat(before); err == nil {
		t.Cleanup(func() {
			if err := tf.Destroy(context.Background(), tfexec.VarFile(varFile), tfexec.VarFile(before)); err != nil {
				t.Errorf("destroy %s: %v", name, err)
			}
		})
		if err := tf.Apply(ctx, tfexec.VarFile(varFile), tfexec.VarFile(before)); err != nil {
			t.Fatal(err)
		}
	}
	if res, ok := fixtureDrift[name]; ok {
		out, err := exec.CommandContext(ctx, "docker", "rm", "-f", vars["prefix"]+"-"+res).CombinedOutput()
		if err != nil {
			t.Fatalf("docker rm: %v: %s", err, out)
		}
	}
	r, err := Run(ctx, Options{
		Dir:      work,
		ExecPath: execPath,
		VarFiles: []string{varFile, after},
		SkipInit: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(r.Plan, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name+".plan.json"), append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s", name, Verdict(r.Summary))
}

// fixtureImageID imports a one-file image: containers of it are created, never started.
func fixtureImageID(t *testing.T) string {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte("planreview fixture\n")
	if err := tw.WriteHeader(&tar.Header{Name: "fixture", Mode: 0o644, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	cmd := exec.Command("docker", "import", "--change", `CMD ["/fixture"]`, "--change", "LABEL "+fixtureLabel, "-", fixtureImage)
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker import: %v: %s", err, out)
	}
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Id}}", fixtureImage).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// removeFixtureObjects removes whatever a failed run left: labelled containers, volumes,
// networks, and the fixture image.
func removeFixtureObjects(t *testing.T) {
	for _, kind := range []string{"container", "volume", "network"} {
		args := []string{kind, "ls", "-q", "--filter", "label=" + fixtureLabel}
		if kind == "container" {
			args = []string{"ps", "-aq", "--filter", "label=" + fixtureLabel}
		}
		out, err := exec.Command("docker", args...).Output()
		if err != nil {
			t.Errorf("docker %s: %v", strings.Join(args, " "), err)
			continue
		}
		ids := strings.Fields(string(out))
		if len(ids) == 0 {
			continue
		}
		rm := append([]string{kind, "rm", "-f"}, ids...)
		if kind == "network" {
			rm = append([]string{kind, "rm"}, ids...)
		}
		if out, err := exec.Command("docker", rm...).CombinedOutput(); err != nil {
			t.Errorf("docker %s: %v: %s", strings.Join(rm, " "), err, out)
		}
	}
	exec.Command("docker", "image", "rm", fixtureImage).Run()
}

// TestRunPlansWithoutApplying runs Run end to end on the create fixture: init from the
// mirror, plan -out, show -json, render. A credential given in Vars never reaches argv and
// is masked in the review.
func TestRunPlansWithoutApplying(t *testing.T) {
	execPath, err := exec.LookPath("terraform")
	if err != nil {
		testenv.Missing(t, "terraform not on PATH")
	}
	dir, err := cache.Dir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cache.ProviderBinary(dir, "registry.terraform.io")); err != nil {
		testenv.Missing(t, "no provider mirror (run `make setup`): %v", err)
	}
	work := t.TempDir()
	if err := os.CopyFS(work, os.DirFS(filepath.Join("testdata", "fixtures", "create"))); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(work, "after.tfvars.json"))
	const secret = "run-test-password-0f3a"
	jsonFile := filepath.Join(t.TempDir(), "plan.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Run(ctx, Options{
		Dir:       work,
		ExecPath:  execPath,
		PluginDir: cache.ProviderMirror(dir),
		Vars:      map[string]string{"image": "sha256:" + strings.Repeat("0", 64), "postgres_password": secret},
		JSONFile:  jsonFile,
		Render:    RenderOptions{Title: "create"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !r.HasChanges || ExitCode(r, nil) != 2 {
		t.Errorf("HasChanges = %v, exit code %d; want true, 2", r.HasChanges, ExitCode(r, nil))
	}
	if got := Verdict(r.Summary); got != "Plan: 3 to create, 1 to read." {
		t.Errorf("verdict %q", got)
	}
	if strings.Contains(r.Markdown, secret) || strings.Contains(r.Text, secret) {
		t.Error("the review shows the password")
	}
	if _, err := os.Stat(jsonFile); err != nil {
		t.Errorf("plan JSON not written: %v", err)
	}
}
