// Package driver_test runs the Ginkgo suite of tests/ginkgo with the Ginkgo CLI in four
// processes, as a user does, and watches it from outside: one environment while it
// runs and nothing afterwards; SIGINT to the CLI in the middle (Ginkgo's interrupt
// report, then the AfterSuite removes the environment); SIGKILL of process 1 (its
// reaper removes the environment).
package driver_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dsenv/dsenv/tests/internal/childproc"
	"github.com/dsenv/dsenv/tests/internal/labelled"
)

var (
	ginkgoOnce sync.Once
	ginkgoBin  string
	ginkgoErr  error
)

// ginkgoCLI builds the Ginkgo CLI of go.mod's version once per test binary.
func ginkgoCLI(t *testing.T) string {
	t.Helper()
	ginkgoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dsenv-ginkgo-cli-")
		if err != nil {
			ginkgoErr = err
			return
		}
		ginkgoBin = filepath.Join(dir, "ginkgo")
		if out, err := exec.Command("go", "build", "-o", ginkgoBin, "github.com/onsi/ginkgo/v2/ginkgo").CombinedOutput(); err != nil {
			ginkgoErr = err
			t.Logf("go build ginkgo: %s", out)
		}
	})
	if ginkgoErr != nil {
		t.Fatalf("build the Ginkgo CLI: %v", ginkgoErr)
	}
	return ginkgoBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if ginkgoBin != "" {
		os.RemoveAll(filepath.Dir(ginkgoBin))
	}
	os.Exit(code)
}

// suiteRun is one run of the suite under the CLI.
type suiteRun struct {
	label, out string
	cmd        *exec.Cmd
	log        childproc.Buffer
	envs       *labelled.Watcher
	done       chan error
}

func startSuite(t *testing.T, hold bool) *suiteRun {
	t.Helper()
	cli := ginkgoCLI(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	r := &suiteRun{label: "ginkgo-" + hex.EncodeToString(b), out: t.TempDir(), done: make(chan error, 1)}
	t.Cleanup(func() { labelled.Remove(t, "dsenv.test="+r.label) })
	r.envs = labelled.Watch("dsenv.test=" + r.label)
	t.Cleanup(r.envs.Stop)
	r.cmd = exec.Command(cli, "-p", "--procs", "4", "-v", "--no-color", "--timeout", "10m", "..")
	r.cmd.Env = append(os.Environ(), "DSENV_GINKGO_LABEL="+r.label, "DSENV_GINKGO_OUT="+r.out)
	if hold {
		r.cmd.Env = append(r.cmd.Env, "DSENV_GINKGO_HOLD=1")
	}
	r.cmd.Stdout, r.cmd.Stderr = &r.log, &r.log
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group: the cleanup ends every process of it
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
	})
	return r
}

// wait waits for the CLI to exit and returns its error.
func (r *suiteRun) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-r.done:
		t.Logf("ginkgo output:\n%s", r.log.String())
		r.done <- err
		return err
	case <-time.After(timeout):
		t.Fatalf("ginkgo still running after %s:\n%s", timeout, r.log.String())
		return nil
	}
}

// process1 returns the lines process 1 recorded ("up <env> <pid>", "down <env>").
func (r *suiteRun) process1() []string {
	b, _ := os.ReadFile(filepath.Join(r.out, "process1"))
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// waitFile polls for a file the suite writes.
func (r *suiteRun) waitFile(t *testing.T, name string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(filepath.Join(r.out, name)); err == nil && len(b) > 0 {
			return string(b)
		}
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("ginkgo exited (%v) before the suite wrote %s:\n%s", err, name, r.log.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s:\n%s", name, timeout, r.log.String())
		}
	}
}

func TestSuiteInFourProcessesUsesOneEnvironment(t *testing.T) {
	r := startSuite(t, false)
	if err := r.wait(t, 10*time.Minute); err != nil {
		t.Fatalf("ginkgo -p --procs 4: %v", err)
	}
	out := r.log.String()
	for _, want := range []string{"Running in parallel across 4 processes", "Ran 13 of 13 Specs", "SUCCESS!", "Test Suite Passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("ginkgo output lacks %q", want)
		}
	}
	procs := 0
	for p := 1; p <= 4; p++ {
		if b, err := os.ReadFile(filepath.Join(r.out, "specs-"+strconv.Itoa(p))); err == nil {
			procs++
			t.Logf("process %d ran %d parallel specs", p, strings.Count(string(b), "\n"))
		}
	}
	if procs < 2 {
		t.Errorf("parallel specs ran in %d process(es); want them spread over the 4", procs)
	}
	took := labelled.WaitGone(t, context.Background(), "dsenv.test="+r.label, 2*time.Minute)
	ids, maxLive, polls := r.envs.Result()
	t.Logf("watcher: %d polls, environments %v, at most %d at once; nothing labelled %s after ginkgo exited", polls, ids, maxLive, took.Round(time.Millisecond))
	if len(ids) != 1 || maxLive != 1 {
		t.Errorf("environments seen while the suite ran: %v (at most %d at once); want exactly one", ids, maxLive)
	}
	if p1 := r.process1(); len(p1) != 2 || !strings.HasPrefix(p1[0], "up "+ids[0]) || p1[1] != "down "+ids[0] {
		t.Errorf("process 1 recorded %q; want up and down of %v", p1, ids)
	}
}

func TestSIGINTToTheCLIRunsAfterSuiteAndRemovesTheEnvironment(t *testing.T) {
	r := startSuite(t, true)
	r.waitFile(t, "holding", 10*time.Minute)
	// What Ctrl-C does: SIGINT to the terminal's foreground process group, i.e. the CLI
	// and the suite's processes (the CLI forwards nothing; each process's Ginkgo handles
	// its own interrupt). The harness's reaper runs in its own session and is not hit.
	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGINT to the Ginkgo CLI's process group %d while a spec holds", r.cmd.Process.Pid)
	err := r.wait(t, 5*time.Minute)
	if err == nil {
		t.Error("ginkgo exited 0 after an interrupt")
	}
	out := r.log.String()
	for _, want := range []string{"Interrupted by User", "Test Suite Failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("ginkgo output lacks %q (its interrupt report)", want)
		}
	}
	p1 := r.process1()
	if len(p1) != 2 || !strings.HasPrefix(p1[1], "down ") {
		t.Errorf("process 1 recorded %q; want its SynchronizedAfterSuite's down", p1)
	}
	labelled.WaitGone(t, context.Background(), "dsenv.test="+r.label, 2*time.Minute)
	ids, _, _ := r.envs.Result()
	if len(ids) != 1 {
		t.Errorf("environments seen: %v; want one", ids)
	}
}

func TestSIGKILLOfProcess1LeavesTheEnvironmentToItsReaper(t *testing.T) {
	r := startSuite(t, true)
	up := strings.Fields(r.waitFile(t, "process1", 10*time.Minute))
	r.waitFile(t, "holding", 5*time.Minute)
	if len(up) != 3 || up[0] != "up" {
		t.Fatalf("process 1 recorded %q", up)
	}
	pid, _ := strconv.Atoi(up[2])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGKILL to process 1 (%d), owner of env %s", pid, up[1])
	took := labelled.WaitGone(t, context.Background(), "dsenv.test="+r.label, 2*time.Minute)
	t.Logf("env %s removed %s after process 1 was killed (the reaper; the CLI still runs)", up[1], took.Round(time.Millisecond))
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT)
	_ = r.wait(t, 5*time.Minute)
}
