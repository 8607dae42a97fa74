package tfharness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-version"
	install "github.com/hashicorp/hc-install"
	"github.com/hashicorp/hc-install/fs"
	"github.com/hashicorp/hc-install/product"
	"github.com/hashicorp/hc-install/releases"
	"github.com/hashicorp/hc-install/src"
)

// MinTerraformVersion is the oldest Terraform (or OpenTofu) the modules are written for.
var MinTerraformVersion = version.Must(version.NewVersion("1.6.0"))

// Binary names which IaC binary applies the modules.
type Binary string

const (
	Terraform Binary = "terraform"
	OpenTofu  Binary = "tofu"
)

// BinaryFromEnv reads DSENV_TF_BINARY ("terraform", the default, or "tofu").
func BinaryFromEnv() (Binary, error) {
	switch b := Binary(os.Getenv("DSENV_TF_BINARY")); b {
	case "", Terraform:
		return Terraform, nil
	case OpenTofu:
		return OpenTofu, nil
	default:
		return "", fmt.Errorf("DSENV_TF_BINARY=%q: want %q or %q", b, Terraform, OpenTofu)
	}
}

// FindBinary returns the path and version of the binary to use. Terraform is looked up
// with hc-install (PATH first; where absent, the releases source installs it into
// installDir if the internet is reachable). OpenTofu is looked up on PATH, then in installDir.
func FindBinary(ctx context.Context, bin Binary, installDir string) (string, *version.Version, error) {
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
				Constraints: version.MustConstraints(version.NewConstraint(">= " + MinTerraformVersion.String())),
				InstallDir:  installDir,
			})
		}
		p, err := install.NewInstaller().Ensure(ctx, sources)
		if err != nil {
			return "", nil, fmt.Errorf("terraform >= %s not found on PATH and could not be installed (%v): install Terraform >= %s and put it on PATH",
				MinTerraformVersion, firstLine(err.Error()), MinTerraformVersion)
		}
		path = p
	}
	v, err := binaryVersion(ctx, path)
	if err != nil {
		return "", nil, err
	}
	if v.LessThan(MinTerraformVersion) {
		return "", nil, fmt.Errorf("%s is version %s; dsenv needs >= %s", path, v, MinTerraformVersion)
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
