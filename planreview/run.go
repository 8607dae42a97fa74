package planreview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
)

// Options say which root module to plan and how.
type Options struct {
	// Dir is the root module (the Terraform working directory).
	Dir string
	// ExecPath is the terraform (or tofu) binary.
	ExecPath string
	// VarFiles are passed as -var-file, in order.
	VarFiles []string
	// Vars are variable values (credentials, for example). They are written to a private
	// temporary var file, never put in process arguments. terraform inherits this process's
	// environment, so TF_VAR_* work as usual.
	Vars map[string]string
	// PluginDir, when set, is passed to `terraform init -plugin-dir` (the provider mirror).
	PluginDir string
	// SkipInit skips `terraform init` (the directory is initialised already).
	SkipInit bool
	// Stdout and Stderr receive terraform's own output; nil discards it.
	Stdout, Stderr io.Writer
	// PlanFile, when set, keeps the saved plan there; otherwise it goes to a temporary file.
	PlanFile string
	// JSONFile, when set, receives the `terraform show -json` document of the plan, mode 0600:
	// like the saved plan itself, it holds variable values (credentials too) in clear.
	JSONFile string
	// Render shapes the markdown.
	Render RenderOptions
}

// Result is a plan and its review.
type Result struct {
	Plan     *tfjson.Plan
	Summary  Summary
	Markdown string
	Text     string
	// HasChanges is what `-detailed-exitcode` reports: resources or outputs change.
	HasChanges bool
}

// ExitCode maps a run to `-detailed-exitcode` semantics: 1 error, 2 changes, 0 no changes.
func ExitCode(r *Result, err error) int {
	switch {
	case err != nil || r == nil:
		return 1
	case r.HasChanges:
		return 2
	}
	return 0
}

// Run initialises the module (unless told not to), runs `terraform plan -out`, reads the
// plan back with `terraform show -json` and renders its review.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Dir == "" || o.ExecPath == "" {
		return nil, errors.New("planreview: Dir and ExecPath are required")
	}
	if st, err := os.Stat(o.Dir); err != nil {
		return nil, fmt.Errorf("plan %s: %w", o.Dir, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("plan %s: not a directory", o.Dir)
	}
	tf, err := tfexec.NewTerraform(o.Dir, o.ExecPath)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", o.Dir, err)
	}
	if o.Stdout != nil {
		tf.SetStdout(o.Stdout)
	}
	if o.Stderr != nil {
		tf.SetStderr(o.Stderr)
	}

	tmp, err := os.MkdirTemp("", "dsenv-plan-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	if !o.SkipInit {
		opts := []tfexec.InitOption{tfexec.Upgrade(false)}
		if o.PluginDir != "" {
			opts = append(opts, tfexec.PluginDir(o.PluginDir))
		}
		if err := tf.Init(ctx, opts...); err != nil {
			return nil, fmt.Errorf("plan %s: terraform init: %w", o.Dir, err)
		}
	}

	planFile := o.PlanFile
	if planFile == "" {
		planFile = filepath.Join(tmp, "plan.tfplan")
	}
	popts := []tfexec.PlanOption{tfexec.Out(planFile)}
	for _, f := range o.VarFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		popts = append(popts, tfexec.VarFile(abs))
	}
	if len(o.Vars) > 0 {
		f := filepath.Join(tmp, "vars.tfvars.json")
		data, err := json.Marshal(o.Vars)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(f, data, 0o600); err != nil {
			return nil, fmt.Errorf("plan %s: write var file: %w", o.Dir, err)
		}
		popts = append(popts, tfexec.VarFile(f))
	}
	changed, err := tf.Plan(ctx, popts...)
	// A saved plan holds every variable value in clear; terraform writes it 0644.
	if cerr := os.Chmod(planFile, 0o600); cerr != nil && !errors.Is(cerr, os.ErrNotExist) && err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("plan %s: terraform plan: %w", o.Dir, err)
	}
	plan, err := tf.ShowPlanFile(ctx, planFile)
	if err != nil {
		return nil, fmt.Errorf("plan %s: terraform show -json: %w", o.Dir, err)
	}
	if o.JSONFile != "" {
		data, err := json.Marshal(plan)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(o.JSONFile, data, 0o600); err != nil {
			return nil, fmt.Errorf("plan %s: write plan JSON: %w", o.Dir, err)
		}
	}
	s := Summarize(plan)
	return &Result{
		Plan:       plan,
		Summary:    s,
		Markdown:   RenderSummary(s, o.Render),
		Text:       RenderText(s),
		HasChanges: changed || s.HasChanges(),
	}, nil
}
