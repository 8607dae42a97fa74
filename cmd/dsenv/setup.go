package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/setup"
)

func init() {
	register("setup", "check prerequisites (installing what apt can), build the provider mirror and the images (cached)", runSetup)
}

const dsenvModule = "github.com/dsenv/dsenv"

func runSetup(ctx context.Context, args []string) error {
	fs := newFlagSet("setup", "[--with-tofu] [--with-kube] [--no-install] [--repo DIR] [--recipes DIR]")
	repo := fs.String("repo", "", "a dsenv checkout to build the reference DS images from (default: the current directory's module when it is dsenv, else the dsenv module at this binary's version)")
	recipes := fs.String("recipes", "", "build the images from the recipes in DIR (an images/ tree) instead of the ones built into dsenv")
	withTofu := fs.Bool("with-tofu", false, "also build OpenTofu "+cache.OpenTofuVersion+" from source into the cache (the test suite uses it)")
	withKube := fs.Bool("with-kube", false, "also build etcd and kube-apiserver from source and their images (the real Kubernetes API; first time about 5 min)")
	noInstall := fs.Bool("no-install", os.Getenv("DSENV_NO_INSTALL") == "1", "never install a missing tool (default as root with apt-get: install it); only say which command does (DSENV_NO_INSTALL=1)")
	if err := parse(fs, args); err != nil {
		return err
	}
	o := setup.Options{Out: os.Stdout, WithOpenTofu: *withTofu, WithKube: *withKube, NoInstall: *noInstall}
	var err error
	if o.RepoDir, o.ModuleVersion, err = dsSource(*repo); err != nil {
		return err
	}
	if *recipes != "" {
		if _, err := os.Stat(filepath.Join(*recipes, "base", "packages")); err != nil {
			return fmt.Errorf("-recipes %s: not an images/ tree (base/packages missing)", *recipes)
		}
		o.Recipes = os.DirFS(*recipes)
	}
	if o.CacheDir, err = cache.Dir(); err != nil {
		return err
	}
	return setup.Run(ctx, o)
}

// dsSource decides where the reference DS images are built from: -repo, else the checkout
// the current directory is in, else the dsenv module at this binary's own version (what
// `go run github.com/dsenv/dsenv/cmd/dsenv@<version> setup` gives it).
func dsSource(repo string) (repoDir, version string, err error) {
	if repo != "" {
		dir, err := filepath.Abs(repo)
		if err != nil {
			return "", "", err
		}
		if p, _ := modulePath(dir); p != dsenvModule {
			return "", "", fmt.Errorf("-repo %s: not a dsenv checkout (its go.mod does not declare module %s)", repo, dsenvModule)
		}
		return dir, "", nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	if root := moduleRoot(wd); root != "" {
		if p, _ := modulePath(root); p == dsenvModule {
			return root, "", nil
		}
	}
	bi, ok := debug.ReadBuildInfo()
	v := ""
	if ok && bi.Main.Path == dsenvModule {
		v = bi.Main.Version
	}
	switch {
	case v == "" || v == "(devel)":
		return "", "", errors.New("outside a dsenv checkout this dsenv binary cannot tell its module version: run `go run " + dsenvModule + "/cmd/dsenv@<version> setup`, or setup from the checkout (or pass -repo DIR)")
	case strings.Contains(v, "+"):
		return "", "", fmt.Errorf("this dsenv binary was built from a modified checkout (version %s), which the Go module proxy cannot serve: run setup from that checkout, or pass -repo DIR", v)
	}
	return "", v, nil
}

// moduleRoot returns the nearest directory at or above dir that holds a go.mod, or "".
func moduleRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// modulePath reads the module path of dir/go.mod.
func modulePath(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	return modfile.ModulePath(b), nil
}
