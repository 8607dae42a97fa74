// Package sweep removes what dead test processes left behind, and remembers environments
// kept on purpose (DSENV_KEEP) so that no sweep removes them.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
)

// Options select what Run removes.
type Options struct {
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

// Swept is one environment Run removed (or would remove, with DryRun).
type Swept struct {
	Env     string
	Owner   string
	Reason  string
	Objects []string // kind/name
}

// Run removes stale dsenv environments: those whose owner process on this host is
// gone, or (with TTL) that are too old. It never touches an environment whose owner is
// alive, nor a persistent one unless All.
func Run(ctx context.Context, o Options) ([]Swept, error) {
	d, err := engine.FromEnv()
	if err != nil {
		return nil, err
	}
	if err := d.Ping(ctx); err != nil {
		return nil, err
	}
	term := label.Env
	if o.Env != "" {
		term = label.Env + "=" + o.Env
	}
	objs, err := d.List(ctx, term)
	if err != nil {
		return nil, err
	}
	groups := map[string][]engine.Object{}
	for _, obj := range objs {
		groups[obj.Labels[label.Env]] = append(groups[obj.Labels[label.Env]], obj)
	}
	now := time.Now()
	var swept []Swept
	var doomed []engine.Object
	for env, members := range groups {
		remove, reason := sweepDecision(EnvLabels(members), IsKept(env), o, owner.Hostname(), now, owner.Alive)
		if !remove {
			continue
		}
		s := Swept{Env: env, Owner: members[0].Labels[label.Owner], Reason: reason}
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
				UnmarkKept(m.Name())
			}
		}
	}
	if o.DryRun || len(doomed) == 0 {
		return swept, nil
	}
	err = d.Remove(ctx, doomed)
	for _, s := range swept {
		RemoveWorkspace(s.Owner, s.Env)
		UnmarkKept(s.Env)
	}
	return swept, err
}

// RemoveWorkspace deletes the workspace a dead (or kept) environment left in its owner's
// work directory on this host, and that directory once no environment is left in it and
// its process is gone.
func RemoveWorkspace(ownerLabel, env string) {
	o, err := owner.Parse(ownerLabel)
	if err != nil || o.Manual() || o.Host != owner.Hostname() || !label.ValidEnvID.MatchString(env) {
		return
	}
	bases, _ := filepath.Glob(filepath.Join(os.TempDir(), WorkDirPrefix(o.PID)+"*"))
	for _, base := range bases {
		_ = os.RemoveAll(filepath.Join(base, env))
		if owner.Alive(o.PID, time.Time{}) {
			continue
		}
		if left, _ := filepath.Glob(filepath.Join(base, "*", DataDirName)); len(left) == 0 {
			_ = os.RemoveAll(base)
		}
	}
}

// Decide tells what Run with o would do with the environment whose objects are members
// (all labelled with the same dsenv.env): remove it or not, and why. dsenv status shows it.
func Decide(members []engine.Object, o Options) (remove bool, reason string) {
	l := EnvLabels(members)
	return sweepDecision(l, IsKept(l[label.Env]), o, owner.Hostname(), time.Now(), owner.Alive)
}

// EnvLabels merges the labels of an environment's objects: the oldest created time and
// the persistent flag of any object win, so a partly labelled object cannot make an
// environment look younger or throwaway.
func EnvLabels(objs []engine.Object) map[string]string {
	l := map[string]string{}
	for _, o := range objs {
		for k, v := range o.Labels {
			switch k {
			case label.Created:
				if old, ok := l[k]; ok && old < v && len(old) == len(v) {
					continue
				}
			case label.Persistent:
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
func sweepDecision(labels map[string]string, kept bool, o Options, host string, now time.Time,
	alive func(pid int, created time.Time) bool) (bool, string) {
	env := labels[label.Env]
	if o.Env != "" {
		if env == o.Env {
			return true, "requested"
		}
		return false, "not requested"
	}
	created, createdErr := label.ParseCreated(labels[label.Created])
	owner, ownerErr := owner.Parse(labels[label.Owner])
	ownerHere := ownerErr == nil && !owner.Manual() && owner.Host == host
	if ownerHere && alive(owner.PID, created) {
		return false, fmt.Sprintf("owner %s is alive", owner)
	}
	if labels[label.Persistent] == "true" && !o.All {
		return false, "persistent"
	}
	if o.All {
		return true, "--all"
	}
	var expired string
	if o.TTL > 0 {
		if createdErr != nil {
			expired = "no valid " + label.Created + " label"
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

func MarkKept(env, note string) error {
	dir := keptDir()
	if dir == "" {
		return errors.New("no cache directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, env), []byte(note+"\n"), 0o644)
}

func IsKept(env string) bool {
	dir := keptDir()
	if dir == "" || !label.ValidEnvID.MatchString(env) {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, env))
	return err == nil
}

func UnmarkKept(env string) {
	if dir := keptDir(); dir != "" && label.ValidEnvID.MatchString(env) {
		_ = os.Remove(filepath.Join(dir, env))
	}
}

// WorkDirPrefix is the prefix of the temporary directories in which a harness process
// with pid keeps its environments' workspaces.
func WorkDirPrefix(pid int) string { return fmt.Sprintf("dsenv-%d-", pid) }

// DataDirName is the TF_DATA_DIR of a workspace; a work directory holding none has no
// environment left.
const DataDirName = ".tfdata"
