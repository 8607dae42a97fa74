// Package review answers the two Kubernetes review calls a Data Storage service makes for every
// authenticated request: TokenReview (who is this bearer token?) and SubjectAccessReview (may
// that user do this verb on the DS's Service?). The answers come from a tokens file, not from a
// cluster: see authstandin/README.md for its format and for what `allow` grants.
package review

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultService is the Service name the DS names in every access check.
const DefaultService = "data-storage-service"

// File is the tokens file as written (YAML, or JSON, which the module renders).
type File struct {
	// Namespace is the namespace the DS checks access in (its POD_NAMESPACE).
	Namespace string `yaml:"namespace" json:"namespace"`
	// Service is the Service name the DS checks access to; default data-storage-service.
	Service string  `yaml:"service,omitempty" json:"service,omitempty"`
	Tokens  []Entry `yaml:"tokens" json:"tokens"`
}

// Entry is one bearer token and the identity it authenticates as.
type Entry struct {
	Token    string   `yaml:"token" json:"token"`
	Username string   `yaml:"username" json:"username"`
	Groups   []string `yaml:"groups,omitempty" json:"groups,omitempty"`
	// Allow grants every verb on the configured Service in the configured namespace.
	// false: the token authenticates, but every access check for its user is denied.
	Allow bool `yaml:"allow" json:"allow"`
}

// Identity is what a TokenReview answers for a known token.
type Identity struct {
	Username string
	Groups   []string
	Allow    bool
}

// Policy decides reviews. It is immutable once built and safe for concurrent use.
type Policy struct {
	namespace string
	service   string
	byToken   map[string]Identity
	byUser    map[string]Identity
}

var (
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	saUser   = regexp.MustCompile(`^system:serviceaccount:([^:]+):([^:]+)$`)
)

// LoadFile reads and checks a tokens file. Errors name the file and the entry, never a token.
func LoadFile(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	return p, nil
}

// Parse decodes a tokens file (JSON when it is valid JSON, else YAML; unknown keys are errors,
// so a misspelt `allow` cannot silently deny) and builds its policy.
func Parse(b []byte) (*Policy, error) {
	var f File
	trimmed := bytes.TrimSpace(b)
	if json.Valid(trimmed) {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("decode JSON: %w", err)
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(trimmed))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("decode YAML: %w", err)
		}
	}
	return New(f)
}

// New checks f and builds its policy.
func New(f File) (*Policy, error) {
	if !dnsLabel.MatchString(f.Namespace) {
		return nil, fmt.Errorf("namespace %q must be a DNS label (the DS's POD_NAMESPACE, e.g. \"dsenv\")", f.Namespace)
	}
	if f.Service == "" {
		f.Service = DefaultService
	}
	if !dnsLabel.MatchString(f.Service) {
		return nil, fmt.Errorf("service %q must be a DNS label such as %q", f.Service, DefaultService)
	}
	if len(f.Tokens) == 0 {
		return nil, errors.New("tokens: at least one entry is needed")
	}
	p := &Policy{
		namespace: f.Namespace,
		service:   f.Service,
		byToken:   make(map[string]Identity, len(f.Tokens)),
		byUser:    make(map[string]Identity, len(f.Tokens)),
	}
	for i, e := range f.Tokens {
		switch {
		case e.Token == "":
			return nil, fmt.Errorf("tokens[%d] (%s): token is empty", i, e.Username)
		case strings.ContainsAny(e.Token, " \t\r\n"):
			return nil, fmt.Errorf("tokens[%d] (%s): token contains whitespace", i, e.Username)
		case e.Username == "":
			return nil, fmt.Errorf("tokens[%d]: username is empty (the DS answers 500 for an empty username)", i)
		}
		if _, dup := p.byToken[e.Token]; dup {
			return nil, fmt.Errorf("tokens[%d] (%s): the same token is listed twice", i, e.Username)
		}
		if _, dup := p.byUser[e.Username]; dup {
			return nil, fmt.Errorf("tokens[%d]: username %s is listed twice (access is decided per username)", i, e.Username)
		}
		id := Identity{Username: e.Username, Groups: e.Groups, Allow: e.Allow}
		if len(id.Groups) == 0 {
			id.Groups = defaultGroups(e.Username)
		}
		p.byToken[e.Token] = id
		p.byUser[e.Username] = id
	}
	return p, nil
}

// defaultGroups are the groups the API server gives a user: a service account's three, else
// system:authenticated.
func defaultGroups(username string) []string {
	if m := saUser.FindStringSubmatch(username); m != nil {
		return []string{"system:serviceaccounts", "system:serviceaccounts:" + m[1], "system:authenticated"}
	}
	return []string{"system:authenticated"}
}

// Namespace is the namespace whose access checks `allow` grants.
func (p *Policy) Namespace() string { return p.namespace }

// Service is the Service name whose access checks `allow` grants.
func (p *Policy) Service() string { return p.service }

// Authenticate returns the identity of a known token.
func (p *Policy) Authenticate(token string) (Identity, bool) {
	id, ok := p.byToken[token]
	return id, ok
}

// Access is the subset of a SubjectAccessReview's resourceAttributes a decision looks at.
type Access struct {
	Namespace, Group, Resource, Subresource, Name, Verb string
}

// Authorize decides whether user may do a.Verb on the resource a names. Allowed: a user whose
// entry has allow: true, for any verb on services/<service> (no subresource) in <namespace>,
// core group. Everything else is denied, with a reason that says which part did not match.
func (p *Policy) Authorize(user string, a Access) (allowed bool, reason string) {
	id, ok := p.byUser[user]
	switch {
	case !ok:
		return false, fmt.Sprintf("user %q is not in the stand-in's tokens file", user)
	case !id.Allow:
		return false, fmt.Sprintf("user %q is denied every access check (allow: false)", user)
	case a.Verb == "":
		return false, "no verb"
	case a.Group != "" || a.Resource != "services" || a.Subresource != "":
		return false, fmt.Sprintf("only services (core group) are granted, not %s", resourceString(a))
	case a.Namespace != p.namespace:
		return false, fmt.Sprintf("only namespace %q is granted, not %q", p.namespace, a.Namespace)
	case a.Name != p.service:
		return false, fmt.Sprintf("only service %q is granted, not %q", p.service, a.Name)
	}
	return true, fmt.Sprintf("allow: true grants every verb on services/%s in %s", p.service, p.namespace)
}

func resourceString(a Access) string {
	r := a.Resource
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	if a.Group != "" {
		r += "." + a.Group
	}
	if r == "" {
		return "an empty resource"
	}
	return r
}
