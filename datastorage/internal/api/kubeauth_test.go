package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/dsenv/dsenv/authstandin/review"
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
