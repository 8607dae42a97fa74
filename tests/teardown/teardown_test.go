// Package teardown_test checks that an environment is removed however its test ends:
// killed with SIGKILL, interrupted with SIGINT, or failing; and kept with DSENV_KEEP=1.
// The subjects are child processes: this test binary re-executed with
// -test.run=^TestChildEnvironment$ and DSENV_TEARDOWN_CHILD naming what the child does.
package teardown_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/sweep"
	"github.com/dsenv/dsenv/tests/internal/childproc"
	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/dsenv/dsenv/tfharness"
)

const childVar = "DSENV_TEARDOWN_CHILD"

// TestChildEnvironment is the child process of the tests below; run directly it skips.
func TestChildEnvironment(t *testing.T) {
	switch mode := os.Getenv(childVar); mode {
	case "":
		t.Skip("helper: runs only as the child process of the other tests in this package")
	case "apply":
		env := tfharness.New(t)
		t.Logf("child: env %s up; waiting to be killed", env.ID)
		time.Sleep(2 * time.Minute)
	case "timeout":
		// Up, not New: nothing bounds it by the test deadline, so `go test -timeout`
		// strikes in the middle, and no Cleanup runs.
		if _, err := tfharness.Up(context.Background()); err != nil {
			t.Log(err)
		}
		select {}
	case "fail":
		env := tfharness.New(t)
		t.Errorf("deliberate failure: env %s (DS %s) is up and this test fails anyway", env.ID, env.DataStorage.URL)
	default:
		t.Fatalf("%s=%q", childVar, mode)
	}
}

// child is a running child test process.
type child struct{ *childproc.Process }

// startChild runs this test binary as a child in mode; env holds variables (K=V) and
// -test.* flags for it.
func startChild(t *testing.T, mode string, env ...string) *child {
	t.Helper()
	vars, flags := []string{childVar + "=" + mode}, []string(nil)
	for _, e := range env {
		if strings.HasPrefix(e, "-test.") {
			flags = append(flags, e) // a flag for the child, not a variable
		} else {
			vars = append(vars, e)
		}
	}
	// Registered first, so it runs once the child is gone: whatever happened, leave none of
	// its objects behind.
	t.Cleanup(func() { _, _ = sweep.Run(context.Background(), sweep.Options{}) })
	return &child{childproc.Start(t, "TestChildEnvironment", vars, flags...)}
}

// waitMidApply waits until the child's apply has created a container but the DS
// container is not up yet, and returns the containers seen.
func (c *child) waitMidApply(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		objs := labelled.Objects(t, ctx, c.Owner())
		var containers []string
		for _, o := range objs {
			if strings.HasPrefix(o, "container ") {
				containers = append(containers, strings.TrimPrefix(o, "container "))
			}
		}
		if len(containers) > 0 {
			if strings.Contains(c.Out.String(), "ready in") {
				t.Fatalf("child finished its apply before it could be interrupted: %v", containers)
			}
			return containers
		}
		select {
		case <-c.Exited():
			t.Fatalf("child exited (%v) before its apply started; output:\n%s", c.Err(), c.Out.String())
		case <-time.After(25 * time.Millisecond):
		}
	}
	t.Fatalf("child created no container; output:\n%s", c.Out.String())
	return nil
}

func TestSIGKILLedChildIsReapedAndOthersAreUntouched(t *testing.T) {
	ctx := context.Background()
	bystander := tfharness.New(t)
	before := labelled.Running(t, ctx, label.Env+"="+bystander.ID)

	c := startChild(t, "apply")
	seen := c.waitMidApply(t)
	if err := c.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = c.Wait(t, 10*time.Second)
	t.Logf("SIGKILL mid-apply; the child had created %v", seen)

	took := labelled.WaitGone(t, ctx, c.Owner(), 30*time.Second)
	t.Logf("all objects of the killed child gone %s after SIGKILL", time.Since(killed).Round(10*time.Millisecond))
	_ = took

	after := labelled.Running(t, ctx, label.Env+"="+bystander.ID)
	if strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("bystander %s changed: running %v, before %v", bystander.ID, after, before)
	}
	resp, err := http.Get(strings.TrimRight(bystander.DataStorage.HealthURL, "/") + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("bystander DS not ready after the reaping: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestSIGINTedChildDestroysItsEnvironmentAndExitsNonZero(t *testing.T) {
	ctx := context.Background()
	// No reaper in the child: removal must come from its own signal handling.
	c := startChild(t, "apply", "DSENV_REAPER=0")
	seen := c.waitMidApply(t)
	if err := c.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := c.Wait(t, time.Minute)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child exited with %v after SIGINT; want a non-zero exit", err)
	}
	t.Logf("SIGINT mid-apply (child had %v): child exited (%v) after %s", seen, exit, time.Since(start).Round(10*time.Millisecond))
	if objs := labelled.Objects(t, ctx, c.Owner()); len(objs) > 0 {
		t.Errorf("the interrupted child left %v", objs)
	}
	if out := c.Out.String(); !strings.Contains(out, "tearing down 1 environment") {
		t.Errorf("child did not report its teardown:\n%s", out)
	}
}

func TestTimedOutChildIsReaped(t *testing.T) {
	ctx := context.Background()
	// `go test -timeout` must strike while the child has objects. How long its apply
	// takes depends on the machine's load, so a child that timed out before it created
	// anything is run again with twice the time.
	for timeout := 12 * time.Second; ; timeout *= 2 {
		c := startChild(t, "timeout", fmt.Sprintf("-test.timeout=%s", timeout))
		seen := 0
		for exited := false; !exited; {
			seen = max(seen, len(labelled.Objects(t, ctx, c.Owner())))
			select {
			case <-c.Exited():
				exited = true
			case <-time.After(100 * time.Millisecond):
			}
		}
		if !strings.Contains(c.Out.String(), "panic: test timed out") {
			t.Fatalf("child did not time out:\n%s", c.Out.String())
		}
		if seen == 0 {
			if timeout >= 2*time.Minute {
				t.Fatalf("child created nothing before its %s timeout:\n%s", timeout, c.Out.String())
			}
			t.Logf("child timed out after %s before it created anything; again with %s", timeout, 2*timeout)
			continue
		}
		took := labelled.WaitGone(t, ctx, c.Owner(), 30*time.Second)
		t.Logf("child timed out with %d objects; all gone %s after its exit", seen, took.Round(10*time.Millisecond))
		return
	}
}

var (
	keptID   = regexp.MustCompile(`env (t-[a-z0-9]{8}): kept`)
	dsHealth = regexp.MustCompile(`-datastorage: running \(exit 0, health (starting|healthy)\)`)
)

func TestFailingTestLeavesLogsAndIsDestroyed(t *testing.T) {
	ctx := context.Background()
	artifacts := t.TempDir()
	c := startChild(t, "fail", "DSENV_ARTIFACTS_DIR="+artifacts, "DSENV_REAPER=0", "DSENV_KEEP=0")
	err := c.Wait(t, 3*time.Minute)
	out := c.Out.String()
	if err == nil {
		t.Fatalf("failing child exited 0:\n%s", out)
	}
	for _, want := range []string{"deliberate failure", "test failed; last", "-postgres: running", "-datastorage: running"} {
		if !strings.Contains(out, want) {
			t.Errorf("child output lacks %q", want)
		}
	}
	// The DS's health is reported as the engine has it: the harness does not wait for
	// Docker's healthcheck (it polls /readyz itself), so on a busy machine the check may
	// not have run yet when the test fails.
	if !dsHealth.MatchString(out) {
		t.Errorf("child output does not report the DS's health (%s)", dsHealth)
	}
	if objs := labelled.Objects(t, ctx, c.Owner()); len(objs) > 0 {
		t.Errorf("the failed test's environment is still there: %v", objs)
	}
	logs, _ := filepath.Glob(filepath.Join(artifacts, "TestChildEnvironment", "t-*", "*.log"))
	var names []string
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil || len(b) == 0 {
			t.Errorf("artifact %s empty (%v)", l, err)
		}
		names = append(names, filepath.Base(l))
	}
	joined := strings.Join(names, " ")
	for _, want := range []string{"-postgres.log", "-redis.log", "-migrate.log", "-datastorage.log", "terraform.log"} {
		if !strings.Contains(joined, want) {
			t.Errorf("artifacts %v lack *%s", names, want)
		}
	}
	t.Logf("artifacts: %s", joined)
}

func TestFailingTestIsKeptWithDSENV_KEEP(t *testing.T) {
	ctx := context.Background()
	reaperLog := filepath.Join(t.TempDir(), "reaper.log")
	c := startChild(t, "fail", "DSENV_KEEP=1", "DSENV_ARTIFACTS_DIR="+t.TempDir(), "DSENV_REAPER_LOG="+reaperLog)
	if err := c.Wait(t, 3*time.Minute); err == nil {
		t.Fatal("failing child exited 0")
	}
	out := c.Out.String()
	m := keptID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("child did not say it kept its environment:\n%s", out)
	}
	id := m[1]
	t.Cleanup(func() { _, _ = sweep.Run(context.Background(), sweep.Options{Env: id}) })
	for _, want := range []string{"sweep --env " + id, "docker rm -f -v"} {
		if !strings.Contains(out, want) {
			t.Errorf("keep message lacks %q", want)
		}
	}
	// The child's reaper sees its parent go and finishes; it must have spared the kept
	// environment, and so must a sweep, although the owner is gone.
	waitForLine(t, reaperLog, "removed ", time.Minute)
	if b, _ := os.ReadFile(reaperLog); !strings.Contains(string(b), "keeping "+id) {
		t.Errorf("the reaper did not record that it keeps %s:\n%s", id, b)
	}
	if swept, err := sweep.Run(ctx, sweep.Options{}); err != nil {
		t.Fatal(err)
	} else {
		for _, s := range swept {
			if s.Env == id {
				t.Errorf("a plain sweep removed the kept environment %s (%s)", id, s.Reason)
			}
		}
	}
	running := labelled.Running(t, ctx, label.Env+"="+id)
	if len(running) < 3 {
		t.Fatalf("kept environment %s: running %v", id, running)
	}
	swept, err := sweep.Run(ctx, sweep.Options{Env: id})
	if err != nil || len(swept) != 1 {
		t.Fatalf("sweep --env %s: %v %v", id, swept, err)
	}
	labelled.WaitGone(t, ctx, label.Env+"="+id, 10*time.Second)
}

// waitForLine waits until the file at path holds a line containing want.
func waitForLine(t *testing.T, path, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no line with %q after %s:\n%s", path, want, timeout, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
