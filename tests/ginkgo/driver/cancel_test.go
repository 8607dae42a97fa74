package driver_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/dsenv/dsenv/tfharness"
)

// What a Ginkgo SpecContext or NodeTimeout does to Up: its context ends while the apply
// runs. Up must return the context's error, not exit, and leave nothing behind.
func TestUpCancelledMidApplyLeavesNothing(t *testing.T) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	filter := "dsenv.test=cancel-" + hex.EncodeToString(b)
	t.Cleanup(func() { labelled.Remove(t, filter) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel as soon as the first container of the environment exists: mid-apply.
	go func() {
		for ctx.Err() == nil {
			out, _ := exec.Command("docker", "ps", "-a", "-q", "--filter", "label="+filter).Output()
			if len(strings.TrimSpace(string(out))) > 0 {
				cancel()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	env, err := tfharness.Up(ctx, tfharness.WithSignalHandling(false), tfharness.WithLogger(t),
		tfharness.WithLabels(map[string]string{"dsenv.test": strings.TrimPrefix(filter, "dsenv.test=")}))
	if err == nil {
		_ = env.Down(context.Background())
		t.Skip("the apply finished before the cancellation reached it (machine too fast to catch it mid-apply)")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Up after cancellation = %v; want an error wrapping context.Canceled", err)
	}
	t.Logf("Up cancelled mid-apply: %v", firstLine(err.Error()))
	took := labelled.WaitGone(t, context.Background(), filter, 2*time.Minute)
	t.Logf("nothing labelled %s left %s after Up returned", filter, took.Round(time.Millisecond))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
