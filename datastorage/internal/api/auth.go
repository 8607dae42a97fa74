package api

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Tokens is the set of accepted bearer tokens.
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

// RequireBearer answers 401 without a bearer token and 403 for an unknown one.
func RequireBearer(tokens *Tokens, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="datastorage"`)
			WriteProblem(w, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
			return
		}
		if !tokens.Valid(tok) {
			WriteProblem(w, http.StatusForbidden, "bearer token not accepted")
			return
		}
		next.ServeHTTP(w, r)
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
