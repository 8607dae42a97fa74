package setup

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// goBuild is one `go build` of a tool setup installs (the docker provider, OpenTofu):
// what to build, where, and what to say when it fails.
type goBuild struct {
	what   string // for messages: "the docker provider"
	dir    string // where go build runs (the main module)
	pkg    string // package to build
	tmp    string // built here first, then renamed: a killed build leaves no half binary at dest
	dest   string
	log    string // full build output, kept for a failure's message
	goflag string // GOFLAGS
	ldflag string // added to -s -w (version stamps: -X pkg.var=value)
}

func (b goBuild) run(ctx context.Context) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("go not found on PATH: dsenv setup builds %s with Go >= 1.26; install Go", b.what)
	}
	if err := os.MkdirAll(filepath.Dir(b.dest), 0o755); err != nil {
		return err
	}
	defer os.Remove(b.tmp)
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags=-s -w"+b.ldflag, "-o", b.tmp, b.pkg)
	cmd.Dir = b.dir
	// GOWORK=off: the module stands alone. CGO is not needed and a fresh machine may have
	// no C compiler.
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS="+b.goflag)
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(b.log, out, 0o644)
	if err != nil {
		return fmt.Errorf("build %s (go build in %s; full log %s): %v: %s",
			b.what, b.dir, b.log, err, strings.ReplaceAll(tail(string(out), 5), "\n", " | "))
	}
	if err := os.Chmod(b.tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(b.tmp, b.dest); err != nil {
		return fmt.Errorf("install %s: %w", b.what, err)
	}
	return nil
}
