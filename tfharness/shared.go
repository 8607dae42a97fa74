package tfharness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
)

// Shared mode: one environment for every test process of one `go test` run.
//
// The run is the `go test` command itself: it starts each package's test binary as its
// child, so the parent's pid and start time name the run (outside `go test`, the process
// itself is the run). The first process to ask brings the environment up; the others
// attach. They coordinate through <cache>/shared/<name>-<key>.lock (flock) and a record
// beside it (mode 0600: it holds the payload, secrets included) listing the live users
// by pid and start time. The key hashes the name, the module directory, the options, the
// uid and the run, so two checkouts, two users or two runs never share one by accident.
//
// Ownership: the environment's objects carry dsenv.owner=<run pid>@<host> and
// dsenv.shared=<key>, not the owner of the process that created them, so the reaper of
// a package process that dies (SIGKILL) removes nothing of it, and the start-up sweep of
// other processes sees a live owner. A watcher process (the creating binary again, in
// its own session, like the reaper) removes the environment once the run has ended and
// no user is alive; a user releasing it after the run ended removes it itself. Should
// the watcher die too, the owner label names a dead process and the next sweep (at the
// next harness start, or `dsenv sweep`) removes it.

const (
	sharedWatchEnv = "DSENV_SHARED_WATCH" // record path the watcher process watches
	sharedEnvIDEnv = "DSENV_SHARED_ENV"   // environment id the watcher removes
	recordVersion  = 1
)

func init() {
	if path := os.Getenv(sharedWatchEnv); path != "" {
		os.Exit(runSharedWatcher(path, os.Getenv(sharedEnvIDEnv)))
	}
}

// procID names one process: a reused pid has another start time.
type procID struct {
	PID   int   `json:"pid"`
	Start int64 `json:"start"` // unix nanoseconds, from /proc (0: unknown)
}

func procOf(pid int) procID {
	p := procID{PID: pid}
	if t, ok := owner.StartTime(pid); ok {
		p.Start = t.UnixNano()
	}
	return p
}

func (p procID) alive() bool {
	if p.PID <= 0 {
		return false
	}
	if err := syscall.Kill(p.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if p.Start == 0 {
		return true
	}
	t, ok := owner.StartTime(p.PID)
	return !ok || t.UnixNano() == p.Start
}

// record is the shared environment's record in the cache directory.
type record struct {
	Version  int             `json:"version"`
	Name     string          `json:"name"`
	Key      string          `json:"key"`
	Run      procID          `json:"run"`
	EnvID    string          `json:"env_id,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"` // Marshal's document: secrets
	Creating *procID         `json:"creating,omitempty"`
	Users    []procID        `json:"users"`
}

// runProcess is the process whose life bounds a shared environment: the `go test`
// command (or the Ginkgo CLI) when it started this test binary, else this process.
func runProcess() procID {
	if ppid := os.Getppid(); ppid > 1 {
		switch filepath.Base(owner.Executable(ppid)) {
		case "go", "ginkgo":
			return procOf(ppid)
		}
	}
	return procOf(os.Getpid())
}

var sharedName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)

// sharedKey hashes what must match for two processes to share an environment.
func sharedKey(name string, cfg *config, run procID) string {
	h := sha256.New()
	wd, _ := os.Getwd()
	fmt.Fprintf(h, "name=%s\nmodule=%s\nuid=%d\nrun=%d/%d\n", name, moduleDir(wd), os.Getuid(), run.PID, run.Start)
	vars, _ := json.Marshal(cfg.vars) // map keys are sorted
	labels, _ := json.Marshal(cfg.labels)
	sensitive, _ := json.Marshal(cfg.sensitive) // hashed, never stored
	fmt.Fprintf(h, "vars=%s\nlabels=%s\nsensitive=%s\nbinary=%s\nroot=%s\nmodules=%T\nprefix=%s\n",
		vars, labels, sensitive, cfg.binary, cfg.moduleRoot, cfg.modules, cfg.idPrefix)
	// A directory tree (os.DirFS) is named by its path; an embedded tree by its type only
	// (its address differs between binaries that embed the same files).
	if v := reflect.ValueOf(cfg.modules); v.IsValid() && v.Kind() == reflect.String {
		fmt.Fprintf(h, "modules-dir=%s\n", v.String())
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// moduleDir is the directory of the go.mod above dir (dir itself if there is none):
// `go test` runs each package in its own directory, and they must agree.
func moduleDir(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// sharedUse is this process's hold on one shared environment.
type sharedUse struct {
	path    string
	payload []byte
	holds   int
}

var (
	sharedMu   sync.Mutex
	sharedUses = map[string]*sharedUse{}
)

// Shared returns the environment called name that every test process of this `go test`
// run shares: the first process to ask brings it up, the others (and later tests of the
// same process) attach to it. The returned Env is attached (its Down does nothing); t's
// Cleanup releases it, and the environment is removed once the run has ended and no
// process uses it any more, including processes killed with SIGKILL. Tests sharing one
// must not assume an empty database: filter by correlation id, or Reset in tests that
// run alone. name is a short lowercase word (gateway); opts must be the same in every
// package that shares it (other options make another environment).
func Shared(t TestingT, name string, opts ...Option) *Env {
	t.Helper()
	ctx := context.Background()
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dt.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d.Add(-15*time.Second))
			defer cancel()
		}
	}
	opts = append([]Option{WithLogger(t), WithTestName(t.Name())}, opts...)
	e, release, err := acquireShared(ctx, name, opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			e.DumpLogs(context.Background(), "test failed")
		}
		if err := release(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return e
}

func acquireShared(ctx context.Context, name string, opts []Option) (*Env, func() error, error) {
	if !sharedName.MatchString(name) {
		return nil, nil, fmt.Errorf("tfharness: Shared(%q): want a short lowercase name such as \"gateway\"", name)
	}
	cfg := newConfig(opts)
	if cfg.err != nil {
		return nil, nil, fmt.Errorf("tfharness: %w", cfg.err)
	}
	run := runProcess()
	key := sharedKey(name, cfg, run)

	sharedMu.Lock()
	defer sharedMu.Unlock()
	u := sharedUses[key]
	if u == nil {
		dir, err := sharedDir()
		if err != nil {
			return nil, nil, fmt.Errorf("tfharness: shared %s: %w", name, err)
		}
		sweepSharedOnce.Do(func() { sweepShared(dir) })
		u = &sharedUse{path: filepath.Join(dir, name+"-"+key+".json")}
		if u.payload, err = join(ctx, u.path, name, key, run, opts); err != nil {
			return nil, nil, fmt.Errorf("tfharness: shared %s: %w", name, err)
		}
		sharedUses[key] = u
	}
	u.holds++
	e, err := Attach(u.payload, opts...)
	if err != nil {
		u.holds--
		return nil, nil, err
	}
	var once sync.Once
	release := func() error {
		var err error
		once.Do(func() {
			sharedMu.Lock()
			defer sharedMu.Unlock()
			if u.holds--; u.holds > 0 {
				return
			}
			delete(sharedUses, key)
			if err = leave(u.path); err != nil {
				err = fmt.Errorf("tfharness: shared %s: %w", name, err)
			}
		})
		return err
	}
	return e, release, nil
}

func sharedDir() (string, error) {
	c, err := cache.Dir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(c, "shared")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

// lockRecord takes the record's lock (flock on <record>.lock), polling so that ctx can
// end the wait: another process holds it while it brings the environment up.
func lockRecord(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path+".lock", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for %s: %w", path+".lock", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func readRecord(path string) (*record, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil || r.Version != recordVersion {
		return nil, fmt.Errorf("record %s: not a version %d record (remove it)", path, recordVersion)
	}
	return &r, nil
}

// writeRecord replaces the record atomically, mode 0600.
func writeRecord(path string, r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (r *record) pruneUsers() {
	live := r.Users[:0]
	for _, u := range r.Users {
		if u.alive() {
			live = append(live, u)
		}
	}
	r.Users = live
}

// join registers this process as a user, bringing the environment up if it is not,
// and returns its payload.
func join(ctx context.Context, path, name, key string, run procID, opts []Option) ([]byte, error) {
	unlock, err := lockRecord(ctx, path)
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := readRecord(path)
	if err != nil {
		return nil, err
	}
	self := procOf(os.Getpid())
	if r != nil && r.Creating != nil && !r.Creating.alive() {
		// Its creator died while bringing it up: stop the Terraform and provider processes
		// it left (they carry DSENV_ENV), then remove whatever they made.
		n := owner.KillProcesses("DSENV_ENV", r.EnvID)
		if err := removeShared(ctx, key); err != nil {
			return nil, err
		}
		if l := newConfig(opts).logger; l != nil {
			l.Logf("dsenv: shared %s: env %s was left half made by process %d (dead): stopped %d of its processes, removed it",
				name, r.EnvID, r.Creating.PID, n)
		}
		r = nil
	}
	if r != nil && !envRunning(ctx, r.EnvID) {
		r = nil // removed behind the record's back (a sweep, docker rm)
		if err := removeShared(ctx, key); err != nil {
			return nil, err
		}
	}
	if r == nil {
		id, err := newID(newConfig(opts).idPrefix)
		if err != nil {
			return nil, err
		}
		// Recorded before Up: should this process die during it, the next one to join
		// knows what to stop and remove.
		r = &record{Version: recordVersion, Name: name, Key: key, Run: run, EnvID: id, Creating: &self}
		if err := writeRecord(path, r); err != nil {
			return nil, err
		}
		e, err := Up(ctx, append(opts, ownerLabelOption(owner.Owner{PID: run.PID, Host: owner.Hostname()}.String()),
			envIDOption(id), WithLabels(map[string]string{label.Shared: key}))...)
		if err != nil {
			_ = os.Remove(path)
			return nil, err
		}
		// Not this process's any more: no signal handler or Cleanup of it removes it.
		untrack(e)
		p, err := e.Marshal()
		if err != nil {
			return nil, err
		}
		r.Payload, r.Creating = p, nil
		if err := startSharedWatcher(path, e.ID); err != nil {
			e.logf("shared %s: no watcher (%v): a sweep removes env %s after the run", name, err, e.ID)
		}
		e.logf("shared %s: env %s is shared by this run (record %s)", name, e.ID, path)
	}
	r.pruneUsers()
	r.Users = append(r.Users, self)
	if err := writeRecord(path, r); err != nil {
		return nil, err
	}
	return r.Payload, nil
}

// leave removes this process from the users, and the environment with the record when
// the run has ended and no user is left.
func leave(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	unlock, err := lockRecord(ctx, path)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := readRecord(path)
	if err != nil || r == nil {
		return err
	}
	self := os.Getpid()
	users := r.Users[:0]
	for _, u := range r.Users {
		if u.PID != self {
			users = append(users, u)
		}
	}
	r.Users = users
	return r.settle(ctx, path)
}

// settle writes the record back, or, once the run is over and nobody uses the
// environment, removes both. The caller holds the lock.
func (r *record) settle(ctx context.Context, path string) error {
	r.pruneUsers()
	if len(r.Users) > 0 || r.Run.alive() {
		return writeRecord(path, r)
	}
	if err := removeShared(ctx, r.Key); err != nil {
		return err
	}
	// The run is over, so nobody can ask for this key again: the lock file may go too.
	_ = os.Remove(path + ".lock")
	return os.Remove(path)
}

// envRunning reports whether the environment still has its containers.
func envRunning(ctx context.Context, id string) bool {
	d, err := engine.FromEnv()
	if err != nil {
		return false
	}
	objs, err := d.List(ctx, label.Env+"="+id)
	if err != nil {
		return false
	}
	for _, o := range objs {
		if o.Kind == "container" {
			return true
		}
	}
	return false
}

// removeShared removes every object labelled with the shared key, in passes until two
// in a row find nothing (a creator killed mid-apply may leave a provider creating).
func removeShared(ctx context.Context, key string) error {
	d, err := engine.FromEnv()
	if err != nil {
		return err
	}
	for empty := 0; empty < 2; {
		objs, err := d.List(ctx, label.Shared+"="+key)
		if err != nil {
			return err
		}
		if len(objs) == 0 {
			empty++
		} else {
			empty = 0
			if err := d.Remove(ctx, objs); err != nil {
				return err
			}
		}
		if empty < 2 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// startSharedWatcher starts the process that removes the environment after the run:
// this executable again, in a new session, with stdio closed (`go test` must not wait).
func startSharedWatcher(path, envID string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), sharedWatchEnv+"="+path, sharedEnvIDEnv+"="+envID)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// runSharedWatcher waits until the record's run has ended and its users are gone, then
// removes the environment and the record. It ends early when the record goes or names
// another environment (a user removed it).
func runSharedWatcher(path, envID string) int {
	for {
		time.Sleep(250 * time.Millisecond)
		r, err := readRecord(path)
		if err != nil || r == nil || r.EnvID != envID {
			return 0
		}
		if r.Run.alive() {
			continue
		}
		r.pruneUsers()
		if len(r.Users) > 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		unlock, err := lockRecord(ctx, path)
		if err == nil {
			if r, err = readRecord(path); err == nil && r != nil && r.EnvID == envID {
				_ = r.settle(ctx, path)
			}
			unlock()
		}
		cancel()
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return 0
		}
	}
}

var sweepSharedOnce sync.Once

// sweepShared removes, once per process, the records (and environments) of runs that
// ended with nobody left to remove them (watcher killed too). A record whose lock is
// held is in use and skipped.
func sweepShared(dir string) {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, p := range paths {
		r, err := readRecord(p)
		if err != nil || r == nil || r.Run.alive() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		f, err := os.OpenFile(p+".lock", os.O_CREATE|os.O_RDWR, 0o600)
		if err == nil {
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				if r, err := readRecord(p); err == nil && r != nil {
					_ = r.settle(ctx, p)
				}
			}
			f.Close()
		}
		cancel()
	}
}

type ownerLabelOption string

func (o ownerLabelOption) apply(c *config) { c.ownerLabel = string(o) }

type envIDOption string

func (o envIDOption) apply(c *config) { c.envID = string(o) }
