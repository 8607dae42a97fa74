// Package tfbin finds the Terraform or OpenTofu binary that applies dsenv's modules and
// prepares the environment its processes run with.
package tfbin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/dsenv/dsenv/internal/engine"

	"github.com/hashicorp/go-version"
	install "github.com/hashicorp/hc-install"
	"github.com/hashicorp/hc-install/fs"
	"github.com/hashicorp/hc-install/product"
	"github.com/hashicorp/hc-install/releases"
	"github.com/hashicorp/hc-install/src"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// MinVersion is the oldest Terraform (or OpenTofu) the modules are written for.
const MinVersion = "1.6.0"

var minVersion = version.Must(version.NewVersion(MinVersion))

// Binary names which IaC binary applies the modules.
type Binary string

const (
	Terraform Binary = "terraform"
	OpenTofu  Binary = "tofu"
)

// FromEnv reads DSENV_TF_BINARY ("terraform", the default, or "tofu").
func FromEnv() (Binary, error) {
	switch b := Binary(os.Getenv("DSENV_TF_BINARY")); b {
	case "", Terraform:
		return Terraform, nil
	case OpenTofu:
		return OpenTofu, nil
	default:
		return "", fmt.Errorf("DSENV_TF_BINARY=%q: want %q or %q", b, Terraform, OpenTofu)
	}
}

// Find returns the path and version of the binary to use. Terraform is looked up
// with hc-install (PATH first; where absent, the releases source installs it into
// installDir if the internet is reachable). OpenTofu is looked up on PATH, then in installDir.
func Find(ctx context.Context, bin Binary, installDir string) (string, *version.Version, error) {
	var path string
	switch bin {
	case OpenTofu:
		p, err := exec.LookPath("tofu")
		if err != nil && installDir != "" {
			// `dsenv setup --with-tofu` builds it here.
			p, err = exec.LookPath(filepath.Join(installDir, "tofu"))
		}
		if err != nil {
			return "", nil, errors.New("tofu not found on PATH nor in the dsenv cache: run `go run ./cmd/dsenv setup --with-tofu` (builds OpenTofu from source), or use DSENV_TF_BINARY=terraform")
		}
		path = p
	default:
		sources := []src.Source{&fs.AnyVersion{Product: &product.Terraform}}
		if installDir != "" {
			if err := os.MkdirAll(installDir, 0o755); err != nil {
				return "", nil, fmt.Errorf("create terraform install dir: %w", err)
			}
			sources = append(sources, &releases.LatestVersion{
				Product:     product.Terraform,
				Constraints: version.MustConstraints(version.NewConstraint(">= " + MinVersion)),
				InstallDir:  installDir,
			})
		}
		p, err := install.NewInstaller().Ensure(ctx, sources)
		if err != nil {
			return "", nil, fmt.Errorf("terraform >= %s not found on PATH and could not be installed (%v): install Terraform >= %s and put it on PATH",
				minVersion, firstLine(err.Error()), minVersion)
		}
		path = p
	}
	v, err := binaryVersion(ctx, path)
	if err != nil {
		return "", nil, err
	}
	if v.LessThan(minVersion) {
		return "", nil, fmt.Errorf("%s is version %s; dsenv needs >= %s", path, v, minVersion)
	}
	return path, v, nil
}

func binaryVersion(ctx context.Context, path string) (*version.Version, error) {
	out, err := exec.CommandContext(ctx, path, "version", "-json").Output()
	if err != nil {
		return nil, fmt.Errorf("%s version: %w", filepath.Base(path), err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("%s version -json: %w", filepath.Base(path), err)
	}
	return version.NewVersion(v.Version)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Env is the environment of every Terraform process: the caller's, so that PATH, HOME and
// DOCKER_HOST survive, minus anything that would make a run depend on the user's
// Terraform setup, plus extra.
func Env(extra map[string]string) map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "TF_CLI_CONFIG_FILE", k == "TERRAFORM_CONFIG", k == "TF_DATA_DIR",
			k == "TF_PLUGIN_CACHE_DIR", k == "TF_IGNORE",
			strings.HasPrefix(k, "DSENV_REAPER_"):
			continue
		}
		env[k] = v
	}
	env = tfexec.CleanEnv(env) // TF_VAR_*, TF_CLI_ARGS*, TF_LOG*, TF_WORKSPACE ...
	env["CHECKPOINT_DISABLE"] = "1"
	// The docker provider reads DOCKER_HOST: give it the engine dsenv itself found
	// (Docker's socket, else Podman's), so neither needs configuring.
	if env["DOCKER_HOST"] == "" {
		if h, err := engine.Host(); err == nil {
			env["DOCKER_HOST"] = h
		}
	}
	maps.Copy(env, extra)
	return env
}

// ProviderHost is the registry host under which b looks providers up in the mirror.
func ProviderHost(b Binary) string {
	if b == OpenTofu {
		return "registry.opentofu.org"
	}
	return "registry.terraform.io"
}
