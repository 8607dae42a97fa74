package setup

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
)

const (
	// providerOldPath is the module path the provider's own go.mod still declares;
	// the provider build module (provider/go.mod.txt) requires it and replaces it with cache.ProviderModule.
	providerOldPath = "github.com/terraform-providers/terraform-provider-docker"
	hostTerraform   = "registry.terraform.io"
	hostOpenTofu    = "registry.opentofu.org"
)

// providerPin is what the stamp file records: the source and the version it is published as.
func providerPin() string {
	return fmt.Sprintf("%s %s as %s\n", cache.ProviderModule, cache.ProviderModuleVersion, cache.ProviderVersion)
}

// buildProvider builds the docker provider into the mirror unless the binary is there and
// the stamp records the same pin, links it for OpenTofu and writes the CLI config.
func buildProvider(ctx context.Context, o Options, r *runner) (result, error) {
	v, err := replacedVersion(providerGoMod)
	if err != nil {
		return result{}, fmt.Errorf("internal/setup/provider/go.mod.txt: %w", err)
	}
	if v != cache.ProviderModuleVersion {
		return result{}, fmt.Errorf("internal/setup/provider/go.mod.txt builds %s %s but internal/cache pins %s: make them agree",
			cache.ProviderModule, v, cache.ProviderModuleVersion)
	}

	tfBin := cache.ProviderBinary(o.CacheDir, hostTerraform)
	stamp := filepath.Join(o.CacheDir, "provider.stamp")
	res := result{detail: fmt.Sprintf("kreuzwerker/docker %s (cached)", cache.ProviderVersion)}
	if !providerCurrent(tfBin, stamp) {
		r.notef("provider: building kreuzwerker/docker %s from the Go module proxy (about 2 min on 2 cores)", cache.ProviderVersion)
		t0 := time.Now()
		modDir, err := writeProviderModule(o.CacheDir)
		if err != nil {
			return result{}, err
		}
		if err := goBuildProvider(ctx, modDir, o.CacheDir, tfBin); err != nil {
			return result{}, err
		}
		if err := writeFileAtomic(stamp, []byte(providerPin()), 0o644); err != nil {
			return result{}, err
		}
		res = result{built: true, detail: fmt.Sprintf("kreuzwerker/docker %s built in %.0fs", cache.ProviderVersion, time.Since(t0).Seconds())}
	}
	if err := linkFile(tfBin, cache.ProviderBinary(o.CacheDir, hostOpenTofu)); err != nil {
		return result{}, fmt.Errorf("publish provider for OpenTofu: %w", err)
	}
	cfg := cache.CLIConfig(o.CacheDir)
	text := []byte(cache.CLIConfigText(cache.ProviderMirror(o.CacheDir)))
	if old, err := os.ReadFile(cfg); err != nil || !bytes.Equal(old, text) {
		if err := writeFileAtomic(cfg, text, 0o644); err != nil {
			return result{}, err
		}
	}
	res.detail += "; mirror " + cache.ProviderMirror(o.CacheDir)
	return res, nil
}

// The provider's build module travels inside the binary, under names a module zip keeps.
var (
	//go:embed provider/go.mod.txt
	providerGoMod string
	//go:embed provider/go.sum.txt
	providerGoSum string
)

// writeProviderModule writes the provider's build module into the cache dir (replacing an
// older one) and returns its directory.
func writeProviderModule(cacheDir string) (string, error) {
	dir := filepath.Join(cacheDir, "provider-build")
	for name, text := range map[string]string{"go.mod": providerGoMod, "go.sum": providerGoSum} {
		if err := writeFileAtomic(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return "", fmt.Errorf("write the provider build module: %w", err)
		}
	}
	return dir, nil
}

// providerCurrent reports whether the binary exists and the stamp records today's pin.
func providerCurrent(bin, stamp string) bool {
	st, err := os.Stat(bin)
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return false
	}
	b, err := os.ReadFile(stamp)
	return err == nil && string(b) == providerPin()
}

// goBuildProvider builds the provider module into dest, by way of a temporary file
// outside the mirror: a build killed half way leaves nothing Terraform would scan.
func goBuildProvider(ctx context.Context, modDir, cacheDir, dest string) error {
	return goBuild{
		what: "the docker provider", dir: modDir, pkg: providerOldPath, dest: dest,
		tmp:    filepath.Join(cacheDir, fmt.Sprintf(".provider-build-%d.tmp", os.Getpid())),
		log:    filepath.Join(cacheDir, "provider-build.log"),
		goflag: "-mod=readonly",
	}.run(ctx)
}

// linkFile makes dst a hard link of src (a real file: OpenTofu does not follow a symlinked
// directory in a mirror), replacing whatever dst was.
func linkFile(src, dst string) error {
	si, err := os.Stat(src)
	if err != nil {
		return err
	}
	if di, err := os.Stat(dst); err == nil && os.SameFile(si, di) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// writeFileAtomic writes data to a temporary file beside path and renames it over path.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// replacedVersion returns the version that a go.mod's replace directive for the provider's
// old path points at (cache.ProviderModule at some version).
func replacedVersion(gomod string) (string, error) {
	for _, line := range strings.Split(gomod, "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "replace"))
		// old [v] => new v
		for i, w := range f {
			if w == "=>" && i > 0 && f[0] == providerOldPath && len(f) == i+3 {
				if f[i+1] != cache.ProviderModule {
					return "", fmt.Errorf("%s is replaced by %s, want %s", providerOldPath, f[i+1], cache.ProviderModule)
				}
				return f[i+2], nil
			}
		}
	}
	return "", fmt.Errorf("no replace directive for %s", providerOldPath)
}
