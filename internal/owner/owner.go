// Package owner identifies the process that created an environment (the dsenv.owner
// label) and tells whether it still lives, as the reaper and sweep need.
package owner

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// ManualPID is the pid part of the owner label of environments that no process owns:
// `make up` and the shared environment.
const ManualPID = "manual"

// Owner identifies the process that created an environment.
type Owner struct {
	PID  int    // 0 when Manual
	Host string // os.Hostname of the creator
}

// Manual reports whether no process owns the environment (make up, shared).
func (o Owner) Manual() bool { return o.PID == 0 }

func (o Owner) String() string {
	if o.Manual() {
		return ManualPID + "@" + o.Host
	}
	return strconv.Itoa(o.PID) + "@" + o.Host
}

// Parse parses a dsenv.owner label value: "<pid>@<host>" or "manual@<host>".
func Parse(s string) (Owner, error) {
	pid, host, ok := strings.Cut(s, "@")
	if !ok || host == "" {
		return Owner{}, fmt.Errorf("owner label %q: want <pid>@<host> or manual@<host>", s)
	}
	if pid == ManualPID {
		return Owner{Host: host}, nil
	}
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return Owner{}, fmt.Errorf("owner label %q: pid %q is not a positive number", s, pid)
	}
	return Owner{PID: n, Host: host}, nil
}

var hostnameOnce = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
})

// Hostname is the host part of owner labels written by this machine.
func Hostname() string { return hostnameOnce() }

// Current is the owner of environments created by this process.
func Current() Owner { return Owner{PID: os.Getpid(), Host: Hostname()} }

// Manual is the owner of the environments no process owns on this host.
func Manual() Owner { return Owner{Host: Hostname()} }
