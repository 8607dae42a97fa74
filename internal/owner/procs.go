package owner

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// KillProcesses kills every process of this user whose environment holds key=value:
// the Terraform and provider processes of one environment (DSENV_ENV) or of one owner
// (DSENV_OWNER) that outlived the process that started them.
func KillProcesses(key, value string) int {
	want := []byte(key + "=" + value)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	self := os.Getpid()
	n := 0
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, want) {
				if syscall.Kill(pid, syscall.SIGKILL) == nil {
					n++
				}
				break
			}
		}
	}
	return n
}

// Alive reports whether pid is a live process that may have created an
// environment at created: a process with that pid started later is a reused pid.
func Alive(pid int, created time.Time) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if created.IsZero() {
		return true
	}
	started, ok := start(pid)
	if !ok {
		return true
	}
	// Label times are whole seconds; allow for rounding and clock tick granularity.
	return !started.After(created.Add(2 * time.Second))
}

// start reads a process's start time from /proc (Linux); ok is false elsewhere.
func start(pid int) (time.Time, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return time.Time{}, false
	}
	// The command name (field 2) may hold spaces and parentheses: split after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return time.Time{}, false
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 20 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64) // field 22: starttime
	if err != nil {
		return time.Time{}, false
	}
	boot, ok := bootTime()
	if !ok {
		return time.Time{}, false
	}
	const clkTck = 100 // USER_HZ on every Linux architecture Go supports
	return boot.Add(time.Duration(ticks) * time.Second / clkTck), true
}

func bootTime() (time.Time, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(n, 0), true
		}
	}
	return time.Time{}, false
}

// StartTime returns the start time of process pid (Linux /proc); ok is false when the
// process does not exist or the time cannot be read. Together with the pid it names one
// process: a later process with a reused pid has a later start time.
func StartTime(pid int) (time.Time, bool) { return start(pid) }

// Executable returns the path of the executable process pid runs ("" if unknown).
func Executable(pid int) string {
	p, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return ""
	}
	return p
}
