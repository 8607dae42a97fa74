// Package podman_test runs dsenv against rootful Podman's Docker-compatible API: an
// environment up and down through tfharness, `dsenv up` twice with an empty second plan,
// the crash path with the reaper, and no leaked container, network, volume, bridge or
// netavark rule. `.ci/run` installs and starts Podman and sets DSENV_PODMAN_TESTS=1; the
// suite runs only then. With that set and Podman's socket missing, every test fails.
package podman_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/kubeapi"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
	"github.com/dsenv/dsenv/internal/ready"
	"github.com/dsenv/dsenv/terraform"
	"github.com/dsenv/dsenv/tests/internal/childproc"
	"github.com/dsenv/dsenv/tests/internal/freeport"
	"github.com/dsenv/dsenv/tests/internal/gateway"
	"github.com/dsenv/dsenv/tfharness"
)

const (
	enableVar = "DSENV_PODMAN_TESTS"
	childVar  = "DSENV_PODMAN_CHILD"
)

var podmanErr error // why Podman cannot be used, when the suite is enabled

func TestMain(m *testing.M) {
	// The Docker child of BenchmarkUpDownBesideDocker stays on the default engine: the
	// engine is chosen once per process.
	if os.Getenv(enableVar) == "1" && os.Getenv(upDownChildVar) != "docker" {
		// The engine is chosen the way a user would: DSENV_ENGINE, no DOCKER_HOST. The
		// harness, its reaper and the docker provider all reach Podman through it.
		os.Unsetenv("DOCKER_HOST")
		os.Setenv("DSENV_ENGINE", "podman")
		podmanErr = checkPodman()
	}
	os.Exit(m.Run())
}

func checkPodman() error {
	if _, err := exec.LookPath("podman"); err != nil {
		return fmt.Errorf("%s=1 but podman is not on PATH (.ci/run installs it)", enableVar)
	}
	sock := strings.TrimPrefix(engine.PodmanSocket, "unix://")
	if st, err := os.Stat(sock); err != nil || st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s=1 but Podman's API socket %s is missing: start `podman system service --time=0 %s &`", enableVar, sock, engine.PodmanSocket)
	}
	d, err := engine.FromEnv()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := d.Version(ctx)
	if err != nil {
		return fmt.Errorf("Podman's API at %s does not answer: %w", engine.PodmanSocket, err)
	}
	if v.Kind != engine.Podman {
		return fmt.Errorf("DSENV_ENGINE=podman reached %s, not Podman", v)
	}
	return nil
}

// needPodman skips unless the suite is enabled, and fails when it is but Podman is not there.
func needPodman(t *testing.T) {
	t.Helper()
	if os.Getenv(enableVar) != "1" {
		t.Skipf("the Podman suite runs under .ci/run, which installs Podman and sets %s=1", enableVar)
	}
	if podmanErr != nil {
		t.Fatal(podmanErr)
	}
}

// podman runs the podman CLI: an independent view of what dsenv did through the API.
func podman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("podman", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// objects lists "kind name" of Podman's containers, networks and volumes with a label filter.
func objects(t *testing.T, filter string) []string {
	t.Helper()
	var out []string
	for _, kind := range []string{"container", "network", "volume"} {
		args := []string{kind, "ls", "--format", "{{.Name}}", "--filter", "label=" + filter}
		if kind == "container" {
			args = []string{"ps", "-a", "--format", "{{.Names}}", "--filter", "label=" + filter}
		}
		for _, name := range strings.Fields(podman(t, args...)) {
			out = append(out, kind+" "+name)
		}
	}
	return out
}

// hostNet is what Podman's networks leave on the host: bridges (podmanN) and netavark's
// firewall rules (chains and rules of NETAVARK-*, with the networks' subnets).
func hostNet(t *testing.T) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	links, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatalf("ip link: %v", err)
	}
	for _, line := range strings.Split(string(links), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], "podman") {
			set["link "+strings.TrimSuffix(strings.SplitN(f[1], "@", 2)[0], ":")] = true
		}
	}
	for _, table := range []string{"filter", "nat"} {
		rules, err := exec.Command("iptables", "-t", table, "-S").Output()
		if err != nil {
			t.Fatalf("iptables -t %s -S: %v", table, err)
		}
		for _, line := range strings.Split(string(rules), "\n") {
			if strings.Contains(line, "NETAVARK") || strings.Contains(line, "podman") {
				set[table+" "+line] = true
			}
		}
	}
	return set
}

// netavarkGlobal is the firewall state netavark 1.4 creates on first use and keeps by
// design (its TeardownPolicy Never, and chains shared by every network): it names no
// network's bridge, subnet or chain, so it is not a leftover of any network. Anything
// else netavark left after a network's teardown is.
var netavarkGlobal = map[string]bool{
	"filter -N NETAVARK_FORWARD":     true,
	"filter -N NETAVARK_ISOLATION_1": true,
	"filter -N NETAVARK_ISOLATION_2": true,
	`filter -A FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD`: true,
	"nat -N NETAVARK-HOSTPORT-DNAT":    true,
	"nat -N NETAVARK-HOSTPORT-MASQ":    true,
	"nat -N NETAVARK-HOSTPORT-SETMARK": true,
	`nat -A NETAVARK-HOSTPORT-MASQ -m comment --comment "netavark portfw masq mark" -m mark --mark 0x2000/0x2000 -j MASQUERADE`: true,
	"nat -A NETAVARK-HOSTPORT-SETMARK -j MARK --set-xmark 0x2000/0x2000":                                                        true,
	"nat -A OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT":                                                      true,
	"nat -A PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT":                                                  true,
	"nat -A POSTROUTING -j NETAVARK-HOSTPORT-MASQ":                                                                              true,
}

// newHostNet is the host network state (hostNet) that was not there before and is not
// netavark's global state: a live network's, or a leftover.
func newHostNet(t *testing.T, before map[string]bool) []string {
	t.Helper()
	var out []string
	for k := range hostNet(t) {
		if !before[k] && !netavarkGlobal[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// noLeaks fails the test when anything labelled filter is left, or the host has bridges or
// netavark rules or chains of a network it did not have before.
func noLeaks(t *testing.T, filter string, before map[string]bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		left := objects(t, filter)
		extra := newHostNet(t, before)
		if len(left) == 0 && len(extra) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind: objects %v; host network state not there before: %v", left, extra)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestEnvUpAndDownThroughTfharness(t *testing.T) {
	needPodman(t)
	before := hostNet(t)
	var id string
	// Registered first, so it runs after the harness's own teardown.
	t.Cleanup(func() { noLeaks(t, label.Env+"="+id, before) })
	t0 := time.Now()
	env := tfharness.New(t)
	id = env.ID
	t.Logf("podman: env %s up in %s: %s", env.ID, time.Since(t0).Round(time.Millisecond), env.Timings)
	defer down(t, env)

	// The leak check sees a live environment's bridge and netavark rules (else it could not fail).
	fresh := newHostNet(t, before)
	if len(fresh) == 0 {
		t.Errorf("no bridge or netavark rule of the live environment is visible: the leak check would see no leak")
	}
	t.Logf("live environment's host network state: %d new entries, e.g. %q", len(fresh), fresh[0:min(2, len(fresh))])

	running := podman(t, "ps", "--format", "{{.Names}}", "--filter", "label="+label.Env+"="+env.ID)
	for _, part := range []string{"postgres", "redis", "datastorage"} {
		if !strings.Contains(running, part) {
			t.Errorf("podman ps does not show the %s container: %q", part, running)
		}
	}
	resp, err := http.Get(strings.TrimRight(env.DataStorage.HealthURL, "/") + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DS not ready on Podman: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, env.DataStorage.URL+"/api/v1/audit/events?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+env.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DS query on Podman: %v %v", resp, err)
	}
	resp.Body.Close()
}

// down tears env down now (the harness's cleanup then does nothing) and logs how long it took.
func down(t *testing.T, env *tfharness.Env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t0 := time.Now()
	if err := env.Down(ctx); err != nil {
		t.Errorf("down: %v", err)
	}
	t.Logf("podman: env %s down in %s", env.ID, time.Since(t0).Round(time.Millisecond))
}

// postEvent writes one audit event with token and returns the DS's status and body.
func postEvent(t *testing.T, env *tfharness.Env, token string) (int, string) {
	t.Helper()
	body, err := json.Marshal([]gateway.Event{gateway.NewEvent(gateway.SignalReceived, gateway.NewCorrelationID("podman"), "Podman", "prod", 1)})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, env.DataStorage.URL+"/api/v1/audit/events/batch", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST batch: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The real Kubernetes API (etcd and kube-apiserver, issue 16) on Podman: the DS reviews
// env.Token with kube-apiserver and RBAC decides; nothing of it is left afterwards.
func TestKubeEnvUpAndDownThroughTfharness(t *testing.T) {
	needPodman(t)
	for _, img := range kubeImages(t) {
		if out, err := exec.Command("podman", "image", "exists", img).CombinedOutput(); err != nil {
			t.Fatalf("image %s is not in Podman's store (.ci/podman loads it from Docker after `dsenv setup --with-kube`): %v %s", img, err, out)
		}
	}
	before := hostNet(t)
	var id string
	t.Cleanup(func() { noLeaks(t, label.Env+"="+id, before) })
	t0 := time.Now()
	env := tfharness.New(t, tfharness.WithAuthBackend(tfharness.AuthKube))
	id = env.ID
	t.Logf("podman: kube env %s up in %s: %s", env.ID, time.Since(t0).Round(time.Millisecond), env.Timings)
	defer down(t, env)

	running := podman(t, "ps", "--format", "{{.Names}}", "--filter", "label="+label.Env+"="+env.ID)
	for _, key := range []string{"kube_api", "etcd"} {
		c, ok := env.Containers[key]
		if !ok || !strings.Contains(running, c.Name) {
			t.Errorf("podman ps does not show the %s container (%q): %q", key, c.Name, running)
		}
	}
	if code, body := postEvent(t, env, env.Token); code != http.StatusCreated {
		t.Errorf("write with the client ServiceAccount's token: %d %s, want 201", code, body)
	}
	if code, body := postEvent(t, env, env.DeniedToken); code != http.StatusForbidden {
		t.Errorf("write with the unbound ServiceAccount's token: %d %s, want 403 (RBAC)", code, body)
	}
}

// kubeImages are the kubeapi module's default images (etcd, kube-apiserver).
func kubeImages(t *testing.T) []string {
	t.Helper()
	b, err := fs.ReadFile(terraform.FS, "modules/kubeapi/variables.tf")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*default\s*=\s*"(dsenv/[a-z-]+:v[0-9.]+)"$`).FindAllSubmatch(b, -1)
	if len(m) != 2 {
		t.Fatalf("modules/kubeapi/variables.tf: want two default images, found %q", m)
	}
	return []string{string(m[0][1]), string(m[1][1])}
}

// dsenvBin builds cmd/dsenv once per test.
func dsenvBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dsenv")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/dsenv").CombinedOutput(); err != nil {
		t.Fatalf("build dsenv: %v\n%s", err, out)
	}
	return bin
}

func TestMakeUpTwicePlansNoChange(t *testing.T) {
	needPodman(t)
	bin := dsenvBin(t)
	// The module tree in a directory of its own: `dsenv up` applies in place.
	root := t.TempDir()
	if err := os.CopyFS(root, terraform.FS); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "env")
	name := fmt.Sprintf("dsenv-podman-%d", os.Getpid())
	before := hostNet(t)
	dsenv := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	t.Cleanup(func() {
		t0 := time.Now()
		if out, err := dsenv("down", "--dir", dir); err != nil {
			t.Errorf("dsenv down: %v\n%s", err, out)
		}
		t.Logf("podman: dsenv down in %s", time.Since(t0).Round(time.Millisecond))
		noLeaks(t, label.Env+"="+name, before)
	})

	t0 := time.Now()
	out, err := dsenv("up", "--dir", dir, "--name", name)
	if err != nil {
		t.Fatalf("first dsenv up: %v\n%s", err, out)
	}
	t.Logf("podman: first dsenv up in %s", time.Since(t0).Round(time.Millisecond))
	out, err = dsenv("up", "--dir", dir, "--name", name)
	if err != nil {
		t.Fatalf("second dsenv up: %v\n%s", err, out)
	}
	// dsenv up's plan line says "no changes" (with --verbose: Terraform's own summary).
	if !regexp.MustCompile(`(?m)terraform plan +\d+\.\ds  no changes$`).MatchString(out) && !strings.Contains(out, "Resources: 0 added, 0 changed, 0 destroyed") {
		t.Errorf("the second dsenv up changed something:\n%s", out)
	}

	plan := exec.Command("terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color")
	plan.Dir = dir
	plan.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+terraformrc(), "DOCKER_HOST="+engine.PodmanSocket)
	if pout, err := plan.CombinedOutput(); err != nil {
		t.Errorf("terraform plan -detailed-exitcode on Podman: %v (exit 2: changes)\n%s", err, pout)
	}
}

// TestChild is the child process of the crash test; run directly it skips.
func TestChild(t *testing.T) {
	if os.Getenv(childVar) == "" {
		t.Skip("helper: runs only as the child process of TestSIGKILLedChildIsReaped")
	}
	needPodman(t)
	env := tfharness.New(t)
	t.Logf("child: env %s up; waiting to be killed", env.ID)
	time.Sleep(5 * time.Minute)
}

func TestSIGKILLedChildIsReaped(t *testing.T) {
	needPodman(t)
	before := hostNet(t)
	c := childproc.Start(t, "TestChild", []string{childVar + "=1"})
	// Kill it once its environment's containers run on Podman.
	c.Until(t, 3*time.Minute, 100*time.Millisecond, "container of the child on Podman", func() bool {
		for _, o := range objects(t, c.Owner()) {
			if strings.HasPrefix(o, "container ") {
				return true
			}
		}
		return false
	})
	c.Kill(t)
	killed := time.Now()
	noLeaks(t, c.Owner(), before)
	t.Logf("podman: everything of the SIGKILLed child gone %s after the kill", time.Since(killed).Round(10*time.Millisecond))
}

// Docker keeps working beside Podman: the image Docker has still runs there.
func TestDockerStillWorksBesidePodman(t *testing.T) {
	needPodman(t)
	cmd := exec.Command("docker", "run", "--rm", "dsenv/redis:7", "redis-server", "--version")
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+engine.DockerSocket)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Redis server v=7") {
		t.Fatalf("docker run beside Podman: %v\n%s", err, out)
	}
}

// Podman's DELETE /networks/<id> answers 204 with containers still attached and leaves
// them on a deleted network; engine.Remove takes them off first.
func TestNetworkRemovalLeavesNoContainerBehind(t *testing.T) {
	needPodman(t)
	before := hostNet(t)
	id := fmt.Sprintf("t-podnet%d", os.Getpid()%100000)
	filter := label.Env + "=" + id
	t.Cleanup(func() { noLeaks(t, filter, before) })
	d, err := engine.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	netID, err := d.CreateNetwork(ctx, id+"-net", map[string]string{label.Env: id})
	if err != nil {
		t.Fatal(err)
	}
	// A container on it that dsenv does not list (no label): only the network knows it.
	podman(t, "run", "-d", "--name", id+"-stray", "--network", id+"-net", "dsenv/redis:7", "sleep", "300")
	if err := d.Remove(ctx, []engine.Object{{Kind: "network", ID: netID, Name: id + "-net"}}); err != nil {
		t.Fatal(err)
	}
	if left := strings.TrimSpace(podman(t, "ps", "-a", "--format", "{{.Names}}", "--filter", "name="+id+"-stray")); left != "" {
		t.Errorf("container %s survived its network's removal", left)
	}
}

// Two ways netavark 1.4 under Podman 4.3 keeps a removed network's rules, both handled by
// engine.Remove:
//   - it deletes the port-forwarding chain (nat NETAVARK-DN-<id>) only when the last
//     container it tears down there publishes a port. Three portless containers beside one
//     that publishes: removed in parallel without an order, the ported one is torn down
//     last one time in four.
//   - a Docker client's look at the network (docker network inspect, as the docker
//     provider does on every refresh) deletes "isolate" from the service's in-memory
//     network, and the teardowns after it keep the NETAVARK_ISOLATION rules: every time.
func TestRemovalLeavesNoNetavarkRule(t *testing.T) {
	needPodman(t)
	before := hostNet(t)
	id := fmt.Sprintf("t-podrules%d", os.Getpid()%100000)
	filter := label.Env + "=" + id
	t.Cleanup(func() { noLeaks(t, filter, before) })
	d, err := engine.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := d.CreateNetwork(ctx, id+"-net", map[string]string{label.Env: id}); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		a := append([]string{"run", "-d", "--name", id + "-" + name, "--network", id + "-net", "--label", filter}, args...)
		podman(t, append(a, "dsenv/redis:7", "sleep", "300")...)
	}
	run("ported", "-p", "127.0.0.1::6379")
	for i := range 3 {
		run(fmt.Sprintf("portless%d", i))
	}
	var chain bool
	for _, k := range newHostNet(t, before) {
		chain = chain || strings.HasPrefix(k, "nat -N NETAVARK-DN-")
	}
	if !chain {
		t.Fatalf("no NETAVARK-DN chain for the published port: the check below could not fail")
	}
	insp := exec.Command("docker", "network", "inspect", id+"-net")
	insp.Env = append(os.Environ(), "DOCKER_HOST="+engine.PodmanSocket)
	if out, err := insp.CombinedOutput(); err != nil {
		t.Fatalf("docker network inspect through Podman's socket: %v\n%s", err, out)
	}
	objs, err := d.List(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctx, objs); err != nil {
		t.Fatal(err)
	}
}

// terraform/envs/shared on Podman with wait_for_healthchecks = false (README, "Podman"):
// the apply returns without the engine's healthchecks, the DS becomes ready, a second plan
// changes nothing, and after the destroy (the volumes taken out of the state first: they
// are prevent_destroy) nothing of it is left.
func TestSharedRootOnPodman(t *testing.T) {
	needPodman(t)
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("../../terraform")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "envs", "shared")
	// No state database here: the local backend, as the root's versions.tf suggests.
	if err := os.WriteFile(filepath.Join(dir, "backend_override.tf"), []byte("terraform {\n  backend \"local\" {}\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("dsenv-podshared-%d", os.Getpid())
	ports := freeport.Ports(t, 5)
	vars := map[string]any{
		"name_prefix":                   prefix,
		"owner":                         "manual@podman-test",
		"created":                       fmt.Sprint(time.Now().Unix()),
		"postgres_host_port":            ports[0],
		"redis_host_port":               ports[1],
		"datastorage_host_port":         ports[2],
		"datastorage_health_host_port":  ports[3],
		"datastorage_metrics_host_port": ports[4],
		"postgres_password":             randomHex(t, 16),
		"redis_password":                randomHex(t, 16),
		"api_token":                     randomHex(t, 24),
		"wait_for_healthchecks":         false,
		"job_logs":                      false,
	}
	b, _ := json.Marshal(vars)
	varFile := filepath.Join(t.TempDir(), "shared.tfvars.json")
	if err := os.WriteFile(varFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tf := func(timeout time.Duration, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "terraform", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+terraformrc(), "DOCKER_HOST="+engine.PodmanSocket, "TF_IN_AUTOMATION=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	before := hostNet(t)
	filter := label.Env + "=" + prefix
	t.Cleanup(func() {
		// prevent_destroy keeps the data volumes: out of the state, then removed by hand.
		if out, err := tf(time.Minute, "state", "rm", "docker_volume.postgres_data", "docker_volume.redis_data"); err != nil {
			t.Logf("terraform state rm: %v\n%s", err, out)
		}
		t0 := time.Now()
		if out, err := tf(5*time.Minute, "destroy", "-auto-approve", "-input=false", "-no-color", "-var-file="+varFile); err != nil {
			t.Errorf("terraform destroy: %v\n%s", err, out)
		}
		t.Logf("podman: shared root destroyed in %s", time.Since(t0).Round(time.Millisecond))
		for _, v := range []string{prefix + "-postgres-data", prefix + "-redis-data"} {
			_, _ = exec.Command("podman", "volume", "rm", "-f", v).CombinedOutput()
		}
		noLeaks(t, filter, before)
	})
	if out, err := tf(3*time.Minute, "init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	t0 := time.Now()
	// Were anything still waiting on a healthcheck, this would hang until its timeout.
	if out, err := tf(4*time.Minute, "apply", "-auto-approve", "-input=false", "-no-color", "-var-file="+varFile); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	t.Logf("podman: shared root applied in %s", time.Since(t0).Round(time.Millisecond))
	probe := ready.Probe{URL: fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[3]), Timeout: 2 * time.Minute, Interval: 200 * time.Millisecond}
	if err := probe.Wait(context.Background()); err != nil {
		t.Fatalf("the shared DS never became ready: %v", err)
	}
	t.Logf("podman: shared DS ready %s after the apply began", time.Since(t0).Round(time.Millisecond))
	if out, err := tf(3*time.Minute, "plan", "-detailed-exitcode", "-input=false", "-no-color", "-var-file="+varFile); err != nil {
		t.Errorf("second plan of envs/shared on Podman: %v (exit 2: changes)\n%s", err, out)
	}
}

// terraformrc is setup's Terraform CLI configuration (the provider's local mirror).
func terraformrc() string {
	dir := os.Getenv("DSENV_CACHE_DIR")
	if dir == "" {
		d, _ := os.UserCacheDir()
		dir = filepath.Join(d, "dsenv")
	}
	return filepath.Join(dir, "terraformrc")
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// The kubeapi module on Podman plans no change a second time (as the env root does, see
// TestMakeUpTwicePlansNoChange): the root tests/kubeapi applies, etcd and kube-apiserver
// on a network of their own, then a label teardown leaves nothing.
func TestKubeAPIModulePlansNoChange(t *testing.T) {
	needPodman(t)
	work := t.TempDir()
	for src, dst := range map[string]string{"modules/network": "modules/network", "modules/kubeapi": "modules/kubeapi"} {
		sub, err := fs.Sub(terraform.FS, src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(filepath.Join(work, dst), sub); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(filepath.Join(work, "root"), os.DirFS("../kubeapi/testdata/root")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "root")
	id := fmt.Sprintf("t-podkube%d", os.Getpid()%100000)
	pki, err := kubeapi.NewPKI(kubeapi.PKIOptions{Hosts: []string{"kube-api"}, Namespace: "dsenv", ServerAccount: "data-storage"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"name":   id,
		"labels": map[string]string{label.Env: id, label.Owner: owner.Current().String(), label.Created: fmt.Sprint(time.Now().Unix())},
		"pki":    pki.Vars(""),
	})
	varFile := filepath.Join(dir, "test.tfvars.json")
	if err := os.WriteFile(varFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tf := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "terraform", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+terraformrc(), "DOCKER_HOST="+engine.PodmanSocket, "TF_IN_AUTOMATION=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	before := hostNet(t)
	filter := label.Env + "=" + id
	t.Cleanup(func() {
		d, err := engine.FromEnv()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		objs, err := d.List(ctx, filter)
		if err == nil {
			err = d.Remove(ctx, objs)
		}
		if err != nil {
			t.Errorf("teardown: %v", err)
		}
		noLeaks(t, filter, before)
	})
	if out, err := tf("init", "-input=false", "-no-color", "-backend=false"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	if out, err := tf("apply", "-auto-approve", "-input=false", "-no-color", "-var-file="+varFile); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	if running := podman(t, "ps", "--format", "{{.Names}}", "--filter", "label="+filter); !strings.Contains(running, "etcd") || !strings.Contains(running, "kube-api") {
		t.Errorf("podman ps does not show etcd and kube-apiserver running: %q", running)
	}
	if out, err := tf("plan", "-detailed-exitcode", "-input=false", "-no-color", "-var-file="+varFile); err != nil {
		t.Errorf("second plan of the kubeapi module on Podman: %v (exit 2: changes)\n%s", err, out)
	}
}
