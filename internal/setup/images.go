package setup

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
	dir  string // recipe directory, images/<x>
	pkg  string // kindGo: the main package, ./cmd/<bin>
	bin  string // kindGo: the binary's file name in the build context
}

func images(repo string) []image {
	d := func(x string) string { return filepath.Join(repo, "images", x) }
	return []image{
		{Name: "debian-base", Ref: BaseImage, kind: kindBase, dir: d("base")},
		{Name: "postgres", Ref: "dsenv/postgres:15", kind: kindDockerfile, dir: d("postgres")},
		{Name: "redis", Ref: "dsenv/redis:7", kind: kindDockerfile, dir: d("redis")},
		{Name: "datastorage", Ref: "dsenv/datastorage:latest", kind: kindGo, dir: d("datastorage"), pkg: "./datastorage/cmd/datastorage", bin: "datastorage"},
		{Name: "migrate", Ref: "dsenv/migrate:latest", kind: kindGo, dir: d("migrate"), pkg: "./datastorage/cmd/dsmigrate", bin: "dsmigrate"},
		{Name: "authstandin", Ref: "dsenv/authstandin:latest", kind: kindGo, dir: d("authstandin"), pkg: "./authstandin/cmd/authstandin", bin: "authstandin"},
	}
}

func (img image) build(ctx context.Context, o Options, r *runner) (result, error) {
	switch img.kind {
	case kindBase:
		return buildBase(ctx, img, o, r)
	case kindDockerfile:
		return img.buildDockerfile(ctx)
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

func (img image) buildDockerfile(ctx context.Context) (result, error) {
	_, baseID, found, err := imageRecipe(ctx, BaseImage)
	if err != nil {
		return result{}, err
	}
	if !found {
		return result{}, fmt.Errorf("%s needs %s, which is missing", img.Ref, BaseImage)
	}
	rc := newRecipe("dockerfile")
	rc.addString("from", baseID)
	if err := rc.addDir(img.dir); err != nil {
		return result{}, fmt.Errorf("%s recipe: %w", img.Ref, err)
	}
	want := rc.sum()
	ok, oldID, err := img.current(ctx, want)
	if err != nil || ok {
		return result{detail: img.Ref + " up to date"}, err
	}
	if err := dockerBuild(ctx, img.Ref, want, filepath.Join(img.dir, "Dockerfile"), img.dir); err != nil {
		return result{}, err
	}
	return result{built: true, detail: img.Ref, replaced: oldID}, nil
}

func (img image) buildGo(ctx context.Context, o Options) (result, error) {
	src := filepath.Join(o.RepoDir, filepath.FromSlash(strings.TrimPrefix(img.pkg, "./")))
	if _, err := os.Stat(src); err != nil {
		return result{detail: fmt.Sprintf("skipped: %s does not exist yet (the DS source is missing)", img.pkg)}, nil
	}
	if _, err := os.Stat(filepath.Join(img.dir, "Dockerfile")); err != nil {
		return result{detail: fmt.Sprintf("skipped: %s does not exist yet", filepath.Join("images", filepath.Base(img.dir), "Dockerfile"))}, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return result{}, fmt.Errorf("go not found on PATH: %s is built from source; install Go >= 1.26", img.Ref)
	}
	goEnv := append(os.Environ(), "CGO_ENABLED=0")
	flags := []string{"-trimpath", "-buildvcs=false"}

	// The main package's build ID hashes every input of the binary (sources of all its
	// dependencies, Go version, flags) and costs a cached compile, not a link: an image
	// that is up to date is found without building anything.
	list := exec.CommandContext(ctx, goBin, append(append([]string{"list"}, flags...), "-export", "-f", "{{.BuildID}}", img.pkg)...)
	list.Dir, list.Env = o.RepoDir, goEnv
	buildID, err := list.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return result{}, fmt.Errorf("go list %s: %v: %s", img.pkg, err, strings.ReplaceAll(tail(stderr, 8), "\n", " | "))
	}
	rc := newRecipe("go")
	rc.addString("buildid", strings.TrimSpace(string(buildID)))
	rc.addString("flags", strings.Join(flags, " ")+" CGO_ENABLED=0")
	if err := rc.addDir(img.dir); err != nil { // the Dockerfile and anything beside it
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
	if err := copyDir(img.dir, bctx); err != nil {
		return result{}, err
	}
	build := exec.CommandContext(ctx, goBin, append(append([]string{"build"}, flags...), "-o", filepath.Join(bctx, img.bin), img.pkg)...)
	build.Dir, build.Env = o.RepoDir, goEnv
	if out, err := build.CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("go build %s: %v: %s", img.pkg, err, strings.ReplaceAll(tail(string(out), 8), "\n", " | "))
	}
	if err := dockerBuild(ctx, img.Ref, want, filepath.Join(img.dir, "Dockerfile"), bctx); err != nil {
		return result{}, err
	}
	return result{built: true, detail: img.Ref, replaced: oldID}, nil
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

// copyDir copies the regular files directly in src into dst, keeping their modes.
func copyDir(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
