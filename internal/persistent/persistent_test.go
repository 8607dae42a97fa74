package persistent

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dsenv/dsenv/internal/owner"
	"github.com/dsenv/dsenv/internal/secret"
)

func TestPersistentVarsFileIsWrittenOncePrivatelyWithFreshCredentials(t *testing.T) {
	p := &Persistent{Dir: t.TempDir(), Name: "dsenv-mine"}
	created, err := p.ensureVars()
	if err != nil || !created {
		t.Fatalf("ensureVars = %v, %v", created, err)
	}
	info, err := os.Stat(p.VarsFile())
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v; want 0600", info.Mode().Perm())
	}
	b, _ := os.ReadFile(p.VarsFile())
	text := string(b)
	for _, want := range []string{
		`name_prefix = "dsenv-mine"`, `owner       = "manual@` + owner.Hostname() + `"`, `"dsenv.persistent" = "true"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("vars file lacks %s:\n%s", want, text)
		}
	}
	for _, name := range secret.Vars {
		value := `"[0-9a-f]{32}"`
		if strings.HasSuffix(name, "_pem") {
			value = `"-----BEGIN [A-Z ]+-----\\n[A-Za-z0-9+/=\\n]+-----END [A-Z ]+-----\\n"`
		}
		if !regexp.MustCompile(`(?m)^` + name + `\s+= ` + value + `$`).MatchString(text) {
			t.Errorf("vars file has no generated %s", name)
		}
	}
	if id, err := p.EnvID(); err != nil || id != "dsenv-mine" {
		t.Errorf("EnvID = %q, %v", id, err)
	}
	// A second run keeps the credentials.
	if created, err := p.ensureVars(); err != nil || created {
		t.Fatalf("second ensureVars = %v, %v", created, err)
	}
	if again, _ := os.ReadFile(p.VarsFile()); string(again) != text {
		t.Error("second run rewrote the credentials")
	}
}

// A variables file of an older dsenv gains the secrets it lacks, and keeps the others.
func TestPersistentVarsFileOfAnOlderDsenvGainsTheNewSecrets(t *testing.T) {
	p := &Persistent{Dir: t.TempDir()}
	old := "name_prefix = \"dsenv-old\"\npostgres_password = \"0123456789abcdef0123456789abcdef\"\nredis_password = \"0123456789abcdef0123456789abcdee\"\napi_token = \"0123456789abcdef0123456789abcded\"\n"
	if err := os.WriteFile(p.VarsFile(), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ensureVars(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p.VarsFile())
	if !strings.HasPrefix(string(b), old) {
		t.Errorf("the existing settings changed:\n%s", b)
	}
	for _, name := range []string{"denied_token", "signer_cert_pem", "signer_key_pem"} {
		if n := len(regexp.MustCompile(`(?m)^`+name+` = "`).FindAll(b, -1)); n != 1 {
			t.Errorf("%s set %d times, want once:\n%s", name, n, b)
		}
	}
	if _, err := p.ensureVars(); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(p.VarsFile()); string(again) != string(b) {
		t.Error("a second run appended again")
	}
}

func TestPersistentRejectsABadName(t *testing.T) {
	p := &Persistent{Dir: t.TempDir(), Name: "Bad_Name"}
	if _, err := p.ensureVars(); err == nil {
		t.Fatal("bad name accepted")
	}
}

func TestStateResources(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "terraform.tfstate")
	if n, err := stateResources(path); err != nil || n != 0 {
		t.Errorf("no state: %d, %v", n, err)
	}
	_ = os.WriteFile(path, []byte(`{"version":4,"resources":[{"type":"docker_container"},{"type":"docker_network"}]}`), 0o600)
	if n, err := stateResources(path); err != nil || n != 2 {
		t.Errorf("two resources: %d, %v", n, err)
	}
	_ = os.WriteFile(path, []byte(`{"version":4,"resources":[]}`), 0o600)
	if n, err := stateResources(path); err != nil || n != 0 {
		t.Errorf("destroyed state: %d, %v", n, err)
	}
}
