package setup

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseDeb822SourcesPicksTheSuitesBinaryArchive(t *testing.T) {
	text := `Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`
	got := parseDeb822Sources(text, "bookworm")
	assert.Equal(t, []aptSource{{URI: "http://mirror.example/debian", Keyring: "/usr/share/keyrings/debian-archive-keyring.gpg"}}, got)
}

func TestParseDeb822SourcesSkipsDisabledSourceOnlyAndOtherSuites(t *testing.T) {
	text := `Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
URIs: http://off.example/debian
Suites: bookworm
Enabled: no

Types: deb
URIs: http://trixie.example/debian
Suites: trixie

Types: deb deb-src
URIs: cdrom:/media/ https://on.example/debian
Suites:
 bookworm
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 -----END PGP PUBLIC KEY BLOCK-----
`
	got := parseDeb822Sources(text, "bookworm")
	assert.Equal(t, []aptSource{{URI: "https://on.example/debian"}}, got, "inline keys are not a keyring file")
}

func TestParseSourcesList(t *testing.T) {
	text := `# deb http://commented.example/debian bookworm main
deb-src http://src.example/debian bookworm main
deb http://security.example/debian-security bookworm-security main
deb [arch=amd64 signed-by=/etc/apt/keyrings/d.gpg] http://mirror.example/debian bookworm main contrib # trailing
deb http://second.example/debian bookworm main
`
	got := parseSourcesList(text, "bookworm")
	assert.Equal(t, []aptSource{
		{URI: "http://mirror.example/debian", Keyring: "/etc/apt/keyrings/d.gpg"},
		{URI: "http://second.example/debian"},
	}, got)
}

func TestDebianMirrorHonoursOverride(t *testing.T) {
	t.Setenv("DSENV_DEBIAN_MIRROR", "http://override.example/debian")
	got, err := debianMirror("bookworm")
	assert.NoError(t, err)
	assert.Equal(t, "http://override.example/debian", got.URI)
}
