package planreview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/dsenv/dsenv/internal/pgstate"
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
	// Env adds environment variables for terraform (e.g. the backend's PG_CONN_STR); it
	// inherits this process's environment otherwise.
	Env map[string]string
	// Stdout and Stderr receive terraform's own output; nil discards it.
	Stdout, Stderr io.Writer
	// PlanFile, when set, keeps the saved plan there; otherwise it goes to a temporary file.
	PlanFile string
	// JSONFile, when set, receives the `terraform show -json` document of the plan, mode 0600:
	// like the saved plan itself, it holds variable values (credentials too) in clear.
	JSONFile string
	// BackendConfig are files passed to `terraform init -backend-config` (e.g. the pg
	// backend's conn_str). They hold credentials: Run refuses one that its group or others
	// can read.
	BackendConfig []string
	// LockTimeout is how long the plan waits for the state lock (-lock-timeout, e.g. "60s");
	// "" is Terraform's default, 0s. The plan takes the lock like any plan but never
	// writes the state: `terraform plan` refreshes in memory only and saves nothing but
	// the plan file.
	LockTimeout string
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
	if len(o.Env) > 0 {
		if err := tf.SetEnv(o.Env); err != nil {
			return nil, fmt.Errorf("plan %s: %w", o.Dir, err)
		}
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
		for _, f := range o.BackendConfig {
			if err := privateFile(f); err != nil {
				return nil, fmt.Errorf("plan %s: backend config: %w", o.Dir, err)
			}
			abs, err := filepath.Abs(f)
			if err != nil {
				return nil, err
			}
			opts = append(opts, tfexec.BackendConfig(abs))
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
	if o.LockTimeout != "" {
		popts = append(popts, tfexec.LockTimeout(o.LockTimeout))
	}
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
	if err != nil && strings.Contains(err.Error(), "Error acquiring the state lock") {
		detail := lockDetail(err.Error())
		if backendType(dataDir(o.Dir)) == "pg" {
			// The pg backend's "Lock Info" is this plan's own: ask PostgreSQL who holds it.
			getenv := func(k string) string {
				if v, ok := o.Env[k]; ok {
					return v
				}
				return os.Getenv(k)
			}
			if h, herr := pgstate.Holder(ctx, pgstate.ConnString(o.BackendConfig, getenv), getenv("PGPASSWORD")); herr == nil {
				detail = h
			} else {
				detail = "the pg backend records no holder, and looking it up failed: " + herr.Error()
			}
		}
		return nil, &LockedError{Dir: o.Dir, Detail: detail, Err: err}
	}
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
	s.Baseline = baseline(o.Dir, dataDir(o.Dir), plan)
	return &Result{
		Plan:       plan,
		Summary:    s,
		Markdown:   RenderSummary(s, o.Render),
		Text:       RenderText(s),
		HasChanges: changed || s.HasChanges(),
	}, nil
}

// LockedError is a plan that could not take the state lock within Options.LockTimeout:
// another apply (or plan) holds it. Detail is Terraform's lock information (who holds it
// since when, for backends that record it) or, for the pg backend, which records none, what
// the backend could say.
type LockedError struct {
	Dir    string
	Detail string
	Err    error
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("plan %s: the state is locked by another Terraform run; %s", e.Dir, e.Detail)
}

func (e *LockedError) Unwrap() error { return e.Err }

// lockDetail picks Terraform's "Lock Info:" block out of its error text.
func lockDetail(msg string) string {
	if i := strings.Index(msg, "Lock Info:"); i >= 0 {
		info := msg[i:]
		if j := strings.Index(info, "\n\n"); j >= 0 {
			info = info[:j]
		}
		return strings.Join(strings.Fields(info), " ")
	}
	for _, line := range strings.Split(msg, "\n") {
		if l := strings.TrimSpace(line); strings.Contains(strings.ToLower(l), "lock") && !strings.HasPrefix(l, "Error acquiring") && l != "" {
			return l
		}
	}
	return "Terraform gave no lock information"
}

// privateFile refuses a credentials file that its group or others can read.
func privateFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is mode %04o: it holds credentials, make it 0600 (chmod 600 %s)", path, st.Mode().Perm(), path)
	}
	return nil
}

// dataDir is where terraform init wrote the backend settings: TF_DATA_DIR, else .terraform.
func dataDir(dir string) string {
	if d := os.Getenv("TF_DATA_DIR"); d != "" {
		if filepath.IsAbs(d) {
			return d
		}
		return filepath.Join(dir, d)
	}
	return filepath.Join(dir, ".terraform")
}

// backendType is the backend terraform init configured in dataDir ("pg"); "" for none or
// the local one.
func backendType(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, "terraform.tfstate"))
	if err != nil {
		return ""
	}
	var st struct {
		Backend *struct {
			Type string `json:"type"`
		} `json:"backend"`
	}
	if json.Unmarshal(b, &st) != nil || st.Backend == nil || st.Backend.Type == "local" {
		return ""
	}
	return st.Backend.Type
}

// baseline says what the plan compared the configuration against: the live state in a
// backend, a local state file, or nothing at all (then every resource is a create, and no
// replacement or data loss can show).
func baseline(dir, dataDir string, plan *tfjson.Plan) string {
	backend := backendType(dataDir)
	n := 0
	if plan != nil && plan.PriorState != nil && plan.PriorState.Values != nil {
		n = countResources(plan.PriorState.Values.RootModule)
	}
	switch {
	case backend != "" && n > 0:
		return fmt.Sprintf("Compared against the live state in the `%s` backend (%d resources).", backend, n)
	case backend != "":
		return fmt.Sprintf("Compared against the `%s` backend's state, which holds no resources: everything shows as created.", backend)
	case n > 0:
		return fmt.Sprintf("Compared against the local state file (%d resources), not a shared backend.", n)
	}
	return "Compared against nothing: no backend and no state, so every resource shows as created and no replacement or data loss can show. Plan against the environment's backend to see what a change really does."
}

func countResources(m *tfjson.StateModule) int {
	if m == nil {
		return 0
	}
	n := 0
	for _, r := range m.Resources {
		if r.Mode == tfjson.ManagedResourceMode {
			n++
		}
	}
	for _, c := range m.ChildModules {
		n += countResources(c)
	}
	return n
}
