package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/persistent"
	"github.com/dsenv/dsenv/internal/progress"
)

func init() {
	register("logs", "the environment's container logs: -f follows them, prefixed by service, like compose; without -f the last lines and health", runLogs)
}

func runLogs(ctx context.Context, args []string) error {
	fs := newFlagSet("logs", "[-f] [--tail N] [--env ID] [SERVICE...]")
	env := fs.String("env", "", "environment id (default: the one `dsenv up` created; dsenv status lists them)")
	tail := fs.Int("tail", 100, "lines per container to start with")
	follow := fs.Bool("f", false, "follow: print new lines as the containers write them, until Ctrl-C")
	dir := envDirFlag(fs)
	// Flags may come after the services too (dsenv logs datastorage -f).
	var services []string
	for {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		services = append(services, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *env == "" {
		d, err := persistentDir(*dir)
		if err != nil {
			return &prereqError{err: err}
		}
		id, err := (&persistent.Persistent{Dir: d}).EnvID()
		if errors.Is(err, os.ErrNotExist) {
			return &prereqError{err: errors.New("no environment from `make up` here"), fix: "run `make up`, or pass --env ID (dsenv status lists them)"}
		}
		if err != nil {
			return err
		}
		*env = id
	}
	eng, err := engine.FromEnv()
	if err != nil {
		return &prereqError{err: err, fix: "fix DOCKER_HOST"}
	}
	if err := eng.Ping(ctx); err != nil {
		return &prereqError{err: err, fix: "start Docker (or set DOCKER_HOST) and retry"}
	}
	cs, err := eng.Containers(ctx, label.Env+"="+*env)
	if err != nil {
		return err
	}
	cs, err = selectServices(*env, cs, services)
	if err != nil {
		return err
	}
	if !*follow {
		reports, err := engine.CollectLogs(ctx, *env, *tail)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, c := range cs {
			keep[c.Name] = true
		}
		var sel []engine.ContainerReport
		for _, r := range reports {
			if keep[r.Name] {
				sel = append(sel, r)
			}
		}
		engine.WriteReport(os.Stdout, sel)
		return nil
	}
	return followLogs(ctx, eng, *env, cs, *tail, os.Stdout)
}

// selectServices keeps the containers of the named services (all without names).
func selectServices(env string, cs []engine.Object, services []string) ([]engine.Object, error) {
	if len(cs) == 0 {
		return nil, fmt.Errorf("no containers labelled %s=%s: `dsenv status` lists the environments", label.Env, env)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	if len(services) == 0 {
		return cs, nil
	}
	var out []engine.Object
	var known []string
	for _, s := range services {
		found := false
		for _, c := range cs {
			if progress.Service(env, c.Name) == s {
				out, found = append(out, c), true
			}
		}
		if !found {
			for _, c := range cs {
				known = append(known, progress.Service(env, c.Name))
			}
			return nil, usagef("no service %q in %s: want one of %s", s, env, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// followLogs streams the containers' logs to w, each line prefixed by its service, until
// ctx ends (Ctrl-C) or every container has stopped.
func followLogs(ctx context.Context, eng *engine.Client, env string, cs []engine.Object, tail int, w io.Writer) error {
	width := 0
	for _, c := range cs {
		width = max(width, len(progress.Service(env, c.Name)))
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(cs))
	for i, c := range cs {
		st, err := eng.Inspect(ctx, c.ID)
		if err != nil {
			return err
		}
		pw := &prefixWriter{w: w, mu: &mu, prefix: fmt.Sprintf("%-*s | ", width, progress.Service(env, c.Name))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = eng.FollowLogs(ctx, c.ID, tail, st.Config.Tty, pw)
			pw.flush()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prefixWriter writes whole lines to w, each behind prefix; w is shared under mu.
type prefixWriter struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		p.mu.Lock()
		_, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.mu.Unlock()
		p.buf = p.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}

func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		p.Write([]byte("\n"))
	}
}
