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
	"path/filepath"
	"sort"
	"strings"
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

// addFile records a file's content and whether it is executable.
func (r *recipe) addFile(name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	fh := sha256.New()
	if _, err := io.Copy(fh, f); err != nil {
		return err
	}
	r.add("file:"+filepath.ToSlash(name), fmt.Appendf(fh.Sum(nil), " exec=%t", st.Mode()&0o111 != 0))
	return nil
}

// addDir records every regular file under dir by its path relative to dir, in a fixed
// order. Markdown files are documentation, not recipe: editing a README rebuilds nothing.
func (r *recipe) addDir(dir string) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasSuffix(d.Name(), ".md") {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		if err := r.addFile(f, filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}

// sum is the label value: "sha256:" and the hex digest.
func (r *recipe) sum() string { return "sha256:" + hex.EncodeToString(r.h.Sum(nil)) }
