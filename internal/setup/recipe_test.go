package setup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/images"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

func dirSum(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	r := newRecipe("test")
	for _, e := range extra {
		r.addString("extra", e)
	}
	require.NoError(t, r.addDir(os.DirFS(dir), "."))
	return r.sum()
}

func TestRecipeHashIsStableAndSeesEveryInput(t *testing.T) {
	files := map[string]string{"Dockerfile": "FROM x\n", "entrypoint.sh": "#!/bin/sh\n", "sub/a.conf": "a"}
	base := dirSum(t, writeTree(t, files))
	assert.Equal(t, base, dirSum(t, writeTree(t, files)), "same inputs, same hash")
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, base)

	changed := map[string]string{"Dockerfile": "FROM y\n", "entrypoint.sh": "#!/bin/sh\n", "sub/a.conf": "a"}
	assert.NotEqual(t, base, dirSum(t, writeTree(t, changed)), "content")

	renamed := map[string]string{"Dockerfile": "FROM x\n", "entrypoint.sh": "#!/bin/sh\n", "sub/b.conf": "a"}
	assert.NotEqual(t, base, dirSum(t, writeTree(t, renamed)), "file name")

	added := map[string]string{"Dockerfile": "FROM x\n", "entrypoint.sh": "#!/bin/sh\n", "sub/a.conf": "a", "b": ""}
	assert.NotEqual(t, base, dirSum(t, writeTree(t, added)), "new empty file")

	assert.NotEqual(t, base, dirSum(t, writeTree(t, files), "parent-id"), "parent image")

	documented := map[string]string{"Dockerfile": "FROM x\n", "entrypoint.sh": "#!/bin/sh\n", "sub/a.conf": "a", "README.md": "docs"}
	assert.Equal(t, base, dirSum(t, writeTree(t, documented)), "a README is not a recipe input")

	modes := writeTree(t, files)
	require.NoError(t, os.Chmod(filepath.Join(modes, "entrypoint.sh"), 0o755))
	assert.Equal(t, base, dirSum(t, modes), "modes come from the name (a module zip keeps none)")

	script := map[string]string{"Dockerfile": "FROM x\n", "entrypoint": "#!/bin/sh\n", "sub/a.conf": "a"}
	notScript := map[string]string{"Dockerfile": "FROM x\n", "entrypoint.sh": "#!/bin/sh\n", "sub/a.conf": "a"}
	assert.NotEqual(t, dirSum(t, writeTree(t, script)), dirSum(t, writeTree(t, notScript)), "exec bit (by name) and name")
}

// The checkout's recipes agree with the modes the embedded copy gets, and the embedded
// copy is the checkout's: an image built from either has the same recipe label.
func TestEmbeddedRecipesAreTheCheckoutsWithTheirModes(t *testing.T) {
	disk := os.DirFS(filepath.Join("..", "..", "images"))
	for _, img := range imageList() {
		files, err := recipeFiles(images.FS, img.dir)
		require.NoError(t, err)
		require.NotEmpty(t, files, img.dir)
		onDisk, err := recipeFiles(disk, img.dir)
		require.NoError(t, err)
		assert.Equal(t, onDisk, files, "%s: embedded and checkout list the same files", img.dir)
		for _, f := range files {
			st, err := os.Stat(filepath.Join("..", "..", "images", img.dir, f))
			require.NoError(t, err)
			assert.Equal(t, images.Executable(f), st.Mode()&0o111 != 0, "images/%s/%s: exec bit in git must match images.Executable", img.dir, f)
		}
		a, b := newRecipe("x"), newRecipe("x")
		require.NoError(t, a.addDir(images.FS, img.dir))
		require.NoError(t, b.addDir(disk, img.dir))
		assert.Equal(t, b.sum(), a.sum(), img.dir)
	}
	out := t.TempDir()
	require.NoError(t, writeRecipe(images.FS, "redis", out))
	st, err := os.Stat(filepath.Join(out, "docker-entrypoint.sh"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), st.Mode().Perm(), "the build context's entrypoint is executable")
}

func TestRecipeEntriesDoNotRunTogether(t *testing.T) {
	a, b := newRecipe("k"), newRecipe("k")
	a.addString("x", "ab")
	a.addString("y", "c")
	b.addString("x", "a")
	b.addString("y", "bc")
	assert.NotEqual(t, a.sum(), b.sum())
}
