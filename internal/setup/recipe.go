package setup

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dsenv/dsenv/images"
)

// recipe hashes an image's recipe inputs into the value of its dsenv.recipe label. Every
// entry is length-prefixed, so no two different lists of inputs hash alike.
type recipe struct{ h hash.Hash }

func newRecipe(kind string) *recipe {
	r := &recipe{h: sha256.New()}
	r.add("kind", []byte(kind))
	return r
}

func (r *recipe) add(name string, data []byte) {
	var n [8]byte
	for _, b := range [][]byte{[]byte(name), data} {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		r.h.Write(n[:])
		r.h.Write(b)
	}
}

// addString records a named value (a parent image id, a package list).
func (r *recipe) addString(name, value string) { r.add(name, []byte(value)) }

// addFile records a file's content and whether it is executable (images.Executable: a
// module zip keeps no modes, so the name decides).
func (r *recipe) addFile(fsys fs.FS, name, path string) error {
	f, err := fsys.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fh := sha256.New()
	if _, err := io.Copy(fh, f); err != nil {
		return err
	}
	r.add("file:"+name, fmt.Appendf(fh.Sum(nil), " exec=%t", images.Executable(name)))
	return nil
}

// addDir records every regular file under dir of fsys by its path relative to dir, in a
// fixed order. Markdown files are documentation, not recipe: editing a README rebuilds nothing.
func (r *recipe) addDir(fsys fs.FS, dir string) error {
	files, err := recipeFiles(fsys, dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := r.addFile(fsys, f, path.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}

// recipeFiles lists the regular files under dir of fsys, relative to dir, sorted.
func recipeFiles(fsys fs.FS, dir string) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasSuffix(d.Name(), ".md") {
			files = append(files, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

// writeRecipe copies the recipe directory dir of fsys (all of it: a Dockerfile may COPY a
// README too) into dst, with the modes images.Executable gives: the build context.
func writeRecipe(fsys fs.FS, dir, dst string) error {
	return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		target := filepath.Join(dst, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if images.Executable(rel) {
			mode = 0o755
		}
		return os.WriteFile(target, b, mode)
	})
}

// sum is the label value: "sha256:" and the hex digest.
func (r *recipe) sum() string { return "sha256:" + hex.EncodeToString(r.h.Sum(nil)) }
