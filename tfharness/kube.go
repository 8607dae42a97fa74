package tfharness

import (
	"context"
	"encoding/json"
	"fmt"

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
	return nil
}
