package setup

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecideInstallsWhatAptCanAsRootAndOtherwiseNamesTheCommand(t *testing.T) {
	deb := tool{cmd: "debootstrap", pkg: "debootstrap", why: "builds the base image"}
	tarT := tool{cmd: "tar", pkg: "tar", why: "streams the root"}
	goT := tool{cmd: "go", why: "builds the provider", hint: "install Go"}

	pkgs, err := decide(host{})
	assert.NoError(t, err)
	assert.Empty(t, pkgs, "nothing missing, nothing to do")

	pkgs, err = decide(host{missing: []tool{deb, tarT}, root: true, apt: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"debootstrap", "tar"}, pkgs, "root with apt installs")

	for name, tc := range map[string]struct {
		h    host
		want string
	}{
		"not root":   {host{missing: []tool{deb}, apt: true}, "debootstrap (builds the base image) not found on PATH (setup installs it itself only as root): run `sudo apt-get install -y debootstrap`"},
		"no-install": {host{missing: []tool{deb}, apt: true, root: true, noInstall: true}, "debootstrap (builds the base image) not found on PATH: run `apt-get install -y debootstrap`"},
		"no apt":     {host{missing: []tool{deb}, root: true}, "debootstrap (builds the base image) not found on PATH: install debootstrap with the system's package manager"},
		"no package": {host{missing: []tool{goT}, root: true, apt: true}, "go not found on PATH (builds the provider): install Go"},
		"both, root": {host{missing: []tool{goT, deb}, root: true, apt: true}, "go not found on PATH (builds the provider): install Go; debootstrap (builds the base image) not found on PATH: run `apt-get install -y debootstrap`"},
	} {
		t.Run(name, func(t *testing.T) {
			pkgs, err := decide(tc.h)
			assert.Empty(t, pkgs, "nothing is installed when anything cannot be")
			assert.EqualError(t, err, tc.want)
		})
	}
}
