package setup

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"
)

// kubeModules holds the build modules of the Kubernetes control-plane binaries, as
// go.mod.txt and go.sum.txt (a file named go.mod would make its directory a nested module
// of this repository). Setup writes them into the cache as go.mod and go.sum and builds there.
//
//go:embed kube/etcd/go.mod.txt kube/etcd/go.sum.txt kube/apiserver/go.mod.txt kube/apiserver/go.sum.txt
var kubeModules embed.FS

// kubeBinary is one control-plane binary that `dsenv setup --with-kube` builds from the Go
// module proxy, caches by version, and puts into a FROM scratch image.
type kubeBinary struct {
	name    string // step, file and recipe-directory name (images/<name>)
	version string
	module  string // directory in kubeModules: kube/etcd
	pkg     string // the tool the build module declares
	ldflag  string // beyond -s -w: " -X pkg.var=value ..."
	ref     string // image name:tag
	first   string // how long the first build takes on 2 cores, for the note before it
}

// kubeBinaries are built only with Options.WithKube: most users never need them, and
// together they cost about 5 minutes and 3 GB of memory the first time.
func kubeBinaries() []kubeBinary { return []kubeBinary{etcdBinary(), kubeAPIServerBinary()} }

// dir is where the binary, its stamp and its build module live in the cache: one directory
// per version, so a pin change builds afresh beside the old one.
func (k kubeBinary) dir(cacheDir string) string {
	return filepath.Join(cacheDir, "kube", k.name+"-"+k.version)
}

func (k kubeBinary) binary(cacheDir string) string { return filepath.Join(k.dir(cacheDir), k.name) }

// pin is what the stamp records: everything the build depends on beyond the Go toolchain.
func (k kubeBinary) pin() (string, error) {
	h := sha256.New()
	for _, f := range []string{"go.mod.txt", "go.sum.txt"} {
		b, err := kubeModules.ReadFile(path.Join(k.module, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "pkg %s\nldflags -s -w%s\n", k.pkg, k.ldflag)
	return fmt.Sprintf("%s %s %s\n", k.pkg, k.version, hex.EncodeToString(h.Sum(nil))), nil
}

// build builds the binary unless the cache has it with the same pin, then the image unless
// its recipe (the binary's content and the recipe directory <name>) matches the label of the one there.
func (k kubeBinary) build(ctx context.Context, o Options, r *runner) (result, error) {
	pin, err := k.pin()
	if err != nil {
		return result{}, err
	}
	bin := k.binary(o.CacheDir)
	stamp := bin + ".stamp"
	res := result{detail: fmt.Sprintf("%s %s (cached)", k.name, k.version)}
	if b, err := os.ReadFile(stamp); err != nil || string(b) != pin || !regularFile(bin) {
		r.notef("%s: building %s %s from the Go module proxy (the first time takes %s on 2 cores)", k.name, k.name, k.version, k.first)
		t0 := time.Now()
		if err := k.goBuild(ctx, o.CacheDir); err != nil {
			return result{}, err
		}
		if err := writeFileAtomic(stamp, []byte(pin), 0o644); err != nil {
			return result{}, err
		}
		res = result{built: true, detail: fmt.Sprintf("%s %s built in %.0fs", k.name, k.version, time.Since(t0).Seconds())}
	}

	img := image{Name: k.name, Ref: k.ref, dir: k.name, bin: k.name}
	rc := newRecipe("binary")
	sum, err := fileSum(bin)
	if err != nil {
		return result{}, err
	}
	rc.addString("binary", sum)
	if err := rc.addDir(o.Recipes, img.dir); err != nil {
		return result{}, fmt.Errorf("%s recipe: %w", k.ref, err)
	}
	want := rc.sum()
	ok, oldID, err := img.current(ctx, want)
	if err != nil {
		return result{}, err
	}
	if ok {
		res.detail += "; " + k.ref + " up to date"
		return res, nil
	}
	bctx, err := os.MkdirTemp("", "dsenv-"+k.name+"-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(bctx)
	if err := writeRecipe(o.Recipes, img.dir, bctx); err != nil {
		return result{}, err
	}
	if err := linkOrCopy(bin, filepath.Join(bctx, k.name)); err != nil {
		return result{}, err
	}
	if err := dockerBuild(ctx, k.ref, want, filepath.Join(bctx, "Dockerfile"), bctx); err != nil {
		return result{}, err
	}
	res.built, res.replaced = true, oldID
	res.detail += "; " + k.ref
	return res, nil
}

// goBuild writes the build module into the cache and builds the tool it declares.
func (k kubeBinary) goBuild(ctx context.Context, cacheDir string) error {
	mod := filepath.Join(k.dir(cacheDir), "build")
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := kubeModules.ReadFile(path.Join(k.module, f+".txt"))
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(mod, f), b, 0o644); err != nil {
			return err
		}
	}
	return goBuild{
		what: k.name + " " + k.version, dir: mod, pkg: k.pkg, dest: k.binary(cacheDir),
		tmp:    filepath.Join(k.dir(cacheDir), fmt.Sprintf(".%s-build-%d.tmp", k.name, os.Getpid())),
		log:    filepath.Join(k.dir(cacheDir), "build.log"),
		goflag: "-mod=readonly", ldflag: k.ldflag,
	}.run(ctx)
}

func regularFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Size() > 0
}

// fileSum is the hex sha256 of a file's content.
func fileSum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// linkOrCopy puts src at dst (mode 0755), by a hard link when both are on one filesystem.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
