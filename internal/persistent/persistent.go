// Package persistent applies a root module in place, as `make up` (dsenv up/down) does with
// terraform/env: state and .terraform stay in that directory.
package persistent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
	"github.com/dsenv/dsenv/internal/secret"
	"github.com/dsenv/dsenv/internal/tfbin"
)

// Persistent is an environment applied in place in a root module directory, as
// `make up` does with terraform/env: state and .terraform stay in that directory, so
// `cd terraform/env && terraform plan` works afterwards. Its variables, credentials
// included, live in the git-ignored 0600 file VarsFile, written on the first Up.
type Persistent struct {
	Dir    string       // root module directory
	Name   string       // name_prefix on first Up (default "dsenv-local")
	Binary tfbin.Binary // default terraform
	Output io.Writer    // Terraform's output (default os.Stderr); unused while Progress is set
	// Progress, when set, receives Up's steps and resource changes as they happen, and
	// Terraform's own output is kept back: a failure returns only its Error: blocks.
	Progress func(Event)

	// DataStorageImage and MigrationsDir switch the DS (e.g. to the real one, with its own
	// migrations) for this Up: written to FlagsFileName, rewritten on every Up, so an Up
	// without them goes back to the reference DS.
	DataStorageImage string
	MigrationsDir    string
	// AuthBackend is AuthStandIn ("" too) or AuthKube for this Up, written to FlagsFileName
	// like DataStorageImage: an Up without it goes back to the stand-in. With AuthKube, Up
	// generates KubePKIFileName once and mints the tokens into KubeTokensFileName.
	AuthBackend string
}

// Event is one step of Up (Resource "") or one resource change of its apply.
type Event struct {
	Step     string // "init", "plan", "apply" or "kube" (the bootstrap: Up), "destroy" (Down)
	Resource string // resource address, for a resource change
	Action   string // resource change: create, update, delete, replace, ...
	Phase    Phase
	Elapsed  time.Duration // Done and Failed: how long it took
	Detail   string        // Done: e.g. "2 to add, 0 to change, 0 to destroy"
}

// Phase of an Event.
type Phase int

const (
	Started Phase = iota
	Done
	Failed
)

// FlagsFileName holds the settings of the last Up's command line and its engine (not secret).
const FlagsFileName = "dsenv-flags.auto.tfvars.json"

// VarsFileName is the variables file of a persistent environment.
const VarsFileName = "dsenv.auto.tfvars"

// VarsFile is the path of the environment's variables file.
func (p *Persistent) VarsFile() string { return filepath.Join(p.Dir, VarsFileName) }

var namePrefixLine = regexp.MustCompile(`(?m)^\s*name_prefix\s*=\s*"([^"]+)"`)

// EnvID reads the environment id (name_prefix) from the variables file.
func (p *Persistent) EnvID() (string, error) {
	b, err := os.ReadFile(p.VarsFile())
	if err != nil {
		return "", err
	}
	m := namePrefixLine.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s has no name_prefix", p.VarsFile())
	}
	return string(m[1]), nil
}

// ensureVars writes the variables file with fresh credentials unless it exists; to a file
// of an older dsenv it appends the secrets it lacks (the denied token, the signing pair).
func (p *Persistent) ensureVars() (created bool, err error) {
	if b, err := os.ReadFile(p.VarsFile()); err == nil {
		return false, p.addMissingSecrets(b)
	}
	name := p.Name
	if name == "" {
		name = "dsenv-local"
	}
	if !label.ValidEnvID.MatchString(name) {
		return false, fmt.Errorf("name %q: want %s", name, label.ValidEnvID)
	}
	secrets, err := secret.Generate()
	if err != nil {
		return false, err
	}
	text := fmt.Sprintf(`# Written by "dsenv up" on its first run: this environment's settings and credentials.
# Git-ignored and private (0600). After "make down", delete it to start over with new credentials.
name_prefix = %q
owner       = %q
created     = %q
labels      = { %q = "true", %q = "up" }

postgres_password = %q
redis_password    = %q
api_token         = %q
denied_token      = %q

# The DS's RSA signing pair (tls.crt, tls.key in its signerCertDir).
signer_cert_pem = %q
signer_key_pem  = %q
`, name, owner.Manual().String(), strconv.FormatInt(time.Now().Unix(), 10), label.Persistent, label.Kind,
		secrets["postgres_password"], secrets["redis_password"], secrets["api_token"], secrets["denied_token"],
		secrets["signer_cert_pem"], secrets["signer_key_pem"])
	f, err := os.OpenFile(p.VarsFile(), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return false, err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return false, err
	}
	return true, f.Close()
}

// addMissingSecrets appends to the variables file (content b) a fresh value of each secret
// of secret.Vars it does not set.
func (p *Persistent) addMissingSecrets(b []byte) error {
	var missing []string
	for _, k := range secret.Vars {
		if !regexp.MustCompile(`(?m)^\s*` + k + `\s*=`).Match(b) {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	fresh, err := secret.Generate()
	if err != nil {
		return err
	}
	text := "\n# Added by a newer dsenv up.\n"
	for _, k := range missing {
		text += fmt.Sprintf("%s = %q\n", k, fresh[k])
	}
	f, err := os.OpenFile(p.VarsFile(), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeFlags writes FlagsFileName from DataStorageImage, MigrationsDir, AuthBackend and
// the engine's settings (removes it when there are none).
func (p *Persistent) writeFlags(podman bool) error {
	path := filepath.Join(p.Dir, FlagsFileName)
	vars := map[string]any{}
	if podman {
		// Podman runs healthchecks from systemd timers: without systemd a wait for "healthy"
		// never ends, so the apply returns once the DS started and Up polls /readyz. Podman
		// 4.3's log follow can miss a one-shot job's exit and hang the apply. In this file,
		// rewritten on every Up, so that `terraform plan` here sees what Up applied and a
		// checkout can move between engines.
		vars["datastorage_wait"], vars["job_logs"] = false, false
	}
	switch p.AuthBackend {
	case "", AuthStandIn:
	case AuthKube:
		vars["auth_backend"] = AuthKube
	default:
		return fmt.Errorf("auth backend %q: want %s or %s", p.AuthBackend, AuthStandIn, AuthKube)
	}
	if p.DataStorageImage != "" {
		vars["datastorage_image"] = p.DataStorageImage
	}
	if p.MigrationsDir != "" {
		dir, err := filepath.Abs(p.MigrationsDir)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("migrations directory %q: not a directory", p.MigrationsDir)
		}
		vars["migrations_dir"] = dir
	}
	if len(vars) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// terraform returns a tfexec handle on Dir with a CLI config of our own pointing at the
// provider mirror; cleanup removes that config.
func (p *Persistent) terraform(ctx context.Context) (*tfexec.Terraform, func(), error) {
	bin := p.Binary
	if bin == "" {
		bin = tfbin.Terraform
	}
	cacheDir, err := cache.Dir()
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(cache.ProviderBinary(cacheDir, tfbin.ProviderHost(bin))); err != nil {
		return nil, nil, fmt.Errorf("docker provider not in the mirror %s: %w",
			cache.ProviderMirror(cacheDir), ErrNotSetUp)
	}
	execPath, _, err := tfbin.Find(ctx, bin, filepath.Join(cacheDir, "bin"))
	if err != nil {
		return nil, nil, err
	}
	cfg, err := os.CreateTemp("", "dsenv-terraformrc-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.Remove(cfg.Name()) }
	_, err = cfg.WriteString(cache.CLIConfigText(cache.ProviderMirror(cacheDir)) + "disable_checkpoint = true\n")
	if cerr := cfg.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	tf, err := tfexec.NewTerraform(p.Dir, execPath)
	if err == nil {
		err = tf.SetEnv(tfbin.Env(map[string]string{"TF_CLI_CONFIG_FILE": cfg.Name()}))
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	out := p.Output
	if out == nil {
		out = os.Stderr
	}
	tf.SetStdout(out)
	tf.SetStderr(out)
	return tf, cleanup, nil
}

// Up initialises Dir (providers from the mirror), writes the variables file on the first
// run and applies. It returns the outputs, secrets included: print them with care.
func (p *Persistent) Up(ctx context.Context) (map[string]tfexec.OutputMeta, error) {
	podman := onPodman(ctx)
	if _, err := p.ensureVars(); err != nil {
		return nil, fmt.Errorf("variables file: %w", err)
	}
	if err := p.writeFlags(podman); err != nil {
		return nil, err
	}
	if p.AuthBackend == AuthKube {
		if err := p.ensureKubePKI(); err != nil {
			return nil, fmt.Errorf("kube PKI file: %w", err)
		}
	}
	tf, cleanup, err := p.terraform(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if p.Progress == nil {
		if err := tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
			return nil, fmt.Errorf("init: %w", err)
		}
		err = tf.Apply(ctx)
		if err != nil {
			err = fmt.Errorf("apply: %w", err)
		}
	} else {
		err = p.observedApply(ctx, tf)
	}
	// Even after a failed apply: the state may have been written.
	if perr := p.privateState(); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return nil, err
	}
	// `terraform output -json` prints secrets: keep its stdout off the console.
	tf.SetStdout(io.Discard)
	out, err := tf.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("outputs: %w", err)
	}
	// The kube backend: kube-apiserver's /readyz, the bootstrap, new tokens (every Up, so
	// an environment kept for days gets fresh tokens by running up again).
	if err := p.kubeStart(ctx, out); err != nil {
		return out, err
	}
	// An image without a healthcheck (the real DS), or any DS on Podman, is not waited for
	// by the apply: wait for /readyz and one authenticated request here.
	if err := waitReady(ctx, out); err != nil {
		return out, err
	}
	return out, nil
}

// Outputs returns the outputs of the applied environment, secrets included: print them
// with care. It reads the state in Dir; nothing is applied. With the kube backend,
// api_token and denied_token are the tokens of the last Up (absent when none were minted).
func (p *Persistent) Outputs(ctx context.Context) (map[string]tfexec.OutputMeta, error) {
	if _, err := os.Stat(filepath.Join(p.Dir, "terraform.tfstate")); err != nil {
		return nil, ErrNotUp
	}
	tf, cleanup, err := p.terraform(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	var stderr bytes.Buffer
	tf.SetStdout(io.Discard)
	tf.SetStderr(&stderr)
	out, err := tf.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform output: %s", oneLine(ErrorBlocks(stderr.String(), err)))
	}
	if len(out) == 0 {
		return nil, ErrNotUp
	}
	if outputValue(out, "auth_backend") == AuthKube {
		// The stand-in's tokens would be refused: without minted ones, none.
		t, err := p.KubeTokens()
		switch {
		case errors.Is(err, ErrNoKubeTokens):
			delete(out, "api_token")
			delete(out, "denied_token")
		case err != nil:
			return nil, err
		default:
			t.apply(out)
		}
	}
	return out, nil
}

// ErrNotSetUp: the toolchain is not built yet.
var ErrNotSetUp = errors.New("run `make setup` (dsenv setup) first")

// ErrNotUp: no environment has been applied in the directory.
var ErrNotUp = errors.New("no environment is up here: run `make up` first")

// onPodman reports whether the engine dsenv talks to is Podman.
func onPodman(ctx context.Context) bool {
	d, err := engine.FromEnv()
	if err != nil {
		return false
	}
	v, err := d.Version(ctx)
	return err == nil && v.Kind == engine.Podman
}

// Down destroys the environment and removes anything still labelled with its id. It
// reports how many resources and leftover objects it removed; with nothing applied it
// removes nothing and succeeds, so a second Down succeeds.
func (p *Persistent) Down(ctx context.Context) (int, error) {
	id, err := p.EnvID()
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil // never brought up
	}
	if err != nil {
		return 0, err
	}
	n, err := stateResources(filepath.Join(p.Dir, "terraform.tfstate"))
	if err != nil {
		return 0, err
	}
	if n > 0 {
		tf, cleanup, err := p.terraform(ctx)
		if err != nil {
			return 0, err
		}
		defer cleanup()
		var out bytes.Buffer
		report := func(Event) {}
		if p.Progress != nil {
			tf.SetStdout(&out)
			tf.SetStderr(&out)
			report = p.Progress
		}
		start := time.Now()
		report(Event{Step: "destroy", Phase: Started})
		if err := tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
			report(Event{Step: "destroy", Phase: Failed, Elapsed: time.Since(start)})
			if p.Progress != nil {
				return 0, &TerraformError{Step: "init", Blocks: ErrorBlocks(out.String(), err)}
			}
			return 0, fmt.Errorf("init: %w", err)
		}
		// Podman: see engine.PrepareTeardown (netavark 1.4 would leave firewall rules).
		if d, derr := engine.FromEnv(); derr == nil {
			if serr := d.PrepareTeardown(ctx, label.Env+"="+id); serr != nil {
				return 0, fmt.Errorf("destroy: %w", serr)
			}
		}
		// -refresh=false: faster (no 2 s network read) and works after setup rebuilt an image.
		err = tf.Destroy(ctx, tfexec.Refresh(false))
		if perr := p.privateState(); perr != nil && err == nil {
			err = perr
		}
		if err != nil {
			report(Event{Step: "destroy", Phase: Failed, Elapsed: time.Since(start)})
			if p.Progress != nil {
				return 0, &TerraformError{Step: "destroy", Blocks: ErrorBlocks(out.String(), err)}
			}
			return 0, fmt.Errorf("destroy: %w", err)
		}
		report(Event{Step: "destroy", Phase: Done, Elapsed: time.Since(start)})
	}
	if err := p.removeKubeTokens(); err != nil {
		return n, err
	}
	d, err := engine.FromEnv()
	if err != nil {
		return n, err
	}
	objs, err := d.List(ctx, label.Env+"="+id)
	if err != nil {
		return n, err
	}
	return n + len(objs), d.Remove(ctx, objs)
}

// StateFiles are the files Terraform keeps the local state in, every secret in clear.
var StateFiles = []string{"terraform.tfstate", "terraform.tfstate.backup"}

// privateState makes the state and its backup 0600. Terraform writes them 0644 under the
// usual umask (dsenv's CLI runs with 077, so they are born 0600 there); this also fixes a state
// written by an older dsenv or by terraform by hand.
func (p *Persistent) privateState() error {
	for _, name := range StateFiles {
		if err := os.Chmod(filepath.Join(p.Dir, name), 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// stateResources counts the resources in a local state file (0 when there is none).
func stateResources(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var st struct {
		Resources []json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return len(st.Resources), nil
}
