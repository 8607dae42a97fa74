package setup

import (
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
)

// The embedded build modules must build what the constants say: a version bump that edits
// one and not the other would cache a binary under the wrong version.
func TestKubeBuildModulesPinTheirVersions(t *testing.T) {
	for _, k := range kubeBinaries() {
		t.Run(k.name, func(t *testing.T) {
			b, err := kubeModules.ReadFile(path.Join(k.module, "go.mod.txt"))
			require.NoError(t, err)
			f, err := modfile.Parse("go.mod.txt", b, nil)
			require.NoError(t, err)
			require.Len(t, f.Tool, 1)
			assert.Equal(t, k.pkg, f.Tool[0].Path, "the tool the module declares is what setup builds")

			root := map[string]string{"etcd": "go.etcd.io/etcd/server/v3", "kube-apiserver": "k8s.io/kubernetes"}[k.name]
			var have string
			for _, r := range f.Require {
				if r.Mod.Path == root {
					have = r.Mod.Version
				}
			}
			assert.Equal(t, k.version, have, "%s required at the pinned version", root)

			if k.name == "kube-apiserver" {
				assert.GreaterOrEqual(t, len(f.Replace), 31, "every staging module pinned")
				for _, r := range f.Replace {
					assert.True(t, strings.HasPrefix(r.Old.Path, "k8s.io/"), r.Old.Path)
					assert.Equal(t, r.Old.Path, r.New.Path, "a staging module is pinned, not swapped")
					assert.Equal(t, kubeStagingVersion, r.New.Version, r.Old.Path)
				}
				assert.Contains(t, k.ldflag, "k8s.io/component-base/version.gitVersion="+k.version, "/version reports the pinned version")
				assert.Contains(t, k.ldflag, "gitMinor="+strings.Split(k.version, ".")[1])
			}
		})
	}
}

func TestKubeBinariesAreCachedPerVersion(t *testing.T) {
	e := etcdBinary()
	assert.Equal(t, "/c/kube/etcd-"+etcdVersion+"/etcd", e.binary("/c"))
	p1, err := e.pin()
	require.NoError(t, err)
	e.ldflag += " -X other=1"
	p2, err := e.pin()
	require.NoError(t, err)
	assert.NotEqual(t, p1, p2, "a change of build flags is a new pin: the binary is rebuilt")
}
