package tfharness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/planreview"
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
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Skip("terraform not on PATH")
	}
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

	r, err := PlanReview(ctx, dir, PlanVar("secret", secret), PlanTitle("test"), PlanBinary(Terraform))
	if err != nil {
		t.Fatal(err)
	}
	if got := planreview.ExitCode(r, nil); got != 0 || !strings.Contains(r.Text, "No changes") {
		t.Errorf("empty module: exit code %d, text %q; want 0 and No changes", got, r.Text)
	}

	r, err = PlanReview(ctx, dir, PlanVar("secret", secret), PlanVarFile(varFile), PlanSkipInit())
	if err != nil {
		t.Fatal(err)
	}
	if got := planreview.ExitCode(r, nil); got != 2 {
		t.Errorf("exit code %d, want 2", got)
	}
	if got := planreview.Verdict(r.Summary); got != "Plan: 2 to create." {
		t.Errorf("verdict %q", got)
	}
	if strings.Contains(r.Markdown, secret) || strings.Contains(r.Text, secret) {
		t.Error("the review shows the secret")
	}
	if !strings.Contains(r.Markdown, "+ input = (sensitive value)") {
		t.Errorf("sensitive input not masked in:\n%s", r.Markdown)
	}
}

func TestPlanReviewMissingDir(t *testing.T) {
	_, err := PlanReview(context.Background(), filepath.Join(t.TempDir(), "nope"), PlanExecPath("/bin/false"))
	if err == nil {
		t.Fatal("want an error for a missing directory")
	}
}
