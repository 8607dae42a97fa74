package kubeapi_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/tests/internal/childproc"
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
	var c *childproc.Process
	t.Cleanup(func() { // after the child is gone: whatever it left, when the test failed
		if t.Failed() {
			labelled.Remove(t, c.Owner())
		}
	})
	c = childproc.Start(t, "TestKubeChild", []string{reaperChildVar + "=1"})
	// Up means the DS answered an authenticated request through kube-apiserver.
	c.Until(t, 4*time.Minute, 100*time.Millisecond, "environment up", func() bool {
		return strings.Contains(c.Out.String(), "KUBE-ENV-UP ")
	})
	running := strings.Join(labelled.Running(t, ctx, c.Owner()), " ")
	for _, part := range []string{"-etcd", "-kube-apiserver", "-datastorage"} {
		if !strings.Contains(running, part) {
			t.Fatalf("no running %s container of the child before the kill: %s", part, running)
		}
	}
	c.Kill(t)
	killed := time.Now()
	labelled.WaitGone(t, ctx, c.Owner(), time.Minute)
	t.Logf("everything of the SIGKILLed child (%s) gone %s after the kill", running, time.Since(killed).Round(10*time.Millisecond))
}
