package persistent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/kubeapi"
)

// Auth backends of AuthBackend (the root's auth_backend variable).
const (
	AuthStandIn = "standin"
	AuthKube    = "kube"
)

// KubePKIFileName holds the kube backend's TLS material and service-account key
// (variable kube_pki), generated on the first Up with the kube backend and kept, like the
// variables file, after Down: a later Up of the same environment reuses it.
const KubePKIFileName = "dsenv-kube.auto.tfvars.json"

// KubeTokensFileName holds the TokenRequest tokens of the last Up with the kube backend;
// `dsenv output api_token` / `denied_token` read it. Not a tfvars file: the tokens change
// on every Up and must not change the plan. Down removes it (the tokens die with etcd).
const KubeTokensFileName = "dsenv-kube-tokens.json"

// KubeTokenTTL is the lifetime of a persistent environment's tokens: an environment kept
// for days gets new ones from every Up, so this only has to cover the time between two.
const KubeTokenTTL = 7 * 24 * time.Hour

// kubeReadyTimeout bounds the wait for kube-apiserver's /readyz and the bootstrap.
const kubeReadyTimeout = 3 * time.Minute

// KubeTokens is the content of KubeTokensFileName.
type KubeTokens struct {
	APIToken    string    `json:"api_token"`    // the client ServiceAccount (gateway): allowed
	DeniedToken string    `json:"denied_token"` // the ServiceAccount with no binding: 403
	Expires     time.Time `json:"expires"`      // when the first of them expires
	Minted      time.Time `json:"minted"`
}

var kubeNamespaceLine = regexp.MustCompile(`(?m)^\s*kube_namespace\s*=\s*"([^"]+)"`)

// kubeNamespace is the namespace the DS's identity and the bootstrap use: the variables
// file's kube_namespace, else the root's default.
func (p *Persistent) kubeNamespace() string {
	if b, err := os.ReadFile(p.VarsFile()); err == nil {
		if m := kubeNamespaceLine.FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	return "dsenv"
}

// ensureKubePKI writes KubePKIFileName with fresh material unless it exists.
func (p *Persistent) ensureKubePKI() error {
	path := filepath.Join(p.Dir, KubePKIFileName)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	b := kubeapi.DefaultBootstrap(p.kubeNamespace())
	pki, err := kubeapi.NewPKI(kubeapi.PKIOptions{Hosts: []string{"kube-api"}, Namespace: b.Namespace, ServerAccount: b.ServerAccount})
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(map[string]any{"kube_pki": pki.Vars("")}, "", "  ")
	if err != nil {
		return err
	}
	return writePrivate(path, data, true)
}

// writePrivate writes a 0600 file: exclusive (fails if it exists), or replacing it
// through a temporary file so a reader never sees half of it.
func writePrivate(path string, data []byte, exclusive bool) error {
	if exclusive {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		if _, err := f.Write(append(data, '\n')); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// kubeStart, with the kube backend applied, waits for kube-apiserver, bootstraps (what
// exists is kept), mints new tokens into KubeTokensFileName and puts them in out as
// api_token and denied_token. With the stand-in it removes a tokens file of an earlier Up.
func (p *Persistent) kubeStart(ctx context.Context, out map[string]tfexec.OutputMeta) error {
	path := filepath.Join(p.Dir, KubeTokensFileName)
	if outputValue(out, "auth_backend") != AuthKube {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	kc := outputValue(out, "kube_admin_kubeconfig")
	if kc == "" {
		return errors.New("auth_backend is kube but the output kube_admin_kubeconfig is empty")
	}
	ns := outputValue(out, "kube_namespace")
	if ns == "" {
		ns = "dsenv"
	}
	b := kubeapi.DefaultBootstrap(ns)
	b.TokenTTL = KubeTokenTTL
	report := p.Progress
	if report == nil {
		report = func(Event) {}
	}
	start := time.Now()
	report(Event{Step: "kube", Phase: Started})
	ctx, cancel := context.WithTimeout(ctx, kubeReadyTimeout)
	defer cancel()
	tokens, err := kubeapi.Start(ctx, kc, b)
	if err != nil {
		report(Event{Step: "kube", Phase: Failed, Elapsed: time.Since(start)})
		return fmt.Errorf("kube-apiserver: %w (run `make logs LOGSFLAGS=\"kube-apiserver etcd\"` for their log lines)", err)
	}
	t := KubeTokens{APIToken: tokens.Client, DeniedToken: tokens.Unbound, Expires: tokens.Expires.UTC(), Minted: time.Now().UTC().Truncate(time.Second)}
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := writePrivate(path, data, false); err != nil {
		return fmt.Errorf("tokens file: %w", err)
	}
	report(Event{Step: "kube", Phase: Done, Elapsed: time.Since(start),
		Detail: "tokens valid until " + t.Expires.Format("2006-01-02 15:04 MST")})
	t.apply(out)
	return nil
}

// apply replaces api_token and denied_token in out (the stand-in's, which the DS does not
// accept with the kube backend) by the TokenRequest tokens.
func (t KubeTokens) apply(out map[string]tfexec.OutputMeta) {
	for name, v := range map[string]string{"api_token": t.APIToken, "denied_token": t.DeniedToken} {
		raw, _ := json.Marshal(v)
		m := out[name]
		m.Value, m.Sensitive = raw, true
		if m.Type == nil {
			m.Type = json.RawMessage(`"string"`)
		}
		out[name] = m
	}
}

// ErrNoKubeTokens: no Up with the kube backend minted tokens (or Down removed them).
var ErrNoKubeTokens = errors.New("no tokens minted for the kube backend: run `make up AUTH_BACKEND=kube` (dsenv up --auth-backend kube)")

// KubeTokens reads the tokens of the last Up with the kube backend.
func (p *Persistent) KubeTokens() (KubeTokens, error) {
	var t KubeTokens
	b, err := os.ReadFile(filepath.Join(p.Dir, KubeTokensFileName))
	if errors.Is(err, os.ErrNotExist) {
		return t, ErrNoKubeTokens
	}
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("%s: %w", KubeTokensFileName, err)
	}
	return t, nil
}

// removeKubeTokens removes the tokens file (after Down: they name ServiceAccounts that are gone).
func (p *Persistent) removeKubeTokens() error {
	err := os.Remove(filepath.Join(p.Dir, KubeTokensFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func outputValue(out map[string]tfexec.OutputMeta, name string) string {
	var s string
	if m, ok := out[name]; ok {
		_ = json.Unmarshal(m.Value, &s)
	}
	return s
}
