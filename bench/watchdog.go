package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// The watchdog is a child process (this binary with -watchdog RUNID) that waits for the
// benchmark to end however it ends — normally, on Ctrl-C (tfharness's signal handler exits
// the process once its own environments are gone), or by SIGKILL — and then removes every
// container, network and volume labelled dsenv.bench=RUNID, and the run's image tags
// (<repository>:bench-RUNID). It notices the end when its
// stdin, a pipe from the parent, reaches EOF.

const watchdogFlag = "-watchdog"

// maybeWatchdog runs the watchdog and exits if this process was started as one.
func maybeWatchdog() {
	if len(os.Args) != 3 || os.Args[1] != watchdogFlag {
		return
	}
	signal.Ignore(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	_, _ = io.Copy(io.Discard, os.Stdin) // returns when the parent is gone
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	err := sweep(ctx, "dsenv.bench", os.Args[2])
	// A docker CLI of the parent may still be creating something: look again.
	time.Sleep(3 * time.Second)
	if err2 := sweep(ctx, "dsenv.bench", os.Args[2]); err == nil {
		err = err2
	}
	untagImages(ctx, os.Args[2])
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench watchdog:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// startWatchdog starts the watchdog for runID. The returned pipe must stay open for the
// life of the process; nothing needs to be done with it.
func startWatchdog(runID string) (*os.File, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, watchdogFlag, runID)
	cmd.Stdin = r
	cmd.Stderr = os.Stderr
	// Its own process group: a Ctrl-C in the terminal does not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	r.Close()
	go func() { _ = cmd.Wait() }()
	return w, nil
}
