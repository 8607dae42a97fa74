package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
)

// buildOpenTofu builds the pinned OpenTofu into the cache's bin dir unless it is there with
// the same pin. Terraform cannot be built from the Go module proxy; OpenTofu can, and
// applies the same HCL, so the suites can prove both binaries work.
func buildOpenTofu(ctx context.Context, o Options, r *runner) (result, error) {
	dest := filepath.Join(cache.BinDir(o.CacheDir), "tofu")
	stamp := filepath.Join(o.CacheDir, "opentofu.stamp")
	pin := cache.OpenTofuModule + " " + cache.OpenTofuVersion + "\n"
	if b, err := os.ReadFile(stamp); err == nil && string(b) == pin {
		if st, err := os.Stat(dest); err == nil && st.Mode().IsRegular() {
			return result{detail: "OpenTofu " + cache.OpenTofuVersion + " (cached) at " + dest}, nil
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return result{}, errors.New("go not found on PATH: building OpenTofu needs Go >= 1.26")
	}
	r.notef("opentofu: building OpenTofu %s from the Go module proxy (about 3-4 min on 2 cores)", cache.OpenTofuVersion)
	t0 := time.Now()
	dl := exec.CommandContext(ctx, goBin, "mod", "download", "-json", cache.OpenTofuModule+"@"+cache.OpenTofuVersion)
	dl.Env = append(os.Environ(), "GOWORK=off")
	out, err := dl.Output()
	if err != nil {
		return result{}, fmt.Errorf("download %s@%s: %v", cache.OpenTofuModule, cache.OpenTofuVersion, err)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return result{}, fmt.Errorf("download %s@%s: %s", cache.OpenTofuModule, cache.OpenTofuVersion, strings.TrimSpace(mod.Error+" "+fmt.Sprint(err)))
	}
	err = goBuild{
		what: "OpenTofu", dir: mod.Dir, pkg: "./cmd/tofu", dest: dest,
		tmp: fmt.Sprintf("%s.%d.tmp", dest, os.Getpid()),
		log: filepath.Join(o.CacheDir, "opentofu-build.log"),
		// -mod=mod: the module cache is read-only, and the module's own go.sum is complete.
		goflag: "-mod=mod",
	}.run(ctx)
	if err != nil {
		return result{}, err
	}
	if err := writeFileAtomic(stamp, []byte(pin), 0o644); err != nil {
		return result{}, err
	}
	return result{built: true, detail: fmt.Sprintf("OpenTofu %s built in %.0fs at %s", cache.OpenTofuVersion, time.Since(t0).Seconds(), dest)}, nil
}
