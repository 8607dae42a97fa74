package kubeapi_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/dsenv/dsenv/tfharness"
)

const reaperChildVar = "DSENV_KUBE_REAPER_CHILD"

// TestKubeChild is the child process of TestSIGKILLedKubeEnvIsReaped; run directly it skips.
func TestKubeChild(t *testing.T) {
	if os.Getenv(reaperChildVar) == "" {
		t.Skip("helper: runs only as the child process of TestSIGKILLedKubeEnvIsReaped")
	}
	env := tfharness.New(t, tfharness.WithAuthBackend(tfharness.AuthKube))
	fmt.Printf("KUBE-ENV-UP %s\n", env.ID)
	time.Sleep(5 * time.Minute)
}

// TestSIGKILLedKubeEnvIsReaped: a test process killed with its real-API environment up
// leaves nothing: the reaper removes etcd and kube-apiserver with the rest.
func TestSIGKILLedKubeEnvIsReaped(t *testing.T) {
	requireKubeImages(t)
	ctx := context.Background()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKubeChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), reaperChildVar+"=1")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	filter := fmt.Sprintf("%s=%d@%s", label.Owner, cmd.Process.Pid, owner.Hostname())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("child output:\n%s", out.String())
			labelled.Remove(t, filter)
		}
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("dsenv-%d-*", cmd.Process.Pid)))
		for _, d := range dirs {
			_ = os.RemoveAll(d)
		}
	})

	// Up means the DS answered an authenticated request through kube-apiserver.
	for deadline := time.Now().Add(4 * time.Minute); !strings.Contains(out.String(), "KUBE-ENV-UP "); {
		select {
		case err := <-done:
			t.Fatalf("child exited (%v) before its environment came up", err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the child's environment did not come up")
		}
	}
	running := strings.Join(labelled.Running(t, ctx, filter), " ")
	for _, part := range []string{"-etcd", "-kube-apiserver", "-datastorage"} {
		if !strings.Contains(running, part) {
			t.Fatalf("no running %s container of the child before the kill: %s", part, running)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	labelled.WaitGone(t, ctx, filter, time.Minute)
	t.Logf("everything of the SIGKILLed child (%s) gone %s after the kill", running, time.Since(killed).Round(10*time.Millisecond))
}

// lockedBuffer is the child's output, read while the child writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
