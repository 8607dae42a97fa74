package setup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/images"
)

func TestStripRootRemovesGlobsInsideTheRootOnly(t *testing.T) {
	root := writeTree(t, map[string]string{
		"usr/share/doc/a/copyright": "x",
		"usr/share/man/man1/b.1":    "x",
		"usr/bin/keep":              "x",
	})
	require.NoError(t, stripRoot(root, []string{"usr/share/doc/*", "usr/share/man/*", "var/none/*"}))
	assert.NoDirExists(t, filepath.Join(root, "usr/share/doc/a"))
	assert.DirExists(t, filepath.Join(root, "usr/share/doc"))
	assert.NoDirExists(t, filepath.Join(root, "usr/share/man/man1"))
	assert.FileExists(t, filepath.Join(root, "usr/bin/keep"))

	assert.Error(t, stripRoot(root, []string{"../x"}))
	assert.Error(t, stripRoot(root, []string{"/etc"}))
}

func TestRepoStripAndPackageListsParse(t *testing.T) {
	pkgs, err := readList(images.FS, "base/packages")
	require.NoError(t, err)
	assert.Contains(t, pkgs, "postgresql-15")
	assert.Contains(t, pkgs, "redis-server")
	strip, err := readList(images.FS, "base/strip")
	require.NoError(t, err)
	root := t.TempDir()
	require.NoError(t, stripRoot(root, strip), "every strip line is a valid relative glob")
}

func TestUnescapeMount(t *testing.T) {
	assert.Equal(t, "/a b/c", unescapeMount(`/a\040b/c`))
	assert.Equal(t, "/plain", unescapeMount("/plain"))
}

func TestRemoveRootOfMissingDir(t *testing.T) {
	assert.NoError(t, removeRoot(filepath.Join(t.TempDir(), "nope")))
	d := filepath.Join(t.TempDir(), "r")
	require.NoError(t, os.MkdirAll(filepath.Join(d, "x"), 0o755))
	assert.NoError(t, removeRoot(d))
	assert.NoDirExists(t, d)
}
