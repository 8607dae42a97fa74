package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dsenv/dsenv/internal/persistent"
	"github.com/dsenv/dsenv/internal/tfbin"
)

func init() {
	register("up", "bring up the persistent local environment (terraform/env, applied in place)", runUp)
}

// envDirFlag adds --dir (the root module applied in place) to fs.
func envDirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", "", "root module directory (default: terraform/env of the enclosing dsenv checkout)")
}

// persistentDir resolves --dir, or finds terraform/env above the working directory.
func persistentDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, "terraform", "env")
		if _, err := os.Stat(filepath.Join(candidate, "main.tf")); err == nil {
			return candidate, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("terraform/env not found above the working directory: run from the dsenv checkout or pass --dir")
		}
	}
}

func runUp(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := envDirFlag(fs)
	name := fs.String("name", "dsenv-local", "environment id (name_prefix) used when the variables file is first written")
	bin := fs.String("binary", "", "terraform or tofu (default $DSENV_TF_BINARY, else terraform)")
	dsImage := fs.String("datastorage-image", "", "DS image for this up, e.g. the real DS (default: the reference dsenv/datastorage:latest); needs --migrations-dir unless it is the reference DS")
	migrations := fs.String("migrations-dir", "", "host directory of that DS's own goose migrations (default: the reference schema)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := persistentDir(*dir)
	if err != nil {
		return err
	}
	b, err := binaryFlag(*bin)
	if err != nil {
		return err
	}
	p := &persistent.Persistent{Dir: d, Name: *name, Binary: b, Output: os.Stderr,
		DataStorageImage: *dsImage, MigrationsDir: *migrations}
	_, statErr := os.Stat(p.VarsFile())
	outputs, err := p.Up(ctx)
	if err != nil {
		return err
	}
	rel := relPath(d)
	if os.IsNotExist(statErr) {
		fmt.Printf("\nCredentials generated into %s (git-ignored, mode 0600).\n", filepath.Join(rel, persistent.VarsFileName))
	}
	fmt.Printf("\nEnvironment is up. Outputs (secrets hidden):\n")
	names := make([]string, 0, len(outputs))
	for n := range outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := outputs[n]
		if m.Sensitive {
			fmt.Printf("  %-26s (sensitive: terraform -chdir=%s output -raw %s)\n", n, rel, n)
			continue
		}
		fmt.Printf("  %-26s %s\n", n, compactJSON(m.Value))
	}
	fmt.Printf("\nReveal all: terraform -chdir=%s output -json\nRemove:     make down\n", rel)
	return nil
}

func binaryFlag(v string) (tfbin.Binary, error) {
	if v == "" {
		return tfbin.FromEnv()
	}
	switch b := tfbin.Binary(v); b {
	case tfbin.Terraform, tfbin.OpenTofu:
		return b, nil
	}
	return "", fmt.Errorf("--binary %q: want terraform or tofu", v)
}

func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

func compactJSON(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}
