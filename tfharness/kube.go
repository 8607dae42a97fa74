package tfharness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dsenv/dsenv/internal/kubeapi"
)

// AuthBackend picks what answers the DS's TokenReview and SubjectAccessReview calls.
type AuthBackend string

const (
	// AuthStandIn is the auth stand-in (the default): a tokens file, ~2 MiB.
	AuthStandIn AuthBackend = "standin"
	// AuthKube is a real etcd and kube-apiserver with RBAC (`dsenv setup --with-kube`):
	// env.Token is the gateway ServiceAccount's TokenRequest token, env.DeniedToken that of
	// a ServiceAccount with no binding, and the outputs kube_api_host_url and
	// kube_admin_kubeconfig (Outputs.Raw) let a test make its own ServiceAccounts.
	//
	// The tokens last 24 h from Up: enough for any test run, not for an environment kept
	// longer (WithKeep, DSENV_KEEP), which writes them to kube-tokens.json (0600) in its
	// directory and says until when they hold. After that, request new ones with the admin
	// kubeconfig (TokenRequest of gateway or denied in kube_namespace), or use `dsenv up
	// --auth-backend kube`, whose tokens last 7 days and are minted anew on every up.
	AuthKube AuthBackend = "kube"
)

type authBackendOption AuthBackend

func (o authBackendOption) apply(c *config) { c.vars["auth_backend"] = string(o) }

// WithAuthBackend chooses the auth backend (root variable auth_backend).
func WithAuthBackend(b AuthBackend) Option { return authBackendOption(b) }

// kubeNamespace is the DS's POD_NAMESPACE: the root's kube_namespace, else its default.
func kubeNamespace(vars map[string]any) string {
	if ns, ok := vars["kube_namespace"].(string); ok && ns != "" {
		return ns
	}
	return "dsenv"
}

// kubeVars adds the kube backend's TLS material and service-account key, generated for this
// environment, unless the caller gave them.
func kubeVars(vars map[string]any) error {
	if vars["auth_backend"] != string(AuthKube) {
		return nil
	}
	if _, set := vars["kube_pki"]; set {
		return nil
	}
	b := kubeapi.DefaultBootstrap(kubeNamespace(vars))
	pki, err := kubeapi.NewPKI(kubeapi.PKIOptions{Hosts: []string{"kube-api"}, Namespace: b.Namespace, ServerAccount: b.ServerAccount})
	if err != nil {
		return err
	}
	vars["kube_pki"] = pki.Vars("")
	return nil
}

// kubeBootstrap, with the kube backend, waits for kube-apiserver's /readyz, creates the
// namespace, ServiceAccounts and bindings, and makes the environment's tokens the
// TokenRequest tokens of gateway (allowed) and denied (no binding).
func (e *Env) kubeBootstrap(ctx context.Context) error {
	raw, ok := e.Raw["kube_admin_kubeconfig"]
	if !ok || string(raw) == "null" {
		return nil
	}
	var kc string
	if err := json.Unmarshal(raw, &kc); err != nil {
		return fmt.Errorf("output kube_admin_kubeconfig: %w", err)
	}
	ns := "dsenv"
	if r, ok := e.Raw["kube_namespace"]; ok {
		_ = json.Unmarshal(r, &ns)
	}
	tokens, err := kubeapi.Start(ctx, kc, kubeapi.DefaultBootstrap(ns))
	if err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	e.Token, e.DeniedToken = tokens.Client, tokens.Unbound
	e.tokensExpire = tokens.Expires
	return nil
}

// keepKubeTokens, for a kept environment with the kube backend, writes its tokens to a 0600
// file in its directory and returns a line for the keep message ("" otherwise): the tokens
// exist only in this process, and a kept environment outlives it.
func (e *Env) keepKubeTokens() string {
	if e.tokensExpire.IsZero() {
		return ""
	}
	path := filepath.Join(e.Dir, "kube-tokens.json")
	data, err := json.MarshalIndent(map[string]any{
		"api_token": e.Token, "denied_token": e.DeniedToken, "expires": e.tokensExpire.UTC(),
	}, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(data, '\n'), 0o600)
	}
	if err != nil {
		return fmt.Sprintf("  kube tokens: not written (%v)\n", err)
	}
	return fmt.Sprintf("  kube tokens: %s (0600: api_token, denied_token; valid until %s, then request new ones with the output kube_admin_kubeconfig)\n",
		path, e.tokensExpire.Local().Format(time.RFC3339))
}
