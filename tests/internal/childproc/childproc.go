// Package childproc runs this test binary again as a child process, one of its tests with
// variables of its own, for the suites that kill or signal a process whose environments are
// up and then check what it left behind.
package childproc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
)

// Buffer is output that a process writes while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Process is a running child.
type Process struct {
	Cmd    *exec.Cmd
	Out    *Buffer // stdout and stderr
	exited chan struct{}
	err    error // the exit error, once exited is closed
}

// Start runs the test named test (an exact name) of this binary in a child process, with
// env (K=V) added to this process's variables and flags (-test.*) after its own. When t
// ends the child is killed, its output is logged if t failed, and the work directories it
// left in TMPDIR are removed (a child without a reaper cannot remove its own). Objects on
// the engine are the caller's to check or remove: register that cleanup before Start, so
// that it runs after the child is gone.
func Start(t testing.TB, test string, env []string, flags ...string) *Process {
	t.Helper()
	args := append([]string{"-test.run=^" + test + "$", "-test.v", "-test.count=1"}, flags...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env...)
	p := &Process{Cmd: cmd, Out: &Buffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Out, p.Out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("child output:\n%s", p.Out.String())
		}
		for _, d := range p.WorkDirs() {
			_ = os.RemoveAll(d)
		}
	})
	return p
}

// Owner is the label filter that matches everything the child created.
func (p *Process) Owner() string {
	return fmt.Sprintf("%s=%d@%s", label.Owner, p.Cmd.Process.Pid, owner.Hostname())
}

// WorkDirs are the child's work directories still in TMPDIR.
func (p *Process) WorkDirs() []string {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("dsenv-%d-*", p.Cmd.Process.Pid)))
	return dirs
}

// Exited is closed once the child has exited; Err is then its exit error.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is the child's exit error; call it only once Exited is closed.
func (p *Process) Err() error { return p.err }

// Wait returns the child's exit error, failing t when it still runs after timeout.
func (p *Process) Wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("child still running after %s; output:\n%s", timeout, p.Out.String())
		return nil
	}
}

// Until asks cond every interval until it holds; it fails t when the child exits first or
// after timeout, saying what it waited for.
func (p *Process) Until(t testing.TB, timeout, interval time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-p.exited:
			t.Fatalf("child exited (%v) before %s; output:\n%s", p.err, what, p.Out.String())
		case <-time.After(interval):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s; output:\n%s", what, timeout, p.Out.String())
		}
	}
}

// Kill sends SIGKILL.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
}
