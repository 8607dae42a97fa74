package env_test

import (
	"context"
	"testing"
	"time"

	"github.com/dsenv/dsenv/tfharness"
)

// BenchmarkUpDown brings environments up and down one after the other through tfharness
// (the path every test takes) and reports the mean time to ready (up-ms) and to gone
// (down-ms), and of that the apply (apply-ms) and the readiness wait after it (ready-ms). Run it with a fixed count, e.g. -bench UpDown -benchtime 5x; the first Up of
// the process also pays for the shared terraform init (reported as init-ms).
func BenchmarkUpDown(b *testing.B) {
	var up, down, init, apply, ready time.Duration
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		t0 := time.Now()
		env, err := tfharness.Up(ctx, tfharness.WithLogger(b), tfharness.WithIDPrefix("bench"))
		if err != nil {
			cancel()
			b.Fatalf("up %d: %v", i, err)
		}
		up += time.Since(t0) - env.Timings.Init
		init += env.Timings.Init
		apply += env.Timings.Apply
		ready += env.Timings.Ready
		t1 := time.Now()
		if err := env.Down(ctx); err != nil {
			cancel()
			b.Fatalf("down %d: %v", i, err)
		}
		down += time.Since(t1)
		cancel()
	}
	b.ReportMetric(float64(up.Milliseconds())/float64(b.N), "up-ms")
	b.ReportMetric(float64(down.Milliseconds())/float64(b.N), "down-ms")
	b.ReportMetric(float64(init.Milliseconds()), "init-ms")
	b.ReportMetric(float64(apply.Milliseconds())/float64(b.N), "apply-ms")
	b.ReportMetric(float64(ready.Milliseconds())/float64(b.N), "ready-ms")
	b.ReportMetric(0, "ns/op")
}
