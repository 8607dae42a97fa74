package setup

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/images"
)

func TestLockMakesASecondSetupWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "setup.lock")
	var out bytes.Buffer
	r := &runner{out: &out}
	unlock, err := lock(context.Background(), path, r)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = lock(ctx, path, r)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "held by the first")
	assert.Contains(t, out.String(), "another dsenv setup is running")

	unlock()
	unlock2, err := lock(context.Background(), path, r)
	require.NoError(t, err, "free once the first lets go")
	unlock2()
}

func TestGoImageFailsWhenTheRepoLacksItsSource(t *testing.T) {
	repo := t.TempDir()
	var ds image
	for _, img := range imageList() {
		if img.Name == "datastorage" {
			ds = img
		}
	}
	res, err := ds.build(context.Background(), Options{RepoDir: repo, Recipes: images.FS}, &runner{out: &bytes.Buffer{}})
	require.Error(t, err)
	assert.False(t, res.built)
	assert.ErrorContains(t, err, "./datastorage/cmd/datastorage not found in "+repo+": is it a dsenv checkout?")
}

func TestGoImageOutsideACheckoutNeedsAModuleVersion(t *testing.T) {
	_, _, _, err := goSource(Options{CacheDir: t.TempDir()}, imageList()[3])
	assert.ErrorContains(t, err, "cmd/dsenv@<version> setup")

	cacheDir := t.TempDir()
	dir, pkg, flags, err := goSource(Options{CacheDir: cacheDir, ModuleVersion: "v1.2.3"}, imageList()[3])
	require.NoError(t, err)
	assert.Equal(t, "github.com/dsenv/dsenv/datastorage/cmd/datastorage", pkg)
	assert.Equal(t, "-mod=mod", flags)
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "require github.com/dsenv/dsenv v1.2.3")
}
