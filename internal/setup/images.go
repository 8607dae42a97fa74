package setup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// BaseImage is the Debian root every other Debian-based image starts FROM.
const BaseImage = "dsenv/debian-base:bookworm"

type imageKind int

const (
	kindBase       imageKind = iota // debootstrap + docker import
	kindDockerfile                  // docker build of images/<dir> FROM the base
	kindGo                          // a static Go binary in a FROM scratch Dockerfile
)

// image is one image setup builds.
type image struct {
	Name string // step name
	Ref  string // name:tag
	kind imageKind
	dir  string // recipe directory in Options.Recipes: base, postgres, ...
	pkg  string // kindGo: the main package, relative to the module root: datastorage/cmd/<bin>
	bin  string // kindGo: the binary's file name in the build context
}

// dsenvModule is the module the reference DS images are built from.
const dsenvModule = "github.com/dsenv/dsenv"

func imageList() []image {
	return []image{
		{Name: "debian-base", Ref: BaseImage, kind: kindBase, dir: "base"},
		{Name: "postgres", Ref: "dsenv/postgres:15", kind: kindDockerfile, dir: "postgres"},
		{Name: "redis", Ref: "dsenv/redis:7", kind: kindDockerfile, dir: "redis"},
		{Name: "datastorage", Ref: "dsenv/datastorage:latest", kind: kindGo, dir: "datastorage", pkg: "datastorage/cmd/datastorage", bin: "datastorage"},
		{Name: "migrate", Ref: "dsenv/migrate:latest", kind: kindGo, dir: "migrate", pkg: "datastorage/cmd/dsmigrate", bin: "dsmigrate"},
		{Name: "authstandin", Ref: "dsenv/authstandin:latest", kind: kindGo, dir: "authstandin", pkg: "authstandin/cmd/authstandin", bin: "authstandin"},
	}
}

func (img image) build(ctx context.Context, o Options, r *runner) (result, error) {
	switch img.kind {
	case kindBase:
		return buildBase(ctx, img, o, r)
	case kindDockerfile:
		return img.buildDockerfile(ctx, o)
	default:
		return img.buildGo(ctx, o)
	}
}

// current compares the image's label with want and returns the id of the image it replaces.
func (img image) current(ctx context.Context, want string) (upToDate bool, oldID string, err error) {
	have, id, found, err := imageRecipe(ctx, img.Ref)
	if err != nil {
		return false, "", err
	}
	return found && have == want, id, nil
}

func (img image) buildDockerfile(ctx context.Context, o Options) (result, error) {
	_, baseID, found, err := imageRecipe(ctx, BaseImage)
	if err != nil {
		return result{}, err
	}
	if !found {
		return result{}, fmt.Errorf("%s needs %s, which is missing", img.Ref, BaseImage)
	}
	rc := newRecipe("dockerfile")
	rc.addString("from", baseID)
	if err := rc.addDir(o.Recipes, img.dir); err != nil {
		return result{}, fmt.Errorf("%s recipe: %w", img.Ref, err)
	}
	want := rc.sum()
	ok, oldID, err := img.current(ctx, want)
	if err != nil || ok {
		return result{detail: img.Ref + " up to date"}, err
	}
	bctx, err := os.MkdirTemp("", "dsenv-"+img.Name+"-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(bctx)
	if err := writeRecipe(o.Recipes, img.dir, bctx); err != nil {
		return result{}, err
	}
	if err := dockerBuild(ctx, img.Ref, want, filepath.Join(bctx, "Dockerfile"), bctx); err != nil {
		return result{}, err
	}
	return result{built: true, detail: img.Ref, replaced: oldID}, nil
}

// goSource says where the reference DS's main packages are built: in a checkout, or in a
// small module of the cache dir that requires dsenv at the version of this binary (the
// way `go run github.com/dsenv/dsenv/cmd/dsenv@<version> setup` runs outside a checkout).
func goSource(o Options, img image) (dir, pkg, goflags string, err error) {
	if o.RepoDir != "" {
		return o.RepoDir, "./" + img.pkg, "", nil
	}
	if o.ModuleVersion == "" {
		return "", "", "", errors.New("no dsenv checkout and no module version to build the reference DS from: run setup from the checkout, pass -repo DIR, or run `go run " + dsenvModule + "/cmd/dsenv@<version> setup`")
	}
	dir = filepath.Join(o.CacheDir, "dsbuild", o.ModuleVersion)
	gomod := fmt.Sprintf("// written by dsenv setup: builds the reference DS images from %s %s\nmodule dsenv.invalid/dsbuild\n\ngo %s\n\nrequire %s %s\n",
		dsenvModule, o.ModuleVersion, goLine(), dsenvModule, o.ModuleVersion)
	// Written once per version: go adds the module's requirements to it and its sums beside it.
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		if err := writeFileAtomic(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
			return "", "", "", err
		}
	}
	// -mod=mod: go resolves the module's own requirements and records their sums here.
	return dir, dsenvModule + "/" + img.pkg, "-mod=mod", nil
}

// goLine is the go directive of the build module: this toolchain's language version.
func goLine() string {
	v := strings.TrimPrefix(runtime.Version(), "go")
	if parts := strings.SplitN(v, ".", 3); len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

func (img image) buildGo(ctx context.Context, o Options) (result, error) {
	if _, err := fs.Stat(o.Recipes, path.Join(img.dir, "Dockerfile")); err != nil {
		return result{}, fmt.Errorf("%s recipe: %w", img.Ref, err)
	}
	dir, pkg, goflags, err := goSource(o, img)
	if err != nil {
		return result{}, err
	}
	if o.RepoDir != "" {
		// The recipes travel in the binary, so only a wrong -repo DIR can lack the source.
		if _, err := os.Stat(filepath.Join(o.RepoDir, filepath.FromSlash(img.pkg))); err != nil {
			return result{}, fmt.Errorf("%s: ./%s not found in %s: is it a dsenv checkout? (-repo DIR, or run setup outside a checkout to build from the module)", img.Ref, img.pkg, o.RepoDir)
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return result{}, fmt.Errorf("go not found on PATH: %s is built from source; install Go", img.Ref)
	}
	goEnv := append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS="+goflags)
	flags := []string{"-trimpath", "-buildvcs=false"}

	// The recipe hashes the binary's inputs by content, not by where they are: dsenv's own
	// source files, every other module by path@version, the Go version and the flags. So a
	// checkout and the module zip of the same code give the same label, and switching
	// between `make setup` and `go run .../cmd/dsenv@<version> setup` rebuilds nothing.
	rc := newRecipe("go-source")
	if err := addGoSources(ctx, rc, goBin, dir, pkg, goEnv); err != nil {
		return result{}, err
	}
	rc.addString("flags", strings.Join(flags, " ")+" CGO_ENABLED=0")
	if err := rc.addDir(o.Recipes, img.dir); err != nil { // the Dockerfile and anything beside it
		return result{}, err
	}
	want := rc.sum()
	ok, oldID, err := img.current(ctx, want)
	if err != nil || ok {
		return result{detail: img.Ref + " up to date"}, err
	}

	bctx, err := os.MkdirTemp("", "dsenv-"+img.bin+"-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(bctx)
	// Extra files beside the Dockerfile go into the context too, for any COPY of them.
	if err := writeRecipe(o.Recipes, img.dir, bctx); err != nil {
		return result{}, err
	}
	build := exec.CommandContext(ctx, goBin, append(append([]string{"build"}, flags...), "-o", filepath.Join(bctx, img.bin), pkg)...)
	build.Dir, build.Env = dir, goEnv
	if out, err := build.CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("go build %s: %v: %s", pkg, err, strings.ReplaceAll(tail(string(out), 8), "\n", " | "))
	}
	if err := dockerBuild(ctx, img.Ref, want, filepath.Join(bctx, "Dockerfile"), bctx); err != nil {
		return result{}, err
	}
	return result{built: true, detail: img.Ref, replaced: oldID}, nil
}

// goPackage is the part of `go list -json` addGoSources reads.
type goPackage struct {
	ImportPath string
	Standard   bool
	Dir        string
	GoFiles    []string
	SFiles     []string
	EmbedFiles []string
	Module     *goModule
	Error      *struct{ Err string }
}

type goModule struct {
	Path, Version string
	Replace       *goModule
}

// addGoSources records what the binary of pkg is built from: for each package it imports
// (standard ones by the Go version), the content of dsenv's (or a directory replacement's)
// Go, assembly and embedded files by import path, other modules by path@version.
func addGoSources(ctx context.Context, rc *recipe, goBin, dir, pkg string, env []string) error {
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			return nil, fmt.Errorf("go %s (in %s): %v: %s", strings.Join(args, " "), dir, err, strings.ReplaceAll(tail(stderr, 8), "\n", " | "))
		}
		return out, nil
	}
	goenv, err := run("env", "GOVERSION", "GOOS", "GOARCH")
	if err != nil {
		return err
	}
	rc.addString("go", strings.Join(strings.Fields(string(goenv)), " "))
	out, err := run("list", "-deps", "-json=ImportPath,Standard,Dir,GoFiles,SFiles,EmbedFiles,Module,Error", pkg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			return fmt.Errorf("go list %s: %w", pkg, err)
		}
		if p.Error != nil {
			return fmt.Errorf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		if p.Standard {
			continue
		}
		m := p.Module
		if m != nil && m.Replace != nil {
			m = m.Replace
		}
		if m != nil && m.Path != dsenvModule && m.Version != "" {
			rc.addString("pkg:"+p.ImportPath, m.Path+"@"+m.Version)
			continue
		}
		// dsenv itself (a checkout or the module zip), or a replacement by a directory.
		rc.addString("pkg:"+p.ImportPath, "source")
		for _, f := range append(append(append([]string{}, p.GoFiles...), p.SFiles...), p.EmbedFiles...) {
			if err := rc.addFile(os.DirFS(p.Dir), p.ImportPath+"/"+f, f); err != nil {
				return fmt.Errorf("hash %s: %w", filepath.Join(p.Dir, f), err)
			}
		}
	}
	return nil
}

// dockerBuild builds with the legacy builder (buildx is not installed), quietly: its
// deprecation notice and build log appear only when the build fails.
func dockerBuild(ctx context.Context, ref, recipe, dockerfile, contextDir string) error {
	cmd := exec.CommandContext(ctx, "docker", "build", "--quiet", "--force-rm",
		"--label", recipeLabel+"="+recipe, "-t", ref, "-f", dockerfile, contextDir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker build %s: %v: %s", ref, err, strings.ReplaceAll(tail(string(out), 10), "\n", " | "))
	}
	return nil
}

// removeReplaced removes the images that rebuilds replaced, newest first (an old base goes
// after the old images built FROM it), skipping any that a container still uses.
func removeReplaced(ids []string) {
	for i := len(ids) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, _ = docker(ctx, nil, "image", "rm", ids[i])
		cancel()
	}
}
