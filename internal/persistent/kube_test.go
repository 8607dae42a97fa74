package persistent

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/kubeapi"
)

// The flags file carries the backend of this Up only: kube is written, the stand-in (or
// no flag) leaves it out, so an Up without the flag goes back to the stand-in.
func TestFlagsFileHoldsTheAuthBackendOfThisUpOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FlagsFileName)
	p := &Persistent{Dir: dir, AuthBackend: AuthKube}
	if err := p.writeFlags(false); err != nil {
		t.Fatal(err)
	}
	var vars map[string]string
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &vars); err != nil || vars["auth_backend"] != "kube" {
		t.Fatalf("flags file %s: %v; want auth_backend kube", b, err)
	}
	for _, backend := range []string{"", AuthStandIn} {
		p.AuthBackend = backend
		if err := p.writeFlags(false); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("backend %q: flags file still there (%v)", backend, err)
		}
	}
	p.AuthBackend = "kubernetes"
	if err := p.writeFlags(false); err == nil || !strings.Contains(err.Error(), "want standin or kube") {
		t.Errorf("backend kubernetes: %v; want an error naming the choices", err)
	}
}

// The PKI is generated once, 0600, with the DS's identity in the namespace of the
// variables file, and kept by a later Up.
func TestKubePKIFileIsWrittenOncePrivately(t *testing.T) {
	p := &Persistent{Dir: t.TempDir()}
	if err := os.WriteFile(p.VarsFile(), []byte("name_prefix = \"x\"\nkube_namespace = \"team-a\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.ensureKubePKI(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(p.Dir, KubePKIFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v; want 0600", path, fi.Mode().Perm())
	}
	first, _ := os.ReadFile(path)
	var v struct {
		KubePKI map[string]string `json:"kube_pki"`
	}
	if err := json.Unmarshal(first, &v); err != nil {
		t.Fatal(err)
	}
	want := (&kubeapi.PKI{}).Vars("")
	if len(v.KubePKI) != len(want) {
		t.Errorf("kube_pki has %d entries, want %d", len(v.KubePKI), len(want))
	}
	for k := range want {
		if !strings.HasPrefix(v.KubePKI[k], "-----BEGIN ") {
			t.Errorf("kube_pki[%q] is not PEM", k)
		}
	}
	blk, _ := pem.Decode([]byte(v.KubePKI["server_cert_pem"]))
	if blk == nil {
		t.Fatal("server_cert_pem: no PEM block")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cn := cert.Subject.CommonName; cn != "system:serviceaccount:team-a:data-storage" {
		t.Errorf("the DS's identity %q; want system:serviceaccount:team-a:data-storage", cn)
	}
	if err := p.ensureKubePKI(); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); string(again) != string(first) {
		t.Error("a second Up regenerated the PKI")
	}
}

// With the kube backend, the outputs api_token and denied_token are the minted tokens;
// without a tokens file Outputs says to run up.
func TestKubeTokensReplaceTheStandInTokens(t *testing.T) {
	p := &Persistent{Dir: t.TempDir()}
	if _, err := p.KubeTokens(); !errors.Is(err, ErrNoKubeTokens) {
		t.Fatalf("no file: %v, want ErrNoKubeTokens", err)
	}
	out := map[string]tfexec.OutputMeta{
		"api_token":    {Sensitive: true, Value: json.RawMessage(`"standin-token"`)},
		"auth_backend": {Value: json.RawMessage(`"standin"`)},
	}
	// The stand-in: an old tokens file goes, nothing is replaced.
	if err := os.WriteFile(filepath.Join(p.Dir, KubeTokensFileName), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.kubeStart(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p.Dir, KubeTokensFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("tokens file kept with the stand-in: %v", err)
	}
	KubeTokens{APIToken: "a.b.c", DeniedToken: "d.e.f"}.apply(out)
	if outputValue(out, "api_token") != "a.b.c" || outputValue(out, "denied_token") != "d.e.f" || !out["denied_token"].Sensitive {
		t.Errorf("after apply: api_token %q, denied_token %q (sensitive %v)", outputValue(out, "api_token"), outputValue(out, "denied_token"), out["denied_token"].Sensitive)
	}
}
