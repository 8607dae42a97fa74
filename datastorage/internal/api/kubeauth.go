package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// reviewTimeout bounds one TokenReview or SubjectAccessReview, name resolution included: an
// unreachable API answers 500 "Authentication service unavailable" within it, sooner than
// a client (or the harness's readiness request, 5 s) gives up on the DS.
const reviewTimeout = 2 * time.Second

// KubeService is the service name the access checks name (resourceAttributes.name): the
// real DS's.
const KubeService = "data-storage-service"

// Kube checks tokens with a Kubernetes API, as the real DS does: a TokenReview of the bearer
// token, then a SubjectAccessReview of its username for verb on services/KubeService in
// Namespace. No caching: every request makes both calls (the real DS does too).
type Kube struct {
	Server    string // API server base URL (http: no credentials; https: the kubeconfig's CA and client certificate)
	Namespace string
	Client    *http.Client
}

// NewKubeFromKubeconfig reads the server of the current context of a kubeconfig file. Over
// http no credentials are sent; over https the cluster's certificate-authority-data is the
// only trust (none: an error) and the context user's client-certificate-data/client-key-data,
// if any, is the DS's identity, as a kube-apiserver with a client CA expects.
func NewKubeFromKubeconfig(path, namespace string) (*Kube, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	var kc struct {
		CurrentContext string `yaml:"current-context"`
		Contexts       []struct {
			Name    string `yaml:"name"`
			Context struct {
				Cluster string `yaml:"cluster"`
				User    string `yaml:"user"`
			} `yaml:"context"`
		} `yaml:"contexts"`
		Clusters []struct {
			Name    string `yaml:"name"`
			Cluster struct {
				Server string `yaml:"server"`
				CAData string `yaml:"certificate-authority-data"`
			} `yaml:"cluster"`
		} `yaml:"clusters"`
		Users []struct {
			Name string `yaml:"name"`
			User struct {
				CertData string `yaml:"client-certificate-data"`
				KeyData  string `yaml:"client-key-data"`
			} `yaml:"user"`
		} `yaml:"users"`
	}
	if err := yaml.Unmarshal(b, &kc); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	cluster, user := "", ""
	for _, c := range kc.Contexts {
		if c.Name == kc.CurrentContext {
			cluster, user = c.Context.Cluster, c.Context.User
		}
	}
	if namespace == "" {
		namespace = "default"
	}
	for _, c := range kc.Clusters {
		if c.Name != cluster || c.Cluster.Server == "" {
			continue
		}
		k := &Kube{Server: strings.TrimRight(c.Cluster.Server, "/"), Namespace: namespace, Client: &http.Client{Timeout: reviewTimeout}}
		switch {
		case strings.HasPrefix(c.Cluster.Server, "http://"):
			return k, nil
		case !strings.HasPrefix(c.Cluster.Server, "https://"):
			return nil, fmt.Errorf("kubeconfig %s: server %q: want http:// or https://", path, c.Cluster.Server)
		}
		ca, err := base64.StdEncoding.DecodeString(c.Cluster.CAData)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("kubeconfig %s: server %q: https needs a PEM certificate-authority-data", path, c.Cluster.Server)
		}
		cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		for _, u := range kc.Users {
			if u.Name != user || u.User.CertData == "" {
				continue
			}
			cert, err1 := base64.StdEncoding.DecodeString(u.User.CertData)
			key, err2 := base64.StdEncoding.DecodeString(u.User.KeyData)
			pair, err3 := tls.X509KeyPair(cert, key)
			if err := errors.Join(err1, err2, err3); err != nil {
				return nil, fmt.Errorf("kubeconfig %s: user %q: client certificate: %w", path, user, err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		k.Client.Transport = &http.Transport{TLSClientConfig: cfg}
		return k, nil
	}
	return nil, fmt.Errorf("kubeconfig %s: no cluster server for current-context %q", path, kc.CurrentContext)
}

// Authorize makes the TokenReview and, for an authenticated token, the SubjectAccessReview.
func (k *Kube) Authorize(ctx context.Context, token, verb string) (Decision, error) {
	var tr authnv1.TokenReview
	err := k.post(ctx, "/apis/authentication.k8s.io/v1/tokenreviews", &authnv1.TokenReview{
		TypeMeta: typeMeta("authentication.k8s.io/v1", "TokenReview"),
		Spec:     authnv1.TokenReviewSpec{Token: token},
	}, &tr)
	if err != nil {
		return Decision{}, &AuthUnavailableError{Step: "Authentication", Err: err}
	}
	if !tr.Status.Authenticated {
		return Decision{}, nil
	}
	user := tr.Status.User.Username
	if user == "" {
		return Decision{}, &AuthUnavailableError{Step: "Authentication", Err: errors.New("authenticated token without a username")}
	}
	var sar authzv1.SubjectAccessReview
	err = k.post(ctx, "/apis/authorization.k8s.io/v1/subjectaccessreviews", &authzv1.SubjectAccessReview{
		TypeMeta: typeMeta("authorization.k8s.io/v1", "SubjectAccessReview"),
		Spec: authzv1.SubjectAccessReviewSpec{
			User: user,
			ResourceAttributes: &authzv1.ResourceAttributes{
				Namespace: k.Namespace, Verb: verb, Resource: "services", Name: KubeService,
			},
		},
	}, &sar)
	if err != nil {
		return Decision{Authenticated: true, Username: user}, &AuthUnavailableError{Step: "Authorization", Err: err}
	}
	return Decision{Authenticated: true, Allowed: sar.Status.Allowed, Username: user}, nil
}

func (k *Kube) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.Server+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := k.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return json.Unmarshal(b, out)
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}
