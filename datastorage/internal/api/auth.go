package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// Decision is the outcome of checking one request's bearer token.
type Decision struct {
	Authenticated bool   // the token belongs to someone (else 401)
	Allowed       bool   // that identity may do the request (else 403)
	Username      string // the identity, when known

	fixedSet bool // decided by Tokens
}

// Authorizer decides whether a bearer token may do verb (get, create, update, delete) on the
// service. An error means it could not decide (the DS answers 500), with the kind of check
// that failed in an *AuthUnavailableError.
type Authorizer interface {
	Authorize(ctx context.Context, token, verb string) (Decision, error)
}

// AuthUnavailableError is a check that could not be made (the Kubernetes API unreachable or
// answering an error): Step is "Authentication" or "Authorization".
type AuthUnavailableError struct {
	Step string
	Err  error
}

func (e *AuthUnavailableError) Error() string {
	return strings.ToLower(e.Step) + " service unavailable: " + e.Err.Error()
}
func (e *AuthUnavailableError) Unwrap() error { return e.Err }

// Tokens is a fixed set of accepted bearer tokens, each allowed everything (the reference DS
// without a kubeconfig).
type Tokens struct {
	tokens [][]byte
}

// NewTokens copies the accepted tokens; empty ones are ignored.
func NewTokens(tokens []string) *Tokens {
	t := &Tokens{}
	for _, s := range tokens {
		if s != "" {
			t.tokens = append(t.tokens, []byte(s))
		}
	}
	return t
}

// Valid compares tok against every accepted token in constant time.
func (t *Tokens) Valid(tok string) bool {
	ok := 0
	b := []byte(tok)
	for _, want := range t.tokens {
		ok |= subtle.ConstantTimeCompare(b, want)
	}
	return ok == 1
}

// Authorize: a configured token is allowed. Any other is denied (403 "bearer token not
// accepted"), as this mode always answered: a fixed set cannot tell an unknown token from a
// refused one. With a kubeconfig (Kube) an unknown token is 401, as on the real DS.
func (t *Tokens) Authorize(_ context.Context, tok, _ string) (Decision, error) {
	return Decision{Authenticated: true, Allowed: t.Valid(tok), fixedSet: true}, nil
}

// verbOf is the access-check verb of an HTTP method.
func verbOf(method string) string {
	switch method {
	case http.MethodPost:
		return "create"
	case http.MethodPut, http.MethodPatch:
		return "update"
	case http.MethodDelete:
		return "delete"
	}
	return "get"
}

// RequireBearer answers 401 without a bearer token or with one that is not authenticated,
// 403 for an identity the access check denies, and 500 when a check cannot be made (the real
// DS's answers; with Tokens an unknown token is 403).
func RequireBearer(auth Authorizer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="datastorage"`)
			WriteProblem(w, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
			return
		}
		d, err := auth.Authorize(r.Context(), tok, verbOf(r.Method))
		var ue *AuthUnavailableError
		switch {
		case errors.As(err, &ue):
			WriteProblem(w, http.StatusInternalServerError, ue.Step+" service unavailable")
		case err != nil:
			WriteProblem(w, http.StatusInternalServerError, "Authentication service unavailable")
		case !d.Authenticated:
			w.Header().Set("WWW-Authenticate", `Bearer realm="datastorage", error="invalid_token"`)
			WriteProblem(w, http.StatusUnauthorized, "Invalid or expired token")
		case !d.Allowed && d.fixedSet:
			WriteProblem(w, http.StatusForbidden, "bearer token not accepted")
		case !d.Allowed:
			WriteProblem(w, http.StatusForbidden, "Insufficient permissions")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func bearer(h string) (string, bool) {
	scheme, tok, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
