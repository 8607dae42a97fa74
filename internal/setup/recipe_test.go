package setup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, r.addDir(dir))
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

	exec := writeTree(t, files)
	require.NoError(t, os.Chmod(filepath.Join(exec, "entrypoint.sh"), 0o755))
	assert.NotEqual(t, base, dirSum(t, exec), "exec bit")
}

func TestRecipeEntriesDoNotRunTogether(t *testing.T) {
	a, b := newRecipe("k"), newRecipe("k")
	a.addString("x", "ab")
	a.addString("y", "c")
	b.addString("x", "a")
	b.addString("y", "bc")
	assert.NotEqual(t, a.sum(), b.sum())
}
