package planreview

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/testenv"
)

// A module with only built-in resources: it plans without any provider or Docker.
const planTestModule = `
variable "secret" {
  type      = string
  sensitive = true
}

variable "items" {
  type    = number
  default = 0
}

resource "terraform_data" "item" {
  count = var.items
  input = var.secret
}
`

func TestPlanReview(t *testing.T) {
	tf := requireTerraform(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(planTestModule), 0o644); err != nil {
		t.Fatal(err)
	}
	varFile := filepath.Join(t.TempDir(), "items.tfvars")
	if err := os.WriteFile(varFile, []byte("items = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "plan-review-secret-7d1c"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	r, err := Run(ctx, Options{Dir: dir, ExecPath: tf, Vars: map[string]string{"secret": secret}, Render: RenderOptions{Title: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ExitCode(r, nil); got != 0 || !strings.Contains(r.Text, "No changes") {
		t.Errorf("empty module: exit code %d, text %q; want 0 and No changes", got, r.Text)
	}

	r, err = Run(ctx, Options{Dir: dir, ExecPath: tf, Vars: map[string]string{"secret": secret}, VarFiles: []string{varFile}, SkipInit: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := ExitCode(r, nil); got != 2 {
		t.Errorf("exit code %d, want 2", got)
	}
	if got := Verdict(r.Summary); got != "Plan: 2 to create." {
		t.Errorf("verdict %q", got)
	}
	if strings.Contains(r.Markdown, secret) || strings.Contains(r.Text, secret) {
		t.Error("the review shows the secret")
	}
	if !strings.Contains(r.Markdown, "+ input = (sensitive value)") {
		t.Errorf("sensitive input not masked in:\n%s", r.Markdown)
	}
}

func TestPlanReviewOfAMissingDirNamesIt(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := Run(context.Background(), Options{Dir: missing, ExecPath: "/bin/false"})
	if err == nil || !strings.Contains(err.Error(), "plan "+missing+": ") || !strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("err = %v; want one naming %s as missing", err, missing)
	}
}

// requireTerraform returns terraform's path (see testenv.Missing when there is none).
func requireTerraform(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("terraform")
	if err != nil {
		testenv.Missing(t, "terraform not on PATH")
	}
	return p
}
