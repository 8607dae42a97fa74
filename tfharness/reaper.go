package tfharness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
)

// The reaper covers what no Cleanup can: `go test -timeout` (the testing package panics
// and exits without running Cleanup) and SIGKILL. The first environment of a process
// starts it: the process's own executable again, in a new session, with DSENV_REAPER_FOR
// set. This package's init notices the variable before any test or main runs, so it works
// inside any test binary and in cmd/dsenv. The reaper holds the read end of a pipe whose
// write end only the parent has; end of file means the parent is gone, however it died.
// It then kills the parent's Terraform and provider processes and removes every Docker
// object labelled dsenv.owner=<pid>@<host>, except environments kept with DSENV_KEEP.

const (
	reaperForEnv   = "DSENV_REAPER_FOR"   // pid of the parent
	reaperOwnerEnv = "DSENV_REAPER_OWNER" // owner label value to remove
	reaperDirEnv   = "DSENV_REAPER_DIR"   // the parent's work directory to delete
	reaperLogEnv   = "DSENV_REAPER_LOG"   // optional: where the reaper writes what it does
)

func init() {
	if pid := os.Getenv(reaperForEnv); pid != "" {
		os.Exit(runReaper(pid, os.Stdin))
	}
}

var (
	reaperMu   sync.Mutex
	reaperPipe *os.File // write end; kept referenced so no finalizer closes it
)

// startReaper starts this process's reaper once. DSENV_REAPER=0 disables it.
func startReaper(p *process) error {
	reaperMu.Lock()
	defer reaperMu.Unlock()
	if reaperPipe != nil || os.Getenv("DSENV_REAPER") == "0" {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(),
		reaperForEnv+"="+strconv.Itoa(os.Getpid()),
		reaperOwnerEnv+"="+owner.Current().String(),
		reaperDirEnv+"="+p.base,
	)
	cmd.Stdin = r // stdout and stderr stay closed: `go test` must not wait for the reaper
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("start %s as reaper: %w", exe, err)
	}
	go func() { _ = cmd.Wait() }()
	reaperPipe = w
	return nil
}

var keptEnvs int // environments kept with DSENV_KEEP in this process

func reaperKeeps() int {
	reaperMu.Lock()
	defer reaperMu.Unlock()
	return keptEnvs
}

// reaperKeep tells the reaper to leave env alone (DSENV_KEEP).
func reaperKeep(env string) {
	reaperMu.Lock()
	defer reaperMu.Unlock()
	keptEnvs++
	if reaperPipe != nil {
		fmt.Fprintf(reaperPipe, "keep %s\n", env)
	}
}

func runReaper(parent string, in io.Reader) int {
	logger := log.New(io.Discard, "", 0)
	if p := os.Getenv(reaperLogEnv); p != "" {
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			defer f.Close()
			logger = log.New(f, fmt.Sprintf("dsenv reaper %d for %s: ", os.Getpid(), parent), log.LstdFlags|log.Lmicroseconds)
		}
	}
	ppid, err := strconv.Atoi(parent)
	if err != nil {
		logger.Printf("bad %s=%q", reaperForEnv, parent)
		return 2
	}
	ownerLabel := os.Getenv(reaperOwnerEnv)
	logger.Printf("watching owner %s", ownerLabel)

	kept := map[string]bool{}
	var mu sync.Mutex
	eof := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			if env, ok := strings.CutPrefix(sc.Text(), "keep "); ok {
				mu.Lock()
				kept[env] = true
				mu.Unlock()
				logger.Printf("keeping %s", env)
			}
		}
		close(eof)
	}()
	// End of file is the signal; polling the parent pid is the fallback.
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-eof:
			break wait
		case <-tick.C:
			if os.Getppid() != ppid {
				break wait
			}
		}
	}
	logger.Printf("parent gone")
	if ownerLabel == "" {
		return 0
	}
	if n := owner.KillProcesses("DSENV_OWNER", ownerLabel); n > 0 {
		logger.Printf("killed %d Terraform/provider processes", n)
	}
	mu.Lock()
	keep := kept
	mu.Unlock()
	n, err := reapOwner(context.Background(), ownerLabel, keep, logger)
	if err != nil {
		logger.Printf("error: %v", err)
	}
	logger.Printf("removed %d objects", n)
	if dir := os.Getenv(reaperDirEnv); dir != "" && len(keep) == 0 {
		_ = os.RemoveAll(dir)
	}
	return 0
}

// reapOwner removes every object labelled with owner, except kept environments, in
// passes until two in a row find nothing (a killed apply may still create one).
func reapOwner(ctx context.Context, owner string, keep map[string]bool, logger *log.Logger) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	d, err := engine.FromEnv()
	if err != nil {
		return 0, err
	}
	removed, empty := 0, 0
	for empty < 2 && ctx.Err() == nil {
		objs, err := d.List(ctx, label.Owner+"="+owner)
		if err != nil {
			return removed, err
		}
		var doomed []engine.Object
		for _, o := range objs {
			if !keep[o.Labels[label.Env]] {
				doomed = append(doomed, o)
			}
		}
		if len(doomed) == 0 {
			empty++
		} else {
			empty = 0
			if err := d.Remove(ctx, doomed); err != nil {
				logger.Printf("remove: %v", err)
			}
			removed += len(doomed)
		}
		time.Sleep(300 * time.Millisecond)
	}
	return removed, nil
}
