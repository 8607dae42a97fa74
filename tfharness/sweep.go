package tfharness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
)

// SweepOptions selects what Sweep removes.
type SweepOptions struct {
	// Env removes exactly this environment, whatever its owner or age.
	Env string
	// TTL also removes environments created longer ago than TTL whose owner is not a
	// live process on this host (owners on other hosts cannot be checked). 0: no TTL.
	TTL time.Duration
	// All removes every environment whose owner is not a live process on this host,
	// persistent ones (make up, shared) included.
	All bool
	// DryRun reports without removing.
	DryRun bool
}

// SweptEnv is one environment Sweep removed (or would remove, with DryRun).
type SweptEnv struct {
	Env     string
	Owner   string
	Reason  string
	Objects []string // kind/name
}

// Sweep removes stale dsenv environments: those whose owner process on this host is
// gone, or (with TTL) that are too old. It never touches an environment whose owner is
// alive, nor a persistent one unless All.
func Sweep(ctx context.Context, o SweepOptions) ([]SweptEnv, error) {
	d, err := dockerFromEnv()
	if err != nil {
		return nil, err
	}
	if err := d.ping(ctx); err != nil {
		return nil, err
	}
	term := LabelEnv
	if o.Env != "" {
		term = LabelEnv + "=" + o.Env
	}
	objs, err := d.list(ctx, term)
	if err != nil {
		return nil, err
	}
	groups := map[string][]object{}
	for _, obj := range objs {
		groups[obj.Labels[LabelEnv]] = append(groups[obj.Labels[LabelEnv]], obj)
	}
	now := time.Now()
	var swept []SweptEnv
	var doomed []object
	for env, members := range groups {
		remove, reason := sweepDecision(envLabels(members), isKept(env), o, Hostname(), now, processAlive)
		if !remove {
			continue
		}
		s := SweptEnv{Env: env, Owner: members[0].Labels[LabelOwner], Reason: reason}
		for _, m := range members {
			s.Objects = append(s.Objects, m.Kind+"/"+m.Name)
		}
		sort.Strings(s.Objects)
		swept = append(swept, s)
		doomed = append(doomed, members...)
	}
	sort.Slice(swept, func(i, j int) bool { return swept[i].Env < swept[j].Env })
	if !o.DryRun && o.Env == "" {
		// Forget kept environments someone removed by hand.
		markers, _ := os.ReadDir(keptDir())
		for _, m := range markers {
			if _, ok := groups[m.Name()]; !ok {
				unmarkKept(m.Name())
			}
		}
	}
	if o.DryRun || len(doomed) == 0 {
		return swept, nil
	}
	err = d.remove(ctx, doomed)
	for _, s := range swept {
		removeWorkspace(s.Owner, s.Env)
		unmarkKept(s.Env)
	}
	return swept, err
}

// removeWorkspace deletes the workspace a dead (or kept) environment left in its owner's
// work directory on this host, and that directory once no environment is left in it and
// its process is gone.
func removeWorkspace(owner, env string) {
	o, err := ParseOwner(owner)
	if err != nil || o.Manual() || o.Host != Hostname() || !validPrefix.MatchString(env) {
		return
	}
	bases, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("dsenv-%d-*", o.PID)))
	for _, base := range bases {
		_ = os.RemoveAll(filepath.Join(base, env))
		if processAlive(o.PID, time.Time{}) {
			continue
		}
		if left, _ := filepath.Glob(filepath.Join(base, "*", dataDirName)); len(left) == 0 {
			_ = os.RemoveAll(base)
		}
	}
}

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
			swept, err := Sweep(ctx, SweepOptions{})
			for _, s := range swept {
				fmt.Fprintf(os.Stderr, "dsenv: swept %s left by %s (%s)\n", s.Env, s.Owner, s.Reason)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "dsenv: sweep at start: %v\n", err)
			}
		}()
	})
}

// envLabels merges the labels of an environment's objects: the oldest created time and
// the persistent flag of any object win, so a partly labelled object cannot make an
// environment look younger or throwaway.
func envLabels(objs []object) map[string]string {
	l := map[string]string{}
	for _, o := range objs {
		for k, v := range o.Labels {
			switch k {
			case LabelCreated:
				if old, ok := l[k]; ok && old < v && len(old) == len(v) {
					continue
				}
			case LabelPersistent:
				if l[k] == "true" {
					continue
				}
			}
			l[k] = v
		}
	}
	return l
}

// sweepDecision decides about one environment from its labels and whether it was kept
// with DSENV_KEEP. alive reports whether a pid on this host is the live process that
// created the environment.
func sweepDecision(labels map[string]string, kept bool, o SweepOptions, host string, now time.Time,
	alive func(pid int, created time.Time) bool) (bool, string) {
	env := labels[LabelEnv]
	if o.Env != "" {
		if env == o.Env {
			return true, "requested"
		}
		return false, "not requested"
	}
	created, createdErr := ParseCreated(labels[LabelCreated])
	owner, ownerErr := ParseOwner(labels[LabelOwner])
	ownerHere := ownerErr == nil && !owner.Manual() && owner.Host == host
	if ownerHere && alive(owner.PID, created) {
		return false, fmt.Sprintf("owner %s is alive", owner)
	}
	if labels[LabelPersistent] == "true" && !o.All {
		return false, "persistent"
	}
	if o.All {
		return true, "--all"
	}
	var expired string
	if o.TTL > 0 {
		if createdErr != nil {
			expired = "no valid " + LabelCreated + " label"
		} else if age := now.Sub(created); age > o.TTL {
			expired = fmt.Sprintf("created %s ago (ttl %s)", age.Round(time.Second), o.TTL)
		}
	}
	switch {
	case kept && expired != "":
		return true, "kept, but " + expired
	case kept:
		return false, "kept with DSENV_KEEP (remove it with --env " + env + ")"
	case ownerHere:
		return true, fmt.Sprintf("owner %s is gone", owner)
	case expired != "":
		return true, expired
	case o.TTL > 0:
		return false, "younger than ttl"
	}
	return false, "owner not checkable here; use --ttl"
}

// keptDir holds one marker file per environment kept with DSENV_KEEP, so that sweeps
// (and the start-up sweep of the next test run) leave it alone after its owner exited.
func keptDir() string {
	dir, err := cache.Dir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "kept")
}

func markKept(env, note string) error {
	dir := keptDir()
	if dir == "" {
		return errors.New("no cache directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, env), []byte(note+"\n"), 0o644)
}

func isKept(env string) bool {
	dir := keptDir()
	if dir == "" || !validPrefix.MatchString(env) {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, env))
	return err == nil
}

func unmarkKept(env string) {
	if dir := keptDir(); dir != "" && validPrefix.MatchString(env) {
		_ = os.Remove(filepath.Join(dir, env))
	}
}
