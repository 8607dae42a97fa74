package kubeapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names the DS's chart uses: the ClusterRole its clients are bound to and the Service its
// access checks name.
const (
	ClientRole    = "data-storage-client"
	ServiceName   = "data-storage-service"
	authDelegator = "system:auth-delegator"
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
	// TokenTTL is the lifetime of the tokens requested; it must cover the environment.
	TokenTTL time.Duration
}

// DefaultBootstrap names the identities as the auth stand-in does (gateway allowed, denied
// authenticated but refused), so a test reads the same user names whichever backend runs;
// the DS's own ServiceAccount is data-storage.
func DefaultBootstrap(namespace string) Bootstrap {
	return Bootstrap{
		Namespace: namespace, ServerAccount: "data-storage", ClientAccount: "gateway",
		UnboundAccount: "denied", TokenTTL: 24 * time.Hour,
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
}

// Bootstrap creates everything (what exists already is kept: a re-apply of a long-lived
// environment runs it again) and requests the tokens.
func (c *Client) Bootstrap(ctx context.Context, b Bootstrap) (Tokens, error) {
	if b.Namespace == "" || b.ServerAccount == "" || b.ClientAccount == "" || b.UnboundAccount == "" {
		return Tokens{}, fmt.Errorf("kubeapi bootstrap: namespace and the three ServiceAccount names are required")
	}
	if b.TokenTTL == 0 {
		b.TokenTTL = 24 * time.Hour
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: b.Namespace}}
	if err := c.create(ctx, "/api/v1/namespaces", ns); err != nil {
		return Tokens{}, err
	}
	for _, sa := range []string{b.ServerAccount, b.ClientAccount, b.UnboundAccount} {
		if err := c.CreateServiceAccount(ctx, b.Namespace, sa); err != nil {
			return Tokens{}, err
		}
	}
	delegator := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: b.Namespace + ":" + b.ServerAccount + ":auth-delegator"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: authDelegator},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: b.ServerAccount, Namespace: b.Namespace}},
	}
	if err := c.create(ctx, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", delegator); err != nil {
		return Tokens{}, err
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: ClientRole},
		Rules: []rbacv1.PolicyRule{{
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
	if err := c.waitAllowed(ctx, ServiceAccountUser(b.Namespace, b.ServerAccount), authzv1.ResourceAttributes{
		Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create",
	}); err != nil {
		return Tokens{}, err
	}
	if err := c.waitAllowed(ctx, ServiceAccountUser(b.Namespace, b.ClientAccount), authzv1.ResourceAttributes{
		Namespace: b.Namespace, Resource: "services", Name: ServiceName, Verb: "create",
	}); err != nil {
		return Tokens{}, err
	}
	var t Tokens
	var err error
	if t.Client, err = c.RequestToken(ctx, b.Namespace, b.ClientAccount, b.TokenTTL); err != nil {
		return Tokens{}, err
	}
	if t.Unbound, err = c.RequestToken(ctx, b.Namespace, b.UnboundAccount, b.TokenTTL); err != nil {
		return Tokens{}, err
	}
	return t, nil
}

// CreateServiceAccount creates a ServiceAccount (kept if it exists).
func (c *Client) CreateServiceAccount(ctx context.Context, namespace, name string) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	return c.create(ctx, "/api/v1/namespaces/"+url.PathEscape(namespace)+"/serviceaccounts", sa)
}

// BindClientRole binds the data-storage-client ClusterRole to a ServiceAccount in its
// namespace (a RoleBinding: the grant holds in that namespace only, as the chart binds it).
func (c *Client) BindClientRole(ctx context.Context, namespace, account string) error {
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ClientRole + ":" + account, Namespace: namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ClientRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: account, Namespace: namespace}},
	}
	return c.create(ctx, "/apis/rbac.authorization.k8s.io/v1/namespaces/"+url.PathEscape(namespace)+"/rolebindings", rb)
}

// RequestToken asks the TokenRequest API for a token of a ServiceAccount, with no
// audiences: it is then valid for the API server's own audience, which is what a
// TokenReview without audiences checks.
func (c *Client) RequestToken(ctx context.Context, namespace, account string, ttl time.Duration) (string, error) {
	secs := int64(ttl / time.Second)
	tr := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &secs}}
	var out authnv1.TokenRequest
	path := "/api/v1/namespaces/" + url.PathEscape(namespace) + "/serviceaccounts/" + url.PathEscape(account) + "/token"
	if err := c.Do(ctx, http.MethodPost, path, tr, &out); err != nil {
		return "", err
	}
	if out.Status.Token == "" {
		return "", fmt.Errorf("kube-apiserver: token request for %s/%s: empty token", namespace, account)
	}
	return out.Status.Token, nil
}

// ReviewToken is the DS's TokenReview: spec.token only, no audiences.
func (c *Client) ReviewToken(ctx context.Context, token string) (authnv1.TokenReviewStatus, error) {
	in := &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}
	var out authnv1.TokenReview
	err := c.Do(ctx, http.MethodPost, "/apis/authentication.k8s.io/v1/tokenreviews", in, &out)
	return out.Status, err
}

// ReviewAccess is the DS's SubjectAccessReview: user, no groups, verb on the Service name
// in namespace.
func (c *Client) ReviewAccess(ctx context.Context, user, namespace, verb, name string) (authzv1.SubjectAccessReviewStatus, error) {
	in := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: user,
		ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: namespace, Group: "", Resource: "services", Name: name, Verb: verb,
		},
	}}
	var out authzv1.SubjectAccessReview
	err := c.Do(ctx, http.MethodPost, "/apis/authorization.k8s.io/v1/subjectaccessreviews", in, &out)
	return out.Status, err
}

// waitAllowed polls a SubjectAccessReview of user until RBAC allows attrs.
func (c *Client) waitAllowed(ctx context.Context, user string, attrs authzv1.ResourceAttributes) error {
	for {
		in := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: &attrs}}
		var out authzv1.SubjectAccessReview
		err := c.Do(ctx, http.MethodPost, "/apis/authorization.k8s.io/v1/subjectaccessreviews", in, &out)
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
