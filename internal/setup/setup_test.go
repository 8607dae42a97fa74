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

func TestGoImageIsSkippedWhileItsSourceIsMissing(t *testing.T) {
	repo := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "images", "datastorage"), 0o755))
	var ds image
	for _, img := range images(repo) {
		if img.Name == "datastorage" {
			ds = img
		}
	}
	res, err := ds.build(context.Background(), Options{RepoDir: repo}, &runner{out: &bytes.Buffer{}})
	require.NoError(t, err)
	assert.False(t, res.built)
	assert.Contains(t, res.detail, "skipped: ./datastorage/cmd/datastorage does not exist yet")
}
