package tfharness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Labels every Docker object of an environment carries (docs/interfaces.md).
const (
	LabelEnv        = "dsenv.env"        // environment id (= name_prefix)
	LabelOwner      = "dsenv.owner"      // <pid>@<hostname>, or manual@<hostname>
	LabelCreated    = "dsenv.created"    // unix seconds of the first apply
	LabelPersistent = "dsenv.persistent" // "true": sweep leaves it alone
)

// ManualOwner is the pid part of the owner label of environments that no process owns:
// `make up` and the shared environment.
const ManualOwner = "manual"

// Owner identifies the process that created an environment.
type Owner struct {
	PID  int    // 0 when Manual
	Host string // os.Hostname of the creator
}

// Manual reports whether no process owns the environment (make up, shared).
func (o Owner) Manual() bool { return o.PID == 0 }

func (o Owner) String() string {
	if o.Manual() {
		return ManualOwner + "@" + o.Host
	}
	return strconv.Itoa(o.PID) + "@" + o.Host
}

// ParseOwner parses a dsenv.owner label value: "<pid>@<host>" or "manual@<host>".
func ParseOwner(s string) (Owner, error) {
	pid, host, ok := strings.Cut(s, "@")
	if !ok || host == "" {
		return Owner{}, fmt.Errorf("owner label %q: want <pid>@<host> or manual@<host>", s)
	}
	if pid == ManualOwner {
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

// CurrentOwner is the owner of environments created by this process.
func CurrentOwner() Owner { return Owner{PID: os.Getpid(), Host: Hostname()} }

// ParseCreated parses a dsenv.created label (unix seconds).
func ParseCreated(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("created label %q: want unix seconds", s)
	}
	return time.Unix(n, 0), nil
}
