package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsenv/dsenv/authstandin/review"
	"github.com/dsenv/dsenv/internal/kubeapi"
)

const standInTokens = `namespace: dsenv
service: data-storage-service
tokens:
  - {token: tok-allowed-0123456789, username: "system:serviceaccount:dsenv:gateway", allow: true}
  - {token: tok-denied-0123456789, username: "system:serviceaccount:dsenv:denied", allow: false}
`

// standIn runs the repository's auth stand-in in process and returns a Kube pointed at it
// through a kubeconfig file, as the DS module renders it.
func standIn(t testing.TB) (*Kube, *httptest.Server) {
	t.Helper()
	p, err := review.Parse([]byte(standInTokens))
	if err != nil {
		t.Fatal(err)
	}
	h, err := review.NewServer(p, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	body := "apiVersion: v1\nkind: Config\nclusters:\n- name: dsenv\n  cluster:\n    server: " + srv.URL +
		"\ncontexts:\n- name: dsenv\n  context:\n    cluster: dsenv\n    namespace: dsenv\ncurrent-context: dsenv\n"
	if err := os.WriteFile(kc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := NewKubeFromKubeconfig(kc, "dsenv")
	if err != nil {
		t.Fatal(err)
	}
	return k, srv
}

func TestKubeAuthorizeThroughTheStandIn(t *testing.T) {
	k, srv := standIn(t)
	ctx := context.Background()
	for name, c := range map[string]struct {
		token string
		want  Decision
	}{
		"allowed": {"tok-allowed-0123456789", Decision{Authenticated: true, Allowed: true, Username: "system:serviceaccount:dsenv:gateway"}},
		"denied":  {"tok-denied-0123456789", Decision{Authenticated: true, Allowed: false, Username: "system:serviceaccount:dsenv:denied"}},
		"unknown": {"tok-unknown-012345678", Decision{}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := k.Authorize(ctx, c.token, "create")
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}

	// Through the middleware: the real DS's status codes.
	h := RequireBearer(k, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	for tok, want := range map[string]int{"tok-allowed-0123456789": 200, "tok-denied-0123456789": 403, "tok-unknown-012345678": 401} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/api/v1/audit/events", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("token %s…: %d, want %d", tok[:8], rec.Code, want)
		}
	}

	// Stand-in gone: 500, and the error says which check could not be made.
	srv.Close()
	_, err := k.Authorize(ctx, "tok-allowed-0123456789", "get")
	var ue *AuthUnavailableError
	if !errors.As(err, &ue) || ue.Step != "Authentication" {
		t.Fatalf("stand-in stopped: %v, want an Authentication *AuthUnavailableError", err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/audit/events", nil)
	req.Header.Set("Authorization", "Bearer tok-allowed-0123456789")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("stand-in stopped: %d, want 500", rec.Code)
	}
}

func TestKubeconfigWithoutServerIsAnError(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\ncurrent-context: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewKubeFromKubeconfig(kc, ""); err == nil {
		t.Fatal("want an error for a kubeconfig without a server")
	}
}

// BenchmarkAuthorize is what one API request costs in token checking: the fixed token set
// (no kubeconfig) against the Kubernetes path (a TokenReview and a SubjectAccessReview over
// loopback HTTP with keep-alive to the in-process stand-in; inside Docker add a network hop).
func BenchmarkAuthorize(b *testing.B) {
	ctx := context.Background()
	b.Run("tokens", func(b *testing.B) {
		t := NewTokens([]string{"tok-allowed-0123456789"})
		b.ReportAllocs()
		for b.Loop() {
			if d, _ := t.Authorize(ctx, "tok-allowed-0123456789", "create"); !d.Allowed {
				b.Fatal("refused")
			}
		}
	})
	b.Run("kube", func(b *testing.B) {
		k, _ := standIn(b)
		b.ReportAllocs()
		for b.Loop() {
			if d, err := k.Authorize(ctx, "tok-allowed-0123456789", "create"); err != nil || !d.Allowed {
				b.Fatalf("refused: %+v %v", d, err)
			}
		}
	})
}

// Over https the DS trusts only the kubeconfig's CA and presents its client certificate: what
// a real kube-apiserver (terraform/modules/kubeapi) expects of it.
func TestKubeconfigHTTPSPresentsTheClientCertificate(t *testing.T) {
	p, err := kubeapi.NewPKI(kubeapi.PKIOptions{Namespace: "dsenv", ServerAccount: "data-storage"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair([]byte(p.ServingCert), []byte(p.ServingKey))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(p.CACert))
	var seen []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.TLS.PeerCertificates[0].Subject.CommonName)
		w.WriteHeader(http.StatusCreated)
		if strings.Contains(r.URL.Path, "tokenreviews") {
			fmt.Fprint(w, `{"status":{"authenticated":true,"user":{"username":"system:serviceaccount:dsenv:gateway"}}}`)
			return
		}
		fmt.Fprint(w, `{"status":{"allowed":true}}`)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	write := func(ca string) string {
		kc := filepath.Join(t.TempDir(), "kubeconfig")
		body := fmt.Sprintf("current-context: k\ncontexts:\n- name: k\n  context: {cluster: c, user: ds}\nclusters:\n- name: c\n  cluster: {server: %q, certificate-authority-data: %q}\nusers:\n- name: ds\n  user: {client-certificate-data: %q, client-key-data: %q}\n",
			url, ca, b64(p.ServerCert), b64(p.ServerKey))
		if err := os.WriteFile(kc, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return kc
	}
	k, err := NewKubeFromKubeconfig(write(b64(p.CACert)), "dsenv")
	if err != nil {
		t.Fatal(err)
	}
	d, err := k.Authorize(context.Background(), "tok", "create")
	if err != nil || !d.Allowed {
		t.Fatalf("Authorize: %+v %v", d, err)
	}
	want := "system:serviceaccount:dsenv:data-storage"
	if len(seen) != 2 || seen[0] != want || seen[1] != want {
		t.Errorf("client certificates seen %v, want both reviews as %s", seen, want)
	}
	if _, err := NewKubeFromKubeconfig(write(""), "dsenv"); err == nil || !strings.Contains(err.Error(), "certificate-authority-data") {
		t.Errorf("https without a CA: %v, want an error naming certificate-authority-data", err)
	}
}
