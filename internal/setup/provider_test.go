package setup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/internal/cache"
)

func TestProviderGoModBuildsThePinnedVersion(t *testing.T) {
	v, err := replacedVersion(providerGoMod)
	require.NoError(t, err)
	assert.Equal(t, cache.ProviderModuleVersion, v, "provider/go.mod.txt and internal/cache must pin the same provider")
	assert.Contains(t, providerGoSum, cache.ProviderModule+" "+cache.ProviderModuleVersion+" h1:", "go.sum.txt has the provider's sum")

	dir, err := writeProviderModule(t.TempDir())
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.Equal(t, providerGoMod, string(b))
}

func TestReplacedVersion(t *testing.T) {
	for name, tc := range map[string]struct {
		gomod, want, err string
	}{
		"single line": {gomod: "module m\nreplace github.com/terraform-providers/terraform-provider-docker => github.com/kreuzwerker/terraform-provider-docker v1.2.3\n", want: "v1.2.3"},
		"block":       {gomod: "replace (\n\tgithub.com/terraform-providers/terraform-provider-docker v0.0.0 => github.com/kreuzwerker/terraform-provider-docker v9.9.9\n)\n", want: "v9.9.9"},
		"wrong fork":  {gomod: "replace github.com/terraform-providers/terraform-provider-docker => github.com/someone/fork v1.0.0\n", err: "want github.com/kreuzwerker"},
		"missing":     {gomod: "module m\n", err: "no replace directive"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := replacedVersion(tc.gomod)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestProviderCurrentNeedsBinaryAndSamePin(t *testing.T) {
	dir := t.TempDir()
	bin, stamp := filepath.Join(dir, "bin"), filepath.Join(dir, "stamp")
	assert.False(t, providerCurrent(bin, stamp), "nothing there")
	require.NoError(t, os.WriteFile(bin, []byte("x"), 0o755))
	assert.False(t, providerCurrent(bin, stamp), "no stamp")
	require.NoError(t, os.WriteFile(stamp, []byte("other pin\n"), 0o644))
	assert.False(t, providerCurrent(bin, stamp), "stamp of another pin")
	require.NoError(t, os.WriteFile(stamp, []byte(providerPin()), 0o644))
	assert.True(t, providerCurrent(bin, stamp))
}

func TestLinkFileMakesAHardLink(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a", "f")
	dst := filepath.Join(dir, "b", "c", "f")
	require.NoError(t, os.MkdirAll(filepath.Dir(src), 0o755))
	require.NoError(t, os.WriteFile(src, []byte("x"), 0o755))
	require.NoError(t, linkFile(src, dst))
	require.NoError(t, linkFile(src, dst), "idempotent")
	si, _ := os.Stat(src)
	di, err := os.Lstat(dst)
	require.NoError(t, err)
	assert.True(t, os.SameFile(si, di))
	assert.True(t, di.Mode().IsRegular())
}
