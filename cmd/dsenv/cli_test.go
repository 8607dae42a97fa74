package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
	"github.com/dsenv/dsenv/internal/persistent"
	"github.com/dsenv/dsenv/internal/status"
	"github.com/dsenv/dsenv/tfharness"
)

// keptHelperEnv makes TestKeptEnvHelper bring up an environment kept with DSENV_KEEP and
// print its id; TestCLI runs it in a subprocess, so the environment outlives its owner.
const keptHelperEnv = "DSENV_CLI_TEST_KEPT_HELPER"

func TestKeptEnvHelper(t *testing.T) {
	if os.Getenv(keptHelperEnv) != "1" {
		t.Skip("helper of TestCLI (runs in its subprocess)")
	}
	env := tfharness.New(t, tfharness.WithKeep(tfharness.KeepAlways), tfharness.WithLabels(map[string]string{"dsenv.test": "cmd/dsenv"}))
	fmt.Printf("KEPT-ENV %s\n", env.ID)
}

// TestCLI runs dsenv as a person does, against real containers: `dsenv up` (its lines,
// and the summary's commands pasted through sh -c), `dsenv logs -f datastorage`, and
// `dsenv status --json` with a `make up`, a kept test and a shared environment.
func TestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("applies real environments")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c := newCLI(ctx, t, "dsenv-clit-")
	eng, root, dsenv, dir, id := c.eng, c.root, c.dsenv, c.dir, c.id

	// The shared environment comes up meanwhile (the kept one right before dsenv status:
	// a sweep by a concurrent test run with another cache directory would not see its mark).
	shared := make(chan result, 1)
	go func() { shared <- startShared(ctx, t, eng, root) }()

	// `dsenv up`, piped: one plain line per step and container, then the summary.
	out, code := run(ctx, root, dsenv, "up", "--dir", dir, "--name", id)
	t.Logf("dsenv up (first, piped): exit %d, %d lines:\n%s", code, lines(out), out)
	if code != 0 {
		t.Fatalf("dsenv up: exit %d", code)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ ✔ terraform init +\d+\.\ds$`),
		regexp.MustCompile(`(?m)^ ✔ terraform apply +\d+\.\ds  \d+ added, 0 changed, 0 destroyed$`),
		regexp.MustCompile(`(?m)^ ✔ postgres +created · started \d+\.\ds · healthy \d+\.\ds$`),
		regexp.MustCompile(`(?m)^ ✔ datastorage +created · started \d+\.\ds · healthy \d+\.\ds$`),
		regexp.MustCompile(`(?m)^ ✔ migrate +created · started \d+\.\ds · completed \d+\.\ds$`),
	} {
		if !want.MatchString(out) {
			t.Errorf("dsenv up output has no line matching %s", want)
		}
	}
	if strings.Contains(out, "Terraform has been successfully initialized") || strings.Contains(out, "Plan:") {
		t.Errorf("dsenv up without --verbose printed Terraform's own output")
	}
	secrets := readSecrets(t, filepath.Join(dir, persistent.VarsFileName))
	for name, v := range secrets {
		if strings.Contains(out, v) {
			t.Errorf("dsenv up printed the value of %s", name)
		}
	}

	// Must show 1: the summary's commands run as printed, from the repository root.
	cmds := pasteCommands(out)
	if len(cmds) != 4 {
		t.Fatalf("want 4 commands to paste in the summary, got %d: %q", len(cmds), cmds)
	}
	for i, want := range []string{`(?s)count.*\b[0-9]+\b.*\(1 row\)`, `^PONG\n$`, `"event_id":"[0-9a-f-]{36}"`, `"correlation_id":"rr-dsenv-try".*"total":[1-9]`} {
		tool := strings.Fields(cmds[i])[0]
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not on PATH (.ci/run installs it)", tool)
			}
			t.Logf("skipping the pasted %s command: %s not on PATH (under CI=true this fails)", tool, tool)
			continue
		}
		c := exec.CommandContext(ctx, "sh", "-c", cmds[i])
		c.Dir = root
		got, err := c.Output()
		t.Logf("$ %s\n%s", cmds[i], got)
		if err != nil {
			t.Errorf("pasted command %d failed: %v", i+1, err)
			continue
		}
		if !regexp.MustCompile(want).Match(got) {
			t.Errorf("pasted command %d printed %q, want a match of %s", i+1, got, want)
		}
	}

	// A warm up, then with log_level debug (the DS logs each request): the DS is replaced.
	out, code = run(ctx, root, dsenv, "up", "--dir", dir)
	t.Logf("dsenv up (warm, piped): exit %d, %d lines:\n%s", code, lines(out), out)
	// (Not necessarily "no changes": another process may have rebuilt a shared image.)
	if code != 0 || !regexp.MustCompile(`(?m)^ ✔ terraform plan +\d+\.\ds  `).MatchString(out) {
		t.Fatalf("warm dsenv up: exit %d, want 0 and a plan line", code)
	}
	f, err := os.OpenFile(filepath.Join(dir, persistent.VarsFileName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, `log_level = "debug"`)
	f.Close()
	out, code = run(ctx, root, dsenv, "up", "--dir", dir)
	t.Logf("dsenv up (log_level debug, piped): exit %d:\n%s", code, out)
	if code != 0 || !regexp.MustCompile(`(?m)^ ✔ datastorage +created · started \d+\.\ds · healthy`).MatchString(out) {
		t.Fatalf("dsenv up after the log level change: exit %d, want 0 and the DS re-created", code)
	}

	// Must show 4: `dsenv logs -f datastorage` shows the line the DS logs for a request
	// sent while it follows.
	t.Run("logs -f", func(t *testing.T) { checkLogsFollow(ctx, t, root, dsenv, dir) })

	// Must show 3: dsenv status --json with the three environments.
	k := startKept(ctx)
	if k.err != nil {
		t.Fatalf("kept environment: %v", k.err)
	}
	t.Cleanup(func() { removeLabelled(t, eng, label.Env+"="+k.id) })
	sh := <-shared
	if sh.err != nil {
		t.Fatalf("shared environment: %v", sh.err)
	}
	// Poll: a just-made environment may still be passing its first Docker healthchecks.
	var byID map[string]status.Env
	for deadline := time.Now().Add(2 * time.Minute); ; {
		out, code = run(ctx, root, dsenv, "status", "--json", "--dir", dir)
		if code != 0 {
			t.Fatalf("dsenv status --json: exit %d\n%s", code, out)
		}
		var envs []status.Env
		if err := json.Unmarshal([]byte(stdoutPart(out)), &envs); err != nil {
			t.Fatalf("dsenv status --json: %v\n%s", err, out)
		}
		byID = map[string]status.Env{}
		for _, e := range envs {
			byID[e.ID] = e
		}
		if byID[id].Health == "healthy" && byID[k.id].Health == "healthy" && byID[sh.id].Health == "healthy" || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	manual := owner.Manual().String()
	for _, want := range []struct {
		id, kind, owner string
		alive, here     bool
		reason          string
	}{
		{id, status.KindUp, manual, false, true, "persistent"},
		{k.id, status.KindKept, fmt.Sprintf("%d@%s", k.pid, owner.Hostname()), false, false, "kept with DSENV_KEEP"},
		{sh.id, status.KindShared, manual, false, false, "persistent"},
	} {
		e, ok := byID[want.id]
		if !ok {
			t.Errorf("dsenv status --json does not list %s", want.id)
			continue
		}
		t.Logf("%s: kind %s, owner %s (alive %v), age %s, health %s, %d containers, sweep %+v", e.ID, e.Kind, e.Owner, e.OwnerAlive, e.Age, e.Health, len(e.Containers), e.Sweep)
		if e.Kind != want.kind || e.Owner != want.owner || e.OwnerAlive != want.alive || e.Here != want.here {
			t.Errorf("%s: kind %q owner %q alive %v here %v; want %q %q %v %v", e.ID, e.Kind, e.Owner, e.OwnerAlive, e.Here, want.kind, want.owner, want.alive, want.here)
		}
		if e.Health != "healthy" {
			t.Errorf("%s: health %q, want healthy: %+v", e.ID, e.Health, e.Containers)
		}
		services := map[string]status.Container{}
		for _, c := range e.Containers {
			services[c.Service] = c
		}
		for _, svc := range []string{"postgres", "redis", "datastorage"} {
			if c := services[svc]; c.State != "running" || c.Health != "healthy" {
				t.Errorf("%s: %s is %q/%q, want running/healthy", e.ID, svc, c.State, c.Health)
			}
		}
		if m := services["migrate"]; m.State != "exited" || m.ExitCode != 0 {
			t.Errorf("%s: migrate is %q exit %d, want exited 0", e.ID, m.State, m.ExitCode)
		}
		if e.Sweep.Remove || !strings.Contains(e.Sweep.Reason, want.reason) {
			t.Errorf("%s: sweep would %+v; want keep (%s)", e.ID, e.Sweep, want.reason)
		}
	}
	table, _ := run(ctx, root, dsenv, "status", "--dir", dir)
	t.Logf("dsenv status:\n%s", table)

	// dsenv down; then a failing up, and output says what to do, in one line, with exit 3.
	if out, code := run(ctx, root, dsenv, "down", "--dir", dir); code != 0 {
		t.Errorf("dsenv down: exit %d\n%s", code, out)
	}
	// A failing up shows Terraform's Error: block (not its plan) and one line saying what to do.
	varsFile := filepath.Join(dir, persistent.VarsFileName)
	vars, err := os.ReadFile(varsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(varsFile, bytes.Replace(vars, []byte(`log_level = "debug"`), []byte(`log_level = "bogus"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code = run(ctx, root, dsenv, "up", "--dir", dir)
	t.Logf("dsenv up with log_level bogus: exit %d:\n%s", code, out)
	last := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitFailure || !strings.Contains(out, "Error: Invalid value for variable") || !strings.Contains(out, "log_level must be one of") ||
		strings.Contains(out, "Terraform will perform") || !strings.HasPrefix(last[len(last)-1], "dsenv up: terraform ") {
		t.Errorf("failing dsenv up: exit %d; want exit %d, Terraform's Error: block, no plan, and a last line saying what to do", code, exitFailure)
	}

	out, code = run(ctx, root, dsenv, "output", "--dir", dir, "postgres_dsn")
	if code != exitPrereq || lines(out) != 1 || !strings.Contains(out, "run `make up` first") {
		t.Errorf("dsenv output after down: exit %d, %q; want exit %d and one line saying to run make up", code, out, exitPrereq)
	}
}

func checkLogsFollow(ctx context.Context, t *testing.T, root, dsenv, dir string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	url := strings.TrimSpace(mustOutput(ctx, t, root, dsenv, "output", "--dir", dir, "datastorage_url"))
	marker := "/api/v1/dsenv-follow-" + randomHex(t, 4)
	c := exec.CommandContext(ctx, dsenv, "logs", "-f", "--tail", "0", "--dir", dir, "datastorage")
	c.Dir = root
	pr, pw := io.Pipe()
	c.Stdout = pw
	c.Stderr = os.Stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = c.Wait() }()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), marker) {
				found <- sc.Text()
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	// Requests until the follower shows one: the first may come before it subscribed.
	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := http.Get(url + marker); err == nil {
			resp.Body.Close()
		}
		select {
		case line := <-found:
			t.Logf("dsenv logs -f datastorage: %s", line)
			if !strings.HasPrefix(line, "datastorage | ") || !strings.Contains(line, `"msg":"request"`) {
				t.Errorf("followed line %q: want the prefix \"datastorage | \" and the DS's request log", line)
			}
			return
		case <-deadline:
			t.Fatalf("dsenv logs -f datastorage showed no line for %s within 2 minutes", marker)
		case <-tick.C:
		}
	}
}

type result struct {
	id  string
	pid int
	err error
}

// startKept runs TestKeptEnvHelper in a subprocess: its environment stays, marked kept,
// after the process is gone.
func startKept(ctx context.Context) result {
	c := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestKeptEnvHelper$", "-test.v")
	c.Env = append(os.Environ(), keptHelperEnv+"=1", "DSENV_KEEP=")
	out, err := c.CombinedOutput()
	m := regexp.MustCompile(`(?m)^KEPT-ENV (\S+)$`).FindSubmatch(out)
	if err != nil || m == nil {
		return result{err: fmt.Errorf("helper: %v\n%s", err, out)}
	}
	return result{id: string(m[1]), pid: c.Process.Pid}
}

// startShared applies terraform/envs/shared from a copy, with its own state and free
// ports, as tests/shared does; the cleanup removes everything labelled with its id.
func startShared(ctx context.Context, t *testing.T, eng *engine.Client, root string) result {
	id := "dsenv-clish-" + randomHex(t, 3)
	t.Cleanup(func() { removeLabelled(t, eng, label.Env+"="+id) })
	work := t.TempDir()
	copyTerraform(t, filepath.Join(root, "terraform"), filepath.Join(work, "terraform"))
	dir := filepath.Join(work, "terraform", "envs", "shared")
	// Its state stays beside it, not in the pg backend a real shared environment uses.
	if err := os.WriteFile(filepath.Join(dir, "backend_override.tf"), []byte("terraform {\n  backend \"local\" {}\n}\n"), 0o600); err != nil {
		return result{err: err}
	}
	cacheDir, err := cache.Dir()
	if err != nil {
		return result{err: err}
	}
	execPath, err := exec.LookPath("terraform")
	if err != nil {
		return result{err: err}
	}
	ports, err := freePorts(5)
	if err != nil {
		return result{err: err}
	}
	vars := map[string]any{
		"name_prefix": id, "owner": owner.Manual().String(), "created": fmt.Sprint(time.Now().Unix()),
		"labels":             map[string]string{"dsenv.test": "cmd/dsenv"},
		"postgres_host_port": ports[0], "redis_host_port": ports[1], "datastorage_host_port": ports[2],
		"datastorage_health_host_port": ports[3], "datastorage_metrics_host_port": ports[4],
		"postgres_password": randomHex(t, 16), "redis_password": randomHex(t, 16), "api_token": randomHex(t, 24),
	}
	data, _ := json.Marshal(vars)
	varsFile := filepath.Join(t.TempDir(), "shared.tfvars.json")
	if err := os.WriteFile(varsFile, data, 0o600); err != nil {
		return result{err: err}
	}
	tf, err := tfexec.NewTerraform(dir, execPath)
	if err != nil {
		return result{err: err}
	}
	if err := tf.Init(ctx, tfexec.PluginDir(cache.ProviderMirror(cacheDir))); err != nil {
		return result{err: fmt.Errorf("init: %w", err)}
	}
	if err := tf.Apply(ctx, tfexec.VarFile(varsFile)); err != nil {
		return result{err: fmt.Errorf("apply: %w", err)}
	}
	return result{id: id}
}

func removeLabelled(t *testing.T, eng *engine.Client, term string) {
	ctx := context.Background()
	objs, err := eng.List(ctx, term)
	if err == nil {
		err = eng.Remove(ctx, objs)
	}
	if err != nil {
		t.Errorf("remove objects labelled %s: %v", term, err)
	}
	if env, ok := strings.CutPrefix(term, label.Env+"="); ok {
		_ = os.Remove(filepath.Join(must(cache.Dir()), "kept", env))
	}
}

func must(s string, _ error) string { return s }

// run runs dsenv in dir and returns its stdout followed by its stderr, and its exit code.
func run(ctx context.Context, dir, dsenv string, args ...string) (string, int) {
	c := exec.CommandContext(ctx, dsenv, args...)
	c.Dir = dir
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	out := stdout.String()
	if stderr.Len() > 0 {
		out += stderrMark + stderr.String()
	}
	return out, code
}

const stderrMark = "--- stderr ---\n"

func stdoutPart(out string) string { s, _, _ := strings.Cut(out, stderrMark); return s }

func mustOutput(ctx context.Context, t *testing.T, dir, dsenv string, args ...string) string {
	out, code := run(ctx, dir, dsenv, args...)
	if code != 0 {
		t.Fatalf("dsenv %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return stdoutPart(out)
}

func lines(s string) int { return strings.Count(strings.Replace(s, stderrMark, "", 1), "\n") }

// pasteCommands are the indented lines after the summary's "Paste ..." heading.
func pasteCommands(out string) []string {
	var cmds []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "Paste from the repository root"):
			in = true
		case in && strings.HasPrefix(l, "  "):
			cmds = append(cmds, strings.TrimSpace(l))
		case in:
			return cmds
		}
	}
	return cmds
}

var secretLine = regexp.MustCompile(`(?m)^(postgres_password|redis_password|api_token)\s*=\s*"([^"]+)"`)

func readSecrets(t *testing.T, path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, s := range secretLine.FindAllSubmatch(b, -1) {
		m[string(s[1])] = string(s[2])
	}
	if len(m) != 3 {
		t.Fatalf("%s: want 3 secrets, found %d", path, len(m))
	}
	return m
}

func repoRoot(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd)) // cmd/dsenv
}

// copyTerraform copies the modules and root modules, without state, .terraform, variables
// or tokens files.
func copyTerraform(t *testing.T, src, dst string) {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		name := d.Name()
		if strings.HasPrefix(name, ".terraform") && name != ".terraform.lock.hcl" || strings.HasPrefix(name, "terraform.tfstate") ||
			strings.HasSuffix(name, ".auto.tfvars") || strings.HasSuffix(name, ".auto.tfvars.json") || name == persistent.KubeTokensFileName || name == "tests" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// cli is what a CLI test runs in: dsenv built from this checkout, a copy of the Terraform
// tree with its own environment id, and the engine, whose objects of that id are removed at
// the end.
type cli struct {
	eng   *engine.Client
	root  string // the repository (commands run there, as pasted from the summary)
	dsenv string // the built binary
	dir   string // the copy's terraform/env
	id    string
}

func newCLI(ctx context.Context, t *testing.T, idPrefix string) cli {
	t.Helper()
	eng, err := engine.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Ping(ctx); err != nil {
		t.Fatalf("%v (the test needs Docker)", err)
	}
	c := cli{eng: eng, root: repoRoot(t), dsenv: filepath.Join(t.TempDir(), "dsenv"), id: idPrefix + randomHex(t, 3)}
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", c.dsenv, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	copyTerraform(t, filepath.Join(c.root, "terraform"), filepath.Join(work, "terraform"))
	c.dir = filepath.Join(work, "terraform", "env")
	t.Cleanup(func() { removeLabelled(t, eng, label.Env+"="+c.id) })
	return c
}
