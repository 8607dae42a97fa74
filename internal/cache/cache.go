// Package cache names the per-machine directories dsenv reuses between runs:
// the provider mirror, the Terraform CLI config and the image build work area.
package cache

import (
	"fmt"
	"os"
	"path/filepath"
)

const (
	// ProviderVersion is the version the locally built docker provider is published
	// under in the mirror. The build is master after v4.6.0 (see ProviderModuleVersion).
	ProviderVersion = "4.6.0"
	// ProviderModule and ProviderModuleVersion pin the source the provider is built from.
	ProviderModule        = "github.com/kreuzwerker/terraform-provider-docker"
	ProviderModuleVersion = "v0.0.0-20260916201441-96d331c98ff4"

	// OpenTofuModule and OpenTofuVersion pin the OpenTofu that `dsenv setup --with-tofu`
	// builds from source (Terraform itself cannot be built from the module proxy).
	OpenTofuModule  = "github.com/opentofu/opentofu"
	OpenTofuVersion = "v1.10.6"
)

// Dir returns $DSENV_CACHE_DIR, else $XDG_CACHE_HOME/dsenv, else ~/.cache/dsenv.
func Dir() (string, error) {
	if d := os.Getenv("DSENV_CACHE_DIR"); d != "" {
		return filepath.Abs(d)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate cache directory (set DSENV_CACHE_DIR): %w", err)
	}
	return filepath.Join(base, "dsenv"), nil
}

// ProviderMirror is the unpacked filesystem mirror that terraform init reads providers from.
func ProviderMirror(dir string) string { return filepath.Join(dir, "providers") }

// ProviderBinary is where the docker provider binary lives in the mirror for hostname
// (registry.terraform.io for Terraform, registry.opentofu.org for OpenTofu).
func ProviderBinary(dir, hostname string) string {
	return filepath.Join(ProviderMirror(dir), hostname, "kreuzwerker", "docker", ProviderVersion,
		"linux_amd64", "terraform-provider-docker_v"+ProviderVersion)
}

// BinDir holds the Terraform or OpenTofu binaries dsenv installed or built itself.
func BinDir(dir string) string { return filepath.Join(dir, "bin") }

// CLIConfig is the Terraform CLI config that points provider installation at the mirror only.
func CLIConfig(dir string) string { return filepath.Join(dir, "terraformrc") }

// CLIConfigText renders the CLI config for a mirror directory. Direct installation is
// excluded so that a missing provider fails at once instead of trying an unreachable registry.
func CLIConfigText(mirror string) string {
	return fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/kreuzwerker/docker", "registry.opentofu.org/kreuzwerker/docker"]
  }
  direct {
    exclude = ["registry.terraform.io/kreuzwerker/docker", "registry.opentofu.org/kreuzwerker/docker"]
  }
}
`, mirror)
}
