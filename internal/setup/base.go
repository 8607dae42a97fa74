package setup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

const (
	debianSuite   = "bookworm"
	debootVariant = "minbase"
)

// baseChanges are the image settings docker import applies to the rootfs.
var baseChanges = []string{
	"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"ENV LANG=C.UTF-8",
	`CMD ["bash"]`,
}

// buildBase makes dsenv/debian-base:bookworm: debootstrap minbase with the packages in
// images/base/packages from the machine's own Debian mirror, the paths in images/base/strip
// removed, then `tar | docker import`.
func buildBase(ctx context.Context, img image, o Options, r *runner) (result, error) {
	pkgs, strip, want, err := baseRecipe(o.Recipes, img)
	if err != nil {
		return result{}, err
	}
	ok, oldID, err := img.current(ctx, want)
	if err != nil || ok {
		return result{detail: img.Ref + " up to date"}, err
	}

	if _, err := exec.LookPath("debootstrap"); err != nil {
		return result{}, errNoDebootstrap
	}
	if os.Geteuid() != 0 {
		return result{}, errors.New("building the base image runs debootstrap, which needs root: run `sudo -E make setup` once")
	}
	src, err := debianMirror(debianSuite)
	if err != nil {
		return result{}, err
	}
	work := filepath.Join(o.CacheDir, "rootfs")
	root := filepath.Join(work, debianSuite)
	if err := removeRoot(root); err != nil {
		return result{}, err
	}
	defer removeRoot(root) //nolint:errcheck // best effort; the next run retries
	if err := os.MkdirAll(work, 0o755); err != nil {
		return result{}, err
	}

	r.notef("debian-base: debootstrap %s %s from the machine's apt mirror (about 1 min)", debootVariant, debianSuite)
	args := []string{"--variant=" + debootVariant, "--include=" + strings.Join(pkgs, ",")}
	if src.Keyring != "" {
		args = append(args, "--keyring="+src.Keyring)
	}
	args = append(args, debianSuite, root, src.URI)
	logPath := filepath.Join(work, "debootstrap.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return result{}, err
	}
	cmd := exec.CommandContext(ctx, "debootstrap", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	logf.Close()
	if err != nil {
		b, _ := os.ReadFile(logPath)
		return result{}, fmt.Errorf("debootstrap (log %s): %v: %s", logPath, err, strings.ReplaceAll(tail(string(b), 5), "\n", " | "))
	}

	if err := stripRoot(root, strip); err != nil {
		return result{}, err
	}
	if err := dockerImport(ctx, root, img.Ref, want); err != nil {
		return result{}, err
	}
	return result{built: true, detail: img.Ref, replaced: oldID}, nil
}

// baseRecipe reads the base image's package and strip lists and hashes its recipe.
func baseRecipe(fsys fs.FS, img image) (pkgs, strip []string, want string, err error) {
	if pkgs, err = readList(fsys, path.Join(img.dir, "packages")); err != nil {
		return nil, nil, "", err
	}
	if strip, err = readList(fsys, path.Join(img.dir, "strip")); err != nil {
		return nil, nil, "", err
	}
	rc := newRecipe("debootstrap")
	rc.addString("suite", debianSuite)
	rc.addString("variant", debootVariant)
	rc.addString("include", strings.Join(pkgs, ","))
	rc.addString("changes", strings.Join(baseChanges, "\n"))
	if err := rc.addDir(fsys, img.dir); err != nil {
		return nil, nil, "", err
	}
	return pkgs, strip, rc.sum(), nil
}

// readList reads a file of one item per line; # starts a comment.
func readList(fsys fs.FS, name string) ([]string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}

// stripRoot removes the paths matching each glob (relative to root) from the rootfs.
func stripRoot(root string, globs []string) error {
	for _, g := range globs {
		if filepath.IsAbs(g) || strings.Contains(g, "..") {
			return fmt.Errorf("images/base/strip: %q must be a relative path inside the root", g)
		}
		matches, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			return fmt.Errorf("images/base/strip: %q: %w", g, err)
		}
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// dockerImport streams the rootfs as a tar archive into `docker import` with the recipe label.
func dockerImport(ctx context.Context, root, ref, recipe string) error {
	tarCmd := exec.CommandContext(ctx, "tar", "-C", root, "--numeric-owner", "-c", ".")
	args := []string{"import", "--change", "LABEL " + recipeLabel + "=" + recipe}
	for _, c := range baseChanges {
		args = append(args, "--change", c)
	}
	args = append(args, "-", ref)
	pr, pw := io.Pipe()
	tarCmd.Stdout = pw
	var tarErr strings.Builder
	tarCmd.Stderr = &tarErr
	if err := tarCmd.Start(); err != nil {
		return fmt.Errorf("tar rootfs: %w", err)
	}
	go func() { pw.CloseWithError(tarCmd.Wait()) }()
	_, err := docker(ctx, pr, args...)
	pr.Close()
	if err != nil {
		return fmt.Errorf("import %s: %w (tar: %s)", ref, err, strings.TrimSpace(tarErr.String()))
	}
	return nil
}

// removeRoot deletes a debootstrap root, first detaching anything still mounted inside it
// (an interrupted debootstrap can leave /proc or /sys mounted there), so that removal never
// reaches into the host's filesystems.
func removeRoot(root string) error {
	if _, err := os.Lstat(root); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	mounts, err := mountsUnder(root)
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s left by an earlier debootstrap: %w", m, err)
		}
	}
	if again, _ := mountsUnder(root); len(again) > 0 {
		return fmt.Errorf("%s still has mounts inside (%s); unmount them and run setup again", root, again[0])
	}
	return os.RemoveAll(root)
}

// mountsUnder lists mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil, nil // not Linux-like: nothing we can check
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		mp := unescapeMount(f[1])
		if mp == abs || strings.HasPrefix(mp, abs+"/") {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

// unescapeMount undoes the octal escapes (\040 for a space) of /proc/self/mounts.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
