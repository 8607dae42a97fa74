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
	// Env removes exactly this environment, whatever its owner or age; a persistent one
	// only with Force.
	Env string
	// TTL also removes environments created longer ago than TTL whose owner is not a
	// live process on this host (owners on other hosts cannot be checked). 0: no TTL.
	TTL time.Duration
	// All removes every environment whose owner is not a live process on this host,
	// persistent ones (make up, shared) included: their containers and networks, never
	// their volumes unless Volumes.
	All bool
	// Force lets Env name a persistent environment (its volumes still stay unless Volumes).
	Force bool
	// Volumes also removes the volumes of the persistent environments that are removed:
	// their data (PostgreSQL's rows, Redis' queue) is gone for good.
	Volumes bool
	// Label restricts the sweep to objects that also carry this label ("key=value" or
	// "key"): an environment's objects without it are neither removed nor counted.
	Label string
	// DryRun reports without removing.
	DryRun bool
}

// Swept is one environment Run removed (or would remove, with DryRun).
type Swept struct {
	Env     string
	Owner   string
	Reason  string
	Objects []string // kind/name, removed
	// Kept are the objects of the environment left in place (kind/name), with KeptReason.
	Kept       []string
	KeptReason string
}

// PersistentError is what Run returns for Options.Env naming a persistent environment
// without Options.Force: nothing of it is removed.
type PersistentError struct{ Env string }

func (e *PersistentError) Error() string {
	return fmt.Sprintf("%s is a persistent environment (%s=true): nothing removed; --force removes its containers and network, --force --volumes its data volumes too", e.Env, label.Persistent)
}

// Run removes stale dsenv environments: those whose owner process on this host is
// gone, or (with TTL) that are too old. It never touches an environment whose owner is
// alive, nor a persistent one unless All or Force, and never a persistent environment's
// volumes unless Volumes.
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
	terms := []string{term}
	if o.Label != "" {
		terms = append(terms, o.Label)
	}
	objs, err := d.List(ctx, terms...)
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
	var refused error
	for env, members := range groups {
		labels := EnvLabels(members)
		persistent := labels[label.Persistent] == "true"
		if o.Env != "" && env == o.Env && persistent && !o.Force {
			refused = &PersistentError{Env: env}
			continue
		}
		remove, reason := sweepDecision(labels, IsKept(env), o, owner.Hostname(), now, owner.Alive)
		if !remove {
			continue
		}
		s := Swept{Env: env, Owner: members[0].Labels[label.Owner], Reason: reason}
		for _, m := range members {
			if persistent && m.Kind == "volume" && !o.Volumes {
				s.Kept = append(s.Kept, m.Kind+"/"+m.Name)
				continue
			}
			s.Objects = append(s.Objects, m.Kind+"/"+m.Name)
			doomed = append(doomed, m)
		}
		if len(s.Kept) > 0 {
			s.KeptReason = "data of a persistent environment: --volumes removes it"
		}
		sort.Strings(s.Objects)
		sort.Strings(s.Kept)
		swept = append(swept, s)
	}
	sort.Slice(swept, func(i, j int) bool { return swept[i].Env < swept[j].Env })
	if !o.DryRun && o.Env == "" && o.Label == "" {
		// Forget kept environments someone removed by hand.
		markers, _ := os.ReadDir(keptDir())
		for _, m := range markers {
			if _, ok := groups[m.Name()]; !ok {
				UnmarkKept(m.Name())
			}
		}
	}
	if o.DryRun || len(doomed) == 0 {
		return swept, refused
	}
	err = d.Remove(ctx, doomed)
	for _, s := range swept {
		RemoveWorkspace(s.Owner, s.Env)
		if len(s.Kept) == 0 {
			UnmarkKept(s.Env)
		}
	}
	return swept, errors.Join(err, refused)
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
		if env == o.Env && labels[label.Persistent] == "true" && !o.Force {
			return false, "persistent: --force removes it"
		}
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
		if labels[label.Persistent] == "true" {
			return true, "--all (persistent)"
		}
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
