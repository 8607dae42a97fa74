package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/persistent"
	"github.com/dsenv/dsenv/internal/status"
	"github.com/dsenv/dsenv/internal/testenv"
)

// TestCLIKube runs `dsenv up --auth-backend kube` as a person does, in a copy of the
// root with its own environment id: the summary's curl with `$(dsenv output api_token)`
// writes (201), the unbound ServiceAccount's token is refused by RBAC (403), a made-up one
// is 401, a second up changes nothing and mints a new token that works, an up without the
// flag goes back to the stand-in, and down removes everything but the credentials files.
func TestCLIKube(t *testing.T) {
	if testing.Short() {
		t.Skip("applies a real environment")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	for _, img := range []string{"dsenv/etcd:v3.7.3", "dsenv/kube-apiserver:v1.37.2"} {
		if out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", img).CombinedOutput(); err != nil {
			testenv.Missing(t, "image %s missing (run `dsenv setup --with-kube`; make test does): %v: %s", img, err, strings.TrimSpace(string(out)))
		}
	}
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl not on PATH (.ci/run installs it)")
	}
	c := newCLI(ctx, t, "dsenv-clik-")
	eng, root, dsenv, dir, id := c.eng, c.root, c.dsenv, c.dir, c.id

	out, code := run(ctx, root, dsenv, "up", "--dir", dir, "--name", id, "--auth-backend", "kube")
	t.Logf("dsenv up --auth-backend kube: exit %d:\n%s", code, out)
	if code != 0 {
		t.Fatalf("dsenv up --auth-backend kube: exit %d", code)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ ✔ etcd +created · started \d+\.\ds`),
		regexp.MustCompile(`(?m)^ ✔ kube-apiserver +created · started \d+\.\ds`),
		regexp.MustCompile(`(?m)^ ✔ kube bootstrap +\d+\.\ds  tokens valid until \d{4}-\d\d-\d\d `),
		regexp.MustCompile(`(?m)^  Kube API    https://127\.0\.0\.1:\d+ `),
	} {
		if !want.MatchString(out) {
			t.Errorf("dsenv up output has no line matching %s", want)
		}
	}
	for _, name := range []string{persistent.VarsFileName, persistent.KubePKIFileName, persistent.KubeTokensFileName} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v; want 0600", name, fi.Mode().Perm())
		}
	}
	tok1 := kubeTokens(t, dir)
	if strings.Contains(out, tok1.APIToken) || strings.Contains(out, tok1.DeniedToken) || strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("dsenv up printed a token or a private key")
	}

	// `dsenv output api_token` is the gateway's TokenRequest token, for 7 days (the API
	// server did not shorten it), not the stand-in's token of the variables file.
	api := strings.TrimSpace(mustOutput(ctx, t, root, dsenv, "output", "--dir", dir, "api_token"))
	if api != tok1.APIToken {
		t.Errorf("dsenv output api_token is not the token of %s", persistent.KubeTokensFileName)
	}
	if api == readSecrets(t, filepath.Join(dir, persistent.VarsFileName))["api_token"] {
		t.Errorf("dsenv output api_token is the stand-in's token")
	}
	claims := jwtClaims(t, api)
	if claims.Sub != "system:serviceaccount:dsenv:gateway" || time.Duration(claims.Exp-claims.Iat)*time.Second != persistent.KubeTokenTTL {
		t.Errorf("api_token: sub %q, lifetime %s; want system:serviceaccount:dsenv:gateway for %s", claims.Sub, time.Duration(claims.Exp-claims.Iat)*time.Second, persistent.KubeTokenTTL)
	}
	denied := strings.TrimSpace(mustOutput(ctx, t, root, dsenv, "output", "--dir", dir, "denied_token"))
	if denied != tok1.DeniedToken || jwtClaims(t, denied).Sub != "system:serviceaccount:dsenv:denied" {
		t.Errorf("dsenv output denied_token is not the unbound ServiceAccount's token")
	}

	// The summary's write, pasted as printed (with the status code appended): 201, event_id.
	cmds := pasteCommands(out)
	if len(cmds) != 4 || !strings.Contains(cmds[2], "-X POST") || !strings.Contains(cmds[2], "output --dir") {
		t.Fatalf("want 4 commands to paste, the third the curl POST, got %q", cmds)
	}
	got := sh(ctx, t, root, cmds[2]+` -w '\nHTTP %{http_code}'`)
	if !regexp.MustCompile(`"event_id":"[0-9a-f-]{36}"`).MatchString(got) || !strings.HasSuffix(got, "HTTP 201") {
		t.Errorf("pasted POST printed %q; want an event_id and HTTP 201", got)
	}
	// The same request with the unbound ServiceAccount's token, and with a made-up one.
	deniedCmd := strings.Replace(cmds[2], "output --dir "+dir+" api_token", "output --dir "+dir+" denied_token", 1)
	if deniedCmd == cmds[2] {
		t.Fatalf("cannot find the api_token lookup in %q", cmds[2])
	}
	if got := sh(ctx, t, root, deniedCmd+` -w '\nHTTP %{http_code}'`); !strings.HasSuffix(got, "HTTP 403") {
		t.Errorf("POST with the denied_token: %q, want HTTP 403", got)
	}
	madeUp := regexp.MustCompile(`\$\(go run \./cmd/dsenv output [^)]*api_token\)`).ReplaceAllString(cmds[2], "not-a-real-token-"+randomHex(t, 8))
	if got := sh(ctx, t, root, madeUp+` -w '\nHTTP %{http_code}'`); !strings.HasSuffix(got, "HTTP 401") {
		t.Errorf("POST with a made-up token: %q, want HTTP 401", got)
	}

	// status and logs show the two new containers.
	var envs []status.Env
	out, code = run(ctx, root, dsenv, "status", "--json", "--dir", dir)
	if code != 0 || json.Unmarshal([]byte(stdoutPart(out)), &envs) != nil {
		t.Fatalf("dsenv status --json: exit %d\n%s", code, out)
	}
	services := map[string]string{}
	for _, e := range envs {
		if e.ID == id {
			for _, c := range e.Containers {
				services[c.Service] = c.State
			}
		}
	}
	if services["etcd"] != "running" || services["kube-apiserver"] != "running" {
		t.Errorf("dsenv status: containers %v; want etcd and kube-apiserver running", services)
	}
	// Their logs, and in kube-apiserver's the RBAC decision behind the 403.
	out, code = run(ctx, root, dsenv, "logs", "--dir", dir, "kube-apiserver", "etcd")
	for _, want := range []string{"==== " + id + "-kube-apiserver: running", "==== " + id + "-etcd: running",
		`RBAC: no rules authorize user "system:serviceaccount:dsenv:denied"`} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("dsenv logs kube-apiserver etcd: exit %d, no %q in:\n%s", code, want, out)
		}
	}

	// A second up: nothing to change, new tokens, and the new api_token writes.
	out, code = run(ctx, root, dsenv, "up", "--dir", dir, "--auth-backend", "kube")
	t.Logf("second dsenv up --auth-backend kube: exit %d:\n%s", code, out)
	if code != 0 || !regexp.MustCompile(`(?m)^ ✔ terraform plan +\d+\.\ds  no changes$`).MatchString(out) {
		t.Fatalf("second dsenv up: exit %d; want 0 and a plan line saying no changes", code)
	}
	tok2 := kubeTokens(t, dir)
	if tok2.APIToken == tok1.APIToken || tok2.DeniedToken == tok1.DeniedToken || tok2.Expires.Before(tok1.Expires) {
		t.Errorf("second up did not mint new tokens (expiry %s, before %s)", tok2.Expires, tok1.Expires)
	}
	if got := sh(ctx, t, root, cmds[2]+` -w '\nHTTP %{http_code}'`); !strings.HasSuffix(got, "HTTP 201") {
		t.Errorf("POST with the second up's api_token: %q, want HTTP 201", got)
	}

	// An up without the flag goes back to the stand-in: the two containers and the tokens
	// file go, and api_token is the stand-in's again, which the DS accepts.
	out, code = run(ctx, root, dsenv, "up", "--dir", dir)
	t.Logf("dsenv up without --auth-backend: exit %d:\n%s", code, out)
	if code != 0 || !regexp.MustCompile(`(?m)^ ✔ terraform plan +\d+\.\ds  \d+ to add, \d+ to change, [1-9]\d* to destroy$`).MatchString(out) {
		t.Fatalf("dsenv up without --auth-backend: exit %d; want 0 and a plan that destroys", code)
	}
	cs, err := eng.Containers(ctx, label.Env+"="+id)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name == id+"-etcd" || c.Name == id+"-kube-apiserver" {
			t.Errorf("%s still there after an up with the stand-in", c.Name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, persistent.KubeTokensFileName)); !os.IsNotExist(err) {
		t.Errorf("%s after an up with the stand-in: %v; want it removed", persistent.KubeTokensFileName, err)
	}
	if got := strings.TrimSpace(mustOutput(ctx, t, root, dsenv, "output", "--dir", dir, "api_token")); got != readSecrets(t, filepath.Join(dir, persistent.VarsFileName))["api_token"] {
		t.Errorf("api_token after an up with the stand-in is not the stand-in's token")
	}
	// The DS was replaced (its kubeconfig changed), and with it its host ports: the new
	// summary's command.
	if cmds = pasteCommands(out); len(cmds) != 4 {
		t.Fatalf("want 4 commands to paste, got %q", cmds)
	}
	if got := sh(ctx, t, root, cmds[2]+` -w '\nHTTP %{http_code}'`); !strings.HasSuffix(got, "HTTP 201") {
		t.Errorf("POST with the stand-in's api_token: %q, want HTTP 201", got)
	}

	// down: nothing labelled is left, the tokens file goes, the credentials stay.
	out, code = run(ctx, root, dsenv, "down", "--dir", dir)
	t.Logf("dsenv down: exit %d:\n%s", code, out)
	if code != 0 || !strings.Contains(out, persistent.KubePKIFileName) {
		t.Errorf("dsenv down: exit %d; want 0 and the kept files named", code)
	}
	if objs, err := eng.List(ctx, label.Env+"="+id); err != nil || len(objs) != 0 {
		t.Errorf("after dsenv down: %d objects labelled %s (%v)", len(objs), id, err)
	}
	if _, err := os.Stat(filepath.Join(dir, persistent.KubeTokensFileName)); !os.IsNotExist(err) {
		t.Errorf("%s after down: %v; want it removed", persistent.KubeTokensFileName, err)
	}
	for _, name := range []string{persistent.VarsFileName, persistent.KubePKIFileName} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s after down: %v; want it kept", name, err)
		}
	}
	if out, code := run(ctx, root, dsenv, "output", "--dir", dir, "api_token"); code != exitPrereq {
		t.Errorf("dsenv output api_token after down: exit %d, want %d\n%s", code, exitPrereq, out)
	}
}

func kubeTokens(t *testing.T, dir string) persistent.KubeTokens {
	t.Helper()
	tok, err := (&persistent.Persistent{Dir: dir}).KubeTokens()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type claims struct {
	Sub      string `json:"sub"`
	Iat, Exp int64
}

// jwtClaims decodes a token's payload (no verification: kube-apiserver verifies it).
func jwtClaims(t *testing.T, tok string) claims {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token is not a JWT (%d parts)", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c claims
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		t.Fatalf("token payload: %v", err)
	}
	return c
}

// sh runs a pasted command line from dir and returns its stdout.
func sh(ctx context.Context, t *testing.T, dir, line string) string {
	t.Helper()
	c := exec.CommandContext(ctx, "sh", "-c", line)
	c.Dir = dir
	c.Stderr = os.Stderr
	got, err := c.Output()
	if err != nil {
		t.Errorf("$ %s: %v", line, err)
	}
	return strings.TrimSpace(string(got))
}
