package tfharness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A kept environment with the kube backend leaves its tokens, which exist only in the
// process that ran Up, in a 0600 file, and says until when they hold; with the stand-in
// (no expiry) nothing is written.
func TestKeptKubeEnvironmentWritesItsTokensPrivately(t *testing.T) {
	e := &Env{Dir: t.TempDir()}
	if line := e.keepKubeTokens(); line != "" {
		t.Errorf("stand-in: %q, want no line", line)
	}
	e.Token, e.DeniedToken, e.tokensExpire = "a.b.c", "d.e.f", time.Now().Add(24*time.Hour)
	line := e.keepKubeTokens()
	path := filepath.Join(e.Dir, "kube-tokens.json")
	if !strings.Contains(line, path) || !strings.Contains(line, "valid until") || strings.Contains(line, "a.b.c") {
		t.Errorf("keep line %q: want the file and its expiry, never a token", line)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", path, fi.Mode().Perm())
	}
	var got struct {
		APIToken    string    `json:"api_token"`
		DeniedToken string    `json:"denied_token"`
		Expires     time.Time `json:"expires"`
	}
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &got); err != nil || got.APIToken != "a.b.c" || got.DeniedToken != "d.e.f" || !got.Expires.Equal(e.tokensExpire) {
		t.Errorf("%s = %s (%v)", path, b, err)
	}
}
