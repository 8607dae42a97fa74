package kubeapi

// The few fields of the Kubernetes API objects this package sends and reads, as JSON. Typed
// k8s.io/api structs would make every importer of tfharness compile k8s.io/api and
// k8s.io/apimachinery for five small objects.

// meta is an object's metadata.
type meta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type roleRef struct {
	APIGroup string `json:"apiGroup"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
}

type subject struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type policyRule struct {
	APIGroups     []string `json:"apiGroups"`
	Resources     []string `json:"resources"`
	ResourceNames []string `json:"resourceNames,omitempty"`
	Verbs         []string `json:"verbs"`
}

// object is a namespace, ServiceAccount, ClusterRole or (Cluster)RoleBinding to create.
type object struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   meta         `json:"metadata"`
	Rules      []policyRule `json:"rules,omitempty"`
	RoleRef    *roleRef     `json:"roleRef,omitempty"`
	Subjects   []subject    `json:"subjects,omitempty"`
}

// UserInfo is who a TokenReview says the token belongs to.
type UserInfo struct {
	Username string   `json:"username"`
	UID      string   `json:"uid"`
	Groups   []string `json:"groups"`
}

// TokenReviewStatus is kube-apiserver's answer to a TokenReview.
type TokenReviewStatus struct {
	Authenticated bool     `json:"authenticated"`
	User          UserInfo `json:"user"`
	Audiences     []string `json:"audiences"`
	Error         string   `json:"error"`
}

// AccessStatus is kube-apiserver's answer to a SubjectAccessReview.
type AccessStatus struct {
	Allowed         bool   `json:"allowed"`
	Denied          bool   `json:"denied"`
	Reason          string `json:"reason"`
	EvaluationError string `json:"evaluationError"`
}

// ResourceAttributes is what a SubjectAccessReview asks about.
type ResourceAttributes struct {
	Namespace string `json:"namespace,omitempty"`
	Verb      string `json:"verb"`
	Group     string `json:"group"`
	Resource  string `json:"resource"`
	Name      string `json:"name,omitempty"`
}

// Status is the object kube-apiserver answers an error with.
type Status struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Reason  string `json:"reason"`
	Code    int32  `json:"code"`
}

type accessReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		User               string              `json:"user"`
		ResourceAttributes *ResourceAttributes `json:"resourceAttributes"`
	} `json:"spec"`
	Status AccessStatus `json:"status"`
}

func newAccessReview(user string, attrs ResourceAttributes) *accessReview {
	r := &accessReview{APIVersion: "authorization.k8s.io/v1", Kind: "SubjectAccessReview"}
	r.Spec.User, r.Spec.ResourceAttributes = user, &attrs
	return r
}
