package review_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/authstandin/review"
)

const tokensYAML = `
namespace: dsenv
tokens:
  - token: tok-allowed-3f9a
    username: system:serviceaccount:dsenv:gateway
    allow: true
  - token: tok-denied-77c1
    username: system:serviceaccount:dsenv:denied
    allow: false
  - token: tok-person-01
    username: alice
    groups: [developers]
    allow: true
`

func mustPolicy(t testing.TB) *review.Policy {
	t.Helper()
	p, err := review.Parse([]byte(tokensYAML))
	require.NoError(t, err)
	return p
}

func TestParseReadsYAMLAndJSONAlike(t *testing.T) {
	js := `{"namespace":"dsenv","service":"data-storage-service","tokens":[
	  {"token":"tok-allowed-3f9a","username":"system:serviceaccount:dsenv:gateway","allow":true}]}`
	for name, src := range map[string]string{"yaml": tokensYAML, "json": js} {
		t.Run(name, func(t *testing.T) {
			p, err := review.Parse([]byte(src))
			require.NoError(t, err)
			assert.Equal(t, "dsenv", p.Namespace())
			assert.Equal(t, review.DefaultService, p.Service())
			id, ok := p.Authenticate("tok-allowed-3f9a")
			require.True(t, ok)
			assert.Equal(t, "system:serviceaccount:dsenv:gateway", id.Username)
			assert.True(t, id.Allow)
		})
	}
}

func TestServiceAccountsGetTheAPIServersGroups(t *testing.T) {
	p := mustPolicy(t)
	id, ok := p.Authenticate("tok-denied-77c1")
	require.True(t, ok)
	assert.Equal(t, []string{"system:serviceaccounts", "system:serviceaccounts:dsenv", "system:authenticated"}, id.Groups)

	id, ok = p.Authenticate("tok-person-01")
	require.True(t, ok)
	assert.Equal(t, []string{"developers"}, id.Groups, "groups given in the file are kept")
}

func TestParseRefusesFilesThatWouldMisbehave(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{"no namespace", `tokens: [{token: a, username: u, allow: true}]`, "namespace"},
		{"bad namespace", `{namespace: Dsenv_1, tokens: [{token: a, username: u}]}`, "namespace"},
		{"no tokens", `namespace: dsenv`, "at least one entry"},
		{"empty token", `{namespace: dsenv, tokens: [{token: "", username: u}]}`, "token is empty"},
		{"token with space", `{namespace: dsenv, tokens: [{token: "a b", username: u}]}`, "whitespace"},
		{"empty username", `{namespace: dsenv, tokens: [{token: a, username: ""}]}`, "username is empty"},
		{"duplicate token", `{namespace: dsenv, tokens: [{token: a, username: u}, {token: a, username: v}]}`, "listed twice"},
		{"duplicate username", `{namespace: dsenv, tokens: [{token: a, username: u}, {token: b, username: u}]}`, "listed twice"},
		{"misspelt key (yaml)", `{namespace: dsenv, tokens: [{token: a, username: u, allowed: true}]}`, "allowed"},
		{"misspelt key (json)", `{"namespace":"dsenv","tokens":[{"token":"a","username":"u","alow":true}]}`, "alow"},
		{"bad service", `{namespace: dsenv, service: "Data Storage", tokens: [{token: a, username: u}]}`, "service"},
		{"not a document", `[1, 2`, "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := review.Parse([]byte(tt.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestParseErrorsNeverShowTheToken(t *testing.T) {
	_, err := review.Parse([]byte(`{namespace: dsenv, tokens: [{token: secret-tok-1, username: u}, {token: secret-tok-1, username: v}]}`))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret-tok-1")
}

func TestAllowGrantsEveryVerbOnTheServiceOnly(t *testing.T) {
	p := mustPolicy(t)
	const gw = "system:serviceaccount:dsenv:gateway"
	ds := review.Access{Namespace: "dsenv", Resource: "services", Name: "data-storage-service"}
	with := func(f func(*review.Access)) review.Access { a := ds; f(&a); return a }
	tests := []struct {
		name    string
		user    string
		access  review.Access
		allowed bool
		reason  string
	}{
		{"create", gw, with(func(a *review.Access) { a.Verb = "create" }), true, "grants"},
		{"get", gw, with(func(a *review.Access) { a.Verb = "get" }), true, "grants"},
		{"update (legal hold)", gw, with(func(a *review.Access) { a.Verb = "update" }), true, "grants"},
		{"another namespace", gw, with(func(a *review.Access) { a.Verb = "get"; a.Namespace = "default" }), false, "namespace"},
		{"another service", gw, with(func(a *review.Access) { a.Verb = "get"; a.Name = "other" }), false, "service"},
		{"every service", gw, with(func(a *review.Access) { a.Verb = "list"; a.Name = "" }), false, "service"},
		{"another resource", gw, with(func(a *review.Access) { a.Verb = "get"; a.Resource = "pods" }), false, "pods"},
		{"another group", gw, with(func(a *review.Access) { a.Verb = "get"; a.Group = "apps" }), false, "services.apps"},
		{"a subresource", gw, with(func(a *review.Access) { a.Verb = "get"; a.Subresource = "proxy" }), false, "services/proxy"},
		{"no verb", gw, ds, false, "no verb"},
		{"denied identity", "system:serviceaccount:dsenv:denied", with(func(a *review.Access) { a.Verb = "create" }), false, "denied every access check"},
		{"unknown user", "system:serviceaccount:dsenv:nobody", with(func(a *review.Access) { a.Verb = "create" }), false, "not in the stand-in's tokens file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowed, reason := p.Authorize(tt.user, tt.access)
			assert.Equal(t, tt.allowed, allowed)
			assert.Contains(t, reason, tt.reason)
		})
	}
}
