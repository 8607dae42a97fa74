package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/setup"
)

func init() {
	register("setup", "check Docker and Terraform, build the provider mirror and the images (cached)", runSetup)
}

func runSetup(ctx context.Context, args []string) error {
	fs := newFlagSet("setup", "[--with-tofu] [--with-kube]")
	repo := fs.String("repo", ".", "the dsenv checkout (holds images/ and tools/provider/)")
	withTofu := fs.Bool("with-tofu", false, "also build OpenTofu "+cache.OpenTofuVersion+" from source into the cache (the test suite uses it)")
	withKube := fs.Bool("with-kube", false, "also build etcd and kube-apiserver from source and their images (the real Kubernetes API; first time about 5 min)")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, err := filepath.Abs(*repo)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "tools", "provider", "go.mod")); err != nil {
		return &prereqError{err: errors.New("tools/provider/go.mod not found"), fix: "run from the dsenv checkout (or pass -repo DIR)"}
	}
	cacheDir, err := cache.Dir()
	if err != nil {
		return err
	}
	return setup.Run(ctx, setup.Options{RepoDir: dir, CacheDir: cacheDir, Out: os.Stdout, WithOpenTofu: *withTofu, WithKube: *withKube})
}
