package kubeapi

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parseCert(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(p))
	require.NotNil(t, b)
	c, err := x509.ParseCertificate(b.Bytes)
	require.NoError(t, err)
	return c
}

func TestPKIIdentities(t *testing.T) {
	p, err := NewPKI(PKIOptions{Hosts: []string{"kube-api", "10.1.2.3"}, Namespace: "dsenv", ServerAccount: "data-storage"})
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM([]byte(p.CACert)))

	serving := parseCert(t, p.ServingCert)
	for _, host := range []string{"kube-api", "localhost", "127.0.0.1", "10.1.2.3"} {
		_, err := serving.Verify(x509.VerifyOptions{Roots: roots, DNSName: host})
		assert.NoError(t, err, "serving certificate for %s", host)
	}
	_, err = serving.Verify(x509.VerifyOptions{Roots: roots, DNSName: "other"})
	assert.Error(t, err)

	admin := parseCert(t, p.AdminCert)
	_, err = admin.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err)
	assert.Equal(t, []string{"system:masters"}, admin.Subject.Organization)

	ds := parseCert(t, p.ServerCert)
	_, err = ds.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err)
	assert.Equal(t, "system:serviceaccount:dsenv:data-storage", ds.Subject.CommonName, "RBAC matches a ServiceAccount subject by this user name")

	b, _ := pem.Decode([]byte(p.ServiceAccountKey))
	k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
	require.NoError(t, err, "the service-account key is RSA")
	assert.IsType(t, &rsa.PrivateKey{}, k)

	_, err = tls.X509KeyPair([]byte(p.ServingCert), []byte(p.ServingKey))
	assert.NoError(t, err)
	for _, v := range p.Vars("kube_") {
		assert.NotEmpty(t, v)
	}
	assert.Len(t, p.Vars(""), 8)

	_, err = NewPKI(PKIOptions{})
	assert.ErrorContains(t, err, "Namespace and ServerAccount are required")
}

// kubeconfig renders what the kubeapi module's outputs render (yamlencode quotes keys).
func kubeconfig(server, ca, cert, key string) string {
	e := base64.StdEncoding.EncodeToString
	return fmt.Sprintf(`"apiVersion": "v1"
"clusters":
- "cluster":
    "certificate-authority-data": %q
    "server": %q
  "name": "t"
"contexts":
- "context":
    "cluster": "t"
    "user": "admin"
  "name": "t"
"current-context": "t"
"kind": "Config"
"users":
- "name": "admin"
  "user":
    "client-certificate-data": %q
    "client-key-data": %q
`, e([]byte(ca)), server, e([]byte(cert)), e([]byte(key)))
}

func TestClientFromKubeconfigPresentsTheAdminCertificate(t *testing.T) {
	p, err := NewPKI(PKIOptions{Hosts: []string{"kube-api"}, Namespace: "dsenv", ServerAccount: "ds"})
	require.NoError(t, err)
	pair, err := tls.X509KeyPair([]byte(p.ServingCert), []byte(p.ServingKey))
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(p.CACert))

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var who string
		if len(r.TLS.PeerCertificates) > 0 {
			who = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		switch r.URL.Path {
		case "/who":
			fmt.Fprintf(w, `{"name":%q,"auth":%q}`, who, r.Header.Get("Authorization"))
		case "/conflict":
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"kind":"Status","status":"Failure","reason":"AlreadyExists","message":"exists","code":409}`)
		case "/readyz":
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"kind":"Status","status":"Failure","reason":"Forbidden","message":"user cannot","code":403}`)
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.StartTLS()
	defer srv.Close()
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	c, err := FromKubeconfig([]byte(kubeconfig(url, p.CACert, p.AdminCert, p.AdminKey)))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.WaitReady(ctx))
	var who struct{ Name, Auth string }
	require.NoError(t, c.Do(ctx, http.MethodGet, "/who", nil, &who))
	assert.Equal(t, "dsenv-admin", who.Name)
	assert.Empty(t, who.Auth)

	require.NoError(t, c.WithToken("tok").Do(ctx, http.MethodGet, "/who", nil, &who))
	assert.Equal(t, "", who.Name, "a token client presents no certificate")
	assert.Equal(t, "Bearer tok", who.Auth)

	err = c.Do(ctx, http.MethodPost, "/conflict", map[string]string{}, nil)
	assert.True(t, IsAlreadyExists(err))
	assert.NoError(t, c.create(ctx, "/conflict", map[string]string{}), "AlreadyExists counts as created")
	err = c.Do(ctx, http.MethodGet, "/other", nil, nil)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 403, ae.Code)
	assert.EqualError(t, err, "kube-apiserver: GET /other: 403 Forbidden: user cannot")
}

func TestWaitReadySaysWhatFailed(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "[-]etcd failed: reason withheld\nreadyz check failed")
	}))
	defer srv.Close()
	c := &Client{server: srv.URL, hc: srv.Client()}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := c.WaitReady(ctx)
	assert.ErrorContains(t, err, "503 [-]etcd failed: reason withheld | readyz check failed")
}

func TestFromKubeconfigErrors(t *testing.T) {
	_, err := FromKubeconfig([]byte(`current-context: x`))
	assert.ErrorContains(t, err, `current-context "x" not found`)
	_, err = FromKubeconfig([]byte("{{"))
	assert.ErrorContains(t, err, "kubeconfig:")
}
