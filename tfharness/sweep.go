package tfharness

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/dsenv/dsenv/internal/sweep"
)

var sweepOnStartOnce sync.Once

// sweepOnStart removes, once per process and in the background, the environments of
// dead processes on this host: whatever a reaper could not remove (a reboot, a reaper
// killed too) goes at the next harness start.
// It logs to stderr: a test's t.Logf may be gone by the time it finishes.
func sweepOnStart() {
	if os.Getenv("DSENV_REAPER") == "0" {
		return
	}
	sweepOnStartOnce.Do(func() {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			swept, err := sweep.Run(ctx, sweep.Options{})
			for _, s := range swept {
				fmt.Fprintf(os.Stderr, "dsenv: swept %s left by %s (%s)\n", s.Env, s.Owner, s.Reason)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "dsenv: sweep at start: %v\n", err)
			}
		}()
	})
}
