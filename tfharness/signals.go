package tfharness

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Live environments of this process, torn down on SIGINT or SIGTERM.
var (
	liveMu   sync.Mutex
	live     = map[*Env]struct{}{}
	livePeak int

	interrupted atomic.Bool
	signalsOnce sync.Once
	// signalTeardownDone is closed when the signal handler has removed every environment.
	signalTeardownDone = make(chan struct{})
)

// awaitSignalTeardown blocks a test goroutine whose apply the signal cancelled until the
// handler has removed every environment and ends the process: the test must not finish
// (and `go test` exit) while other environments are still being removed.
func awaitSignalTeardown() {
	if !interrupted.Load() {
		return
	}
	select {
	case <-signalTeardownDone:
		time.Sleep(5 * time.Second) // the handler exits the process meanwhile
	case <-time.After(2 * time.Minute):
	}
}

func track(e *Env) {
	liveMu.Lock()
	defer liveMu.Unlock()
	live[e] = struct{}{}
	livePeak = max(livePeak, len(live))
}

func untrack(e *Env) {
	liveMu.Lock()
	defer liveMu.Unlock()
	delete(live, e)
}

// trackedPeak is the largest number of environments this process held at once.
func trackedPeak() int {
	liveMu.Lock()
	defer liveMu.Unlock()
	return livePeak
}

// frameworkHandlesSignals reports whether a test framework that handles interrupts
// itself runs this process: Ginkgo v2 registers its flags (ginkgo.*) on the default flag
// set in its init, so a test binary linking it has them.
func frameworkHandlesSignals() bool {
	return flag.Lookup("ginkgo.parallel.process") != nil
}

// wantSignals reports whether the harness installs its own SIGINT/SIGTERM handler for cfg.
func wantSignals(c *config) bool {
	if c.signals != nil {
		return *c.signals
	}
	return !frameworkHandlesSignals()
}

// handleSignals makes SIGINT and SIGTERM tear down every live environment (cancelling
// applies in flight, then removing with a fresh context) before the process exits with
// the signal. A second signal exits at once; the reaper then removes what is left.
func handleSignals() {
	signalsOnce.Do(func() {
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		go func() {
			sig := <-ch
			interrupted.Store(true)
			go func() {
				<-ch
				fmt.Fprintln(os.Stderr, "dsenv: second signal: exiting now; the reaper removes what is left")
				os.Exit(1)
			}()
			if teardownAll(sig) {
				if p, err := sharedProcess(); err == nil {
					_ = os.RemoveAll(p.base)
				}
			}
			close(signalTeardownDone)
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(os.Getpid(), s)
				time.Sleep(2 * time.Second)
			}
			os.Exit(1)
		}()
	})
}

// teardownAll removes every live environment; it reports whether none is kept, i.e.
// whether the work directory may go too.
func teardownAll(sig os.Signal) bool {
	liveMu.Lock()
	envs := make([]*Env, 0, len(live))
	for e := range live {
		envs = append(envs, e)
	}
	liveMu.Unlock()
	fmt.Fprintf(os.Stderr, "dsenv: %v: tearing down %d environment(s)\n", sig, len(envs))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for _, e := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.abort()
			start := time.Now()
			if err := e.Down(ctx); err != nil {
				fmt.Fprintf(os.Stderr, "dsenv: %v\n", err)
				return
			}
			fmt.Fprintf(os.Stderr, "dsenv: env %s: removed in %s\n", e.ID, round(time.Since(start)))
		}()
	}
	wg.Wait()
	return reaperKeeps() == 0
}

// abort cancels an apply in flight; what it created is removed by the next Down.
func (e *Env) abort() {
	e.mu.Lock()
	cancel := e.cancel
	if cancel != nil {
		e.aborted.Store(true)
	}
	e.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}
