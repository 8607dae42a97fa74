// Package sharedrun_test runs `go test` on three packages (testdata/a, b, c) that all
// ask for tfharness.Shared(t, "sharedrun") and counts the environments that exist while
// they run: one for the whole run, removed once the run is over, also when one of the
// package processes is killed with SIGKILL in the middle.
package sharedrun_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dsenv/dsenv/tests/internal/labelled"
)

var packages = []string{"./testdata/a", "./testdata/b", "./testdata/c"}

// run is one `go test` of the three packages, watched.
type run struct {
	label string // dsenv.test label of this run's environment
	out   string // where each package writes "<env id> <pid>"
	cmd   *exec.Cmd
	log   bytes.Buffer
	envs  *labelled.Watcher
}

func startRun(t *testing.T, flags []string, vars ...string) *run {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	r := &run{label: "sharedrun-" + hex.EncodeToString(b), out: t.TempDir()}
	t.Cleanup(func() { labelled.Remove(t, "dsenv.test="+r.label) })
	r.envs = labelled.Watch("dsenv.test=" + r.label)
	t.Cleanup(r.envs.Stop)
	args := append(append([]string{"test", "-count=1", "-v"}, flags...), packages...)
	r.cmd = exec.Command("go", args...)
	r.cmd.Env = append(os.Environ(), append([]string{"DSENV_SHAREDRUN_OUT=" + r.out, "DSENV_SHAREDRUN_LABEL=" + r.label}, vars...)...)
	r.cmd.Stdout, r.cmd.Stderr = &r.log, &r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// seen returns the env id each package recorded, and the pids.
func (r *run) seen(t *testing.T) (map[string]string, map[string]int) {
	t.Helper()
	envs, pids := map[string]string{}, map[string]int{}
	for _, p := range []string{"a", "b", "c"} {
		b, err := os.ReadFile(filepath.Join(r.out, p))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) == 2 {
			envs[p] = f[0]
			pids[p], _ = strconv.Atoi(f[1])
		}
	}
	return envs, pids
}

func TestThreePackagesShareOneEnvironment(t *testing.T) {
	r := startRun(t, nil)
	err := r.cmd.Wait()
	t.Logf("go test output:\n%s", r.log.String())
	if err != nil {
		t.Fatalf("go test of the three packages: %v", err)
	}
	for _, p := range []string{"a", "b", "c"} {
		if !strings.Contains(r.log.String(), "ok  \tgithub.com/dsenv/dsenv/tests/sharedrun/testdata/"+p) {
			t.Errorf("package %s did not pass", p)
		}
	}
	envs, _ := r.seen(t)
	if len(envs) != 3 || envs["a"] != envs["b"] || envs["b"] != envs["c"] {
		t.Errorf("packages saw environments %v; want one for all three", envs)
	}
	took := labelled.WaitGone(t, context.Background(), "dsenv.test="+r.label, 2*time.Minute)
	ids, maxLive, polls := r.envs.Result()
	t.Logf("watcher: %d polls, environments seen %v, at most %d at once; gone %s after go test returned", polls, ids, maxLive, took.Round(time.Millisecond))
	if len(ids) != 1 || maxLive != 1 {
		t.Errorf("the watcher saw environments %v (at most %d at once); want exactly one", ids, maxLive)
	}
}

func TestKilledPackageLeavesTheOthersTheirEnvironment(t *testing.T) {
	// -p 1: the packages run one after the other; a (first) is killed while it holds the
	// environment, and b and c must still get the same one.
	r := startRun(t, []string{"-p", "1"}, "DSENV_SHAREDRUN_HANG=a")
	deadline := time.Now().Add(5 * time.Minute)
	var pid int
	for pid == 0 {
		if time.Now().After(deadline) {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
			t.Fatalf("package a never recorded itself:\n%s", r.log.String())
		}
		time.Sleep(200 * time.Millisecond)
		_, pids := r.seen(t)
		pid = pids["a"]
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed package a's process %d", pid)
	err := r.cmd.Wait()
	t.Logf("go test output:\n%s", r.log.String())
	if err == nil {
		t.Error("go test passed although package a was killed")
	}
	for _, p := range []string{"b", "c"} {
		if !strings.Contains(r.log.String(), "ok  \tgithub.com/dsenv/dsenv/tests/sharedrun/testdata/"+p) {
			t.Errorf("package %s did not pass", p)
		}
	}
	if !strings.Contains(r.log.String(), "FAIL\tgithub.com/dsenv/dsenv/tests/sharedrun/testdata/a") {
		t.Error("package a is not reported failed")
	}
	envs, _ := r.seen(t)
	if len(envs) != 3 || envs["a"] != envs["b"] || envs["b"] != envs["c"] {
		t.Errorf("packages saw environments %v; want the one a held for b and c too", envs)
	}
	if before, _, ok := strings.Cut(r.log.String(), "FAIL\tgithub.com/dsenv/dsenv/tests/sharedrun/testdata/a"); ok &&
		strings.Contains(before, "is shared by this run") {
		t.Logf("the killed process a was the one that brought the environment up")
	}
	took := labelled.WaitGone(t, context.Background(), "dsenv.test="+r.label, 2*time.Minute)
	ids, maxLive, polls := r.envs.Result()
	t.Logf("watcher: %d polls, environments seen %v, at most %d at once; gone %s after go test returned", polls, ids, maxLive, took.Round(time.Millisecond))
	if len(ids) != 1 || maxLive != 1 {
		t.Errorf("the watcher saw environments %v (at most %d at once); want exactly one", ids, maxLive)
	}
}

func TestCreatorKilledWhileBringingItUp(t *testing.T) {
	// -p 1: a runs first and is killed as soon as the first container of the environment
	// it is bringing up exists; b must stop a's Terraform, remove what it made and bring
	// up the environment that b and c share.
	r := startRun(t, []string{"-p", "1"})
	deadline := time.Now().Add(5 * time.Minute)
	var pid int
	for {
		if time.Now().After(deadline) {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
			t.Fatalf("package a never started an environment:\n%s", r.log.String())
		}
		time.Sleep(50 * time.Millisecond)
		if pid == 0 {
			b, _ := os.ReadFile(filepath.Join(r.out, "a.pid"))
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			continue
		}
		out, _ := exec.Command("docker", "ps", "-a", "-q", "--filter", "label=dsenv.test="+r.label).Output()
		if len(strings.TrimSpace(string(out))) > 0 {
			break
		}
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed package a's process %d while it brought the environment up", pid)
	err := r.cmd.Wait()
	t.Logf("go test output:\n%s", r.log.String())
	if err == nil {
		t.Error("go test passed although package a was killed")
	}
	for _, p := range []string{"b", "c"} {
		if !strings.Contains(r.log.String(), "ok  \tgithub.com/dsenv/dsenv/tests/sharedrun/testdata/"+p) {
			t.Errorf("package %s did not pass", p)
		}
	}
	envs, _ := r.seen(t)
	if _, ok := envs["a"]; ok || envs["b"] == "" || envs["b"] != envs["c"] {
		t.Errorf("packages saw environments %v; want b and c on one, a on none", envs)
	}
	took := labelled.WaitGone(t, context.Background(), "dsenv.test="+r.label, 2*time.Minute)
	ids, maxLive, polls := r.envs.Result()
	t.Logf("watcher: %d polls, environments seen %v, at most %d at once; gone %s after go test returned", polls, ids, maxLive, took.Round(time.Millisecond))
	if maxLive != 1 || len(ids) > 2 || !slices.Contains(ids, envs["b"]) {
		t.Errorf("the watcher saw environments %v (at most %d at once); want a's half-made one, then b's alone", ids, maxLive)
	}
}
