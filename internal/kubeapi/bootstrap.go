package kubeapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Names the DS's chart uses: the ClusterRole its clients are bound to and the Service its
// access checks name.
const (
	ClientRole    = "data-storage-client"
	ServiceName   = "data-storage-service"
	authDelegator = "system:auth-delegator"
	rbacGroup     = "rbac.authorization.k8s.io"
	rbacVersion   = rbacGroup + "/v1"
)

// Bootstrap is what an environment with the real API needs before the DS serves: its
// namespace, the DS's own ServiceAccount (allowed to create TokenReviews and
// SubjectAccessReviews), a client ServiceAccount bound to data-storage-client, and one
// with no binding at all, so that a 403 is RBAC's decision.
type Bootstrap struct {
	Namespace      string
	ServerAccount  string // the DS's own, bound to system:auth-delegator
	ClientAccount  string // e.g. "gateway": data-storage-client in Namespace
	UnboundAccount string
	// TokenTTL is the lifetime of the tokens requested; it must cover the environment (or
	// the time until the next bootstrap, which mints new ones). kube-apiserver caps it only
	// with --service-account-max-token-expiration, which the kubeapi module sets to
	// MaxTokenTTL.
	TokenTTL time.Duration
}

// TestTokenTTL is the token lifetime of a throwaway test environment (DefaultBootstrap).
const TestTokenTTL = 24 * time.Hour

// MaxTokenTTL is the longest token lifetime the kubeapi module's kube-apiserver grants
// (its --service-account-max-token-expiration): a longer request gets this much.
const MaxTokenTTL = 30 * 24 * time.Hour

// DefaultBootstrap names the identities as the auth stand-in does (gateway allowed, denied
// authenticated but refused), so a test reads the same user names whichever backend runs;
// the DS's own ServiceAccount is data-storage.
func DefaultBootstrap(namespace string) Bootstrap {
	return Bootstrap{
		Namespace: namespace, ServerAccount: "data-storage", ClientAccount: "gateway",
		UnboundAccount: "denied", TokenTTL: TestTokenTTL,
	}
}

// Start waits until the kube-apiserver of adminKubeconfig (the kubeapi module's
// admin_kubeconfig output) is ready, then bootstraps b: what a harness does after the apply
// and before the DS's first request.
func Start(ctx context.Context, adminKubeconfig string, b Bootstrap) (Tokens, error) {
	c, err := FromKubeconfig([]byte(adminKubeconfig))
	if err != nil {
		return Tokens{}, err
	}
	if err := c.WaitReady(ctx); err != nil {
		return Tokens{}, err
	}
	return c.Bootstrap(ctx, b)
}

// Tokens are TokenRequest tokens with no audiences (so that they pass the DS's review,
// which names none) for the bootstrap's client ServiceAccounts.
type Tokens struct {
	Client  string
	Unbound string
	// Expires is when the first of the two expires (kube-apiserver's expirationTimestamp).
	Expires time.Time
}

// Bootstrap creates everything (what exists already is kept: a re-apply of a long-lived
// environment runs it again) and requests the tokens.
func (c *Client) Bootstrap(ctx context.Context, b Bootstrap) (Tokens, error) {
	if b.Namespace == "" || b.ServerAccount == "" || b.ClientAccount == "" || b.UnboundAccount == "" {
		return Tokens{}, fmt.Errorf("kubeapi bootstrap: namespace and the three ServiceAccount names are required")
	}
	if b.TokenTTL == 0 {
		b.TokenTTL = TestTokenTTL
	}
	ns := &object{APIVersion: "v1", Kind: "Namespace", Metadata: meta{Name: b.Namespace}}
	if err := c.create(ctx, "/api/v1/namespaces", ns); err != nil {
		return Tokens{}, err
	}
	for _, sa := range []string{b.ServerAccount, b.ClientAccount, b.UnboundAccount} {
		if err := c.CreateServiceAccount(ctx, b.Namespace, sa); err != nil {
			return Tokens{}, err
		}
	}
	delegator := &object{
		APIVersion: rbacVersion, Kind: "ClusterRoleBinding",
		Metadata: meta{Name: b.Namespace + ":" + b.ServerAccount + ":auth-delegator"},
		RoleRef:  &roleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: authDelegator},
		Subjects: []subject{{Kind: "ServiceAccount", Name: b.ServerAccount, Namespace: b.Namespace}},
	}
	if err := c.create(ctx, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", delegator); err != nil {
		return Tokens{}, err
	}
	role := &object{
		APIVersion: rbacVersion, Kind: "ClusterRole", Metadata: meta{Name: ClientRole},
		Rules: []policyRule{{
			APIGroups:     []string{""},
			Resources:     []string{"services"},
			ResourceNames: []string{ServiceName},
			Verbs:         []string{"get", "create", "list", "update", "delete"},
		}},
	}
	if err := c.create(ctx, "/apis/rbac.authorization.k8s.io/v1/clusterroles", role); err != nil {
		return Tokens{}, err
	}
	if err := c.BindClientRole(ctx, b.Namespace, b.ClientAccount); err != nil {
		return Tokens{}, err
	}
	// RBAC decides from informer caches: a binding just created takes effect a moment
	// later. Return only once both grants hold, so that the first DS request is answered as
	// it will be from then on.
	if err := c.waitAllowed(ctx, ServiceAccountUser(b.Namespace, b.ServerAccount), ResourceAttributes{
		Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create",
	}); err != nil {
		return Tokens{}, err
	}
	if err := c.waitAllowed(ctx, ServiceAccountUser(b.Namespace, b.ClientAccount), ResourceAttributes{
		Namespace: b.Namespace, Resource: "services", Name: ServiceName, Verb: "create",
	}); err != nil {
		return Tokens{}, err
	}
	var t Tokens
	var exp1, exp2 time.Time
	var err error
	if t.Client, exp1, err = c.requestToken(ctx, b.Namespace, b.ClientAccount, b.TokenTTL); err != nil {
		return Tokens{}, err
	}
	if t.Unbound, exp2, err = c.requestToken(ctx, b.Namespace, b.UnboundAccount, b.TokenTTL); err != nil {
		return Tokens{}, err
	}
	t.Expires = exp1
	if exp2.Before(exp1) {
		t.Expires = exp2
	}
	return t, nil
}

// CreateServiceAccount creates a ServiceAccount (kept if it exists).
func (c *Client) CreateServiceAccount(ctx context.Context, namespace, name string) error {
	sa := &object{APIVersion: "v1", Kind: "ServiceAccount", Metadata: meta{Name: name, Namespace: namespace}}
	return c.create(ctx, "/api/v1/namespaces/"+url.PathEscape(namespace)+"/serviceaccounts", sa)
}

// BindClientRole binds the data-storage-client ClusterRole to a ServiceAccount in its
// namespace (a RoleBinding: the grant holds in that namespace only, as the chart binds it).
func (c *Client) BindClientRole(ctx context.Context, namespace, account string) error {
	rb := &object{
		APIVersion: rbacVersion, Kind: "RoleBinding",
		Metadata: meta{Name: ClientRole + ":" + account, Namespace: namespace},
		RoleRef:  &roleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: ClientRole},
		Subjects: []subject{{Kind: "ServiceAccount", Name: account, Namespace: namespace}},
	}
	return c.create(ctx, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+url.PathEscape(namespace)+"/rolebindings", rb)
}

// RequestToken asks the TokenRequest API for a token of a ServiceAccount, with no
// audiences: it is then valid for the API server's own audience, which is what a
// TokenReview without audiences checks.
func (c *Client) RequestToken(ctx context.Context, namespace, account string, ttl time.Duration) (string, error) {
	tok, _, err := c.requestToken(ctx, namespace, account, ttl)
	return tok, err
}

// requestToken is RequestToken that also returns when the token expires.
func (c *Client) requestToken(ctx context.Context, namespace, account string, ttl time.Duration) (string, time.Time, error) {
	tr := map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
		"spec": map[string]any{"expirationSeconds": int64(ttl / time.Second)},
	}
	var out struct {
		Status struct {
			Token               string    `json:"token"`
			ExpirationTimestamp time.Time `json:"expirationTimestamp"`
		} `json:"status"`
	}
	path := "/api/v1/namespaces/" + url.PathEscape(namespace) + "/serviceaccounts/" + url.PathEscape(account) + "/token"
	if err := c.Do(ctx, http.MethodPost, path, tr, &out); err != nil {
		return "", time.Time{}, err
	}
	if out.Status.Token == "" {
		return "", time.Time{}, fmt.Errorf("kube-apiserver: token request for %s/%s: empty token", namespace, account)
	}
	return out.Status.Token, out.Status.ExpirationTimestamp, nil
}

// ReviewToken is the DS's TokenReview: spec.token only, no audiences.
func (c *Client) ReviewToken(ctx context.Context, token string) (TokenReviewStatus, error) {
	in := map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
		"spec": map[string]any{"token": token},
	}
	var out struct {
		Status TokenReviewStatus `json:"status"`
	}
	err := c.Do(ctx, http.MethodPost, "/apis/authentication.k8s.io/v1/tokenreviews", in, &out)
	return out.Status, err
}

// ReviewAccess is the DS's SubjectAccessReview: user, no groups, verb on the Service name
// in namespace.
func (c *Client) ReviewAccess(ctx context.Context, user, namespace, verb, name string) (AccessStatus, error) {
	r := newAccessReview(user, ResourceAttributes{Namespace: namespace, Group: "", Resource: "services", Name: name, Verb: verb})
	err := c.Do(ctx, http.MethodPost, "/apis/authorization.k8s.io/v1/subjectaccessreviews", r, r)
	return r.Status, err
}

// waitAllowed polls a SubjectAccessReview of user until RBAC allows attrs.
func (c *Client) waitAllowed(ctx context.Context, user string, attrs ResourceAttributes) error {
	for {
		out := newAccessReview(user, attrs)
		err := c.Do(ctx, http.MethodPost, "/apis/authorization.k8s.io/v1/subjectaccessreviews", out, out)
		if err == nil && out.Status.Allowed {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kubeapi bootstrap: %s still may not %s %s/%s: %w (last: %v %q)",
				user, attrs.Verb, attrs.Resource, attrs.Name, ctx.Err(), err, out.Status.Reason)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// create POSTs obj to a collection; AlreadyExists counts as done.
func (c *Client) create(ctx context.Context, path string, obj any) error {
	if err := c.Do(ctx, http.MethodPost, path, obj, nil); err != nil && !IsAlreadyExists(err) {
		return err
	}
	return nil
}
