package tfharness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// ContainerReport is what the harness knows about one container after a failure.
type ContainerReport struct {
	Name      string
	Status    string // running, exited, ...
	ExitCode  int
	Health    string   // healthy, unhealthy, starting, or "" without a healthcheck
	HealthLog []string // the healthcheck's last results
	Logs      string   // last lines of stdout and stderr
}

// CollectLogs gathers, for each container labelled with env, its last tail log lines,
// state and health log.
func CollectLogs(ctx context.Context, env string, tail int) ([]ContainerReport, error) {
	d, err := dockerFromEnv()
	if err != nil {
		return nil, err
	}
	cs, err := d.containers(ctx, LabelEnv+"="+env)
	if err != nil {
		return nil, err
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	reports := make([]ContainerReport, 0, len(cs))
	for _, c := range cs {
		r := ContainerReport{Name: c.Name, Status: c.State}
		st, err := d.inspect(ctx, c.ID)
		if err != nil {
			r.Logs = fmt.Sprintf("(inspect: %v)", err)
			reports = append(reports, r)
			continue
		}
		r.Status, r.ExitCode = st.State.Status, st.State.ExitCode
		if st.State.Error != "" {
			r.Status += ": " + st.State.Error
		}
		if st.State.OOMKilled {
			r.Status += " (OOM killed)"
		}
		if h := st.State.Health; h != nil {
			r.Health = h.Status
			for _, l := range h.Log {
				r.HealthLog = append(r.HealthLog, fmt.Sprintf("%s exit %d: %s", l.Start, l.ExitCode, strings.TrimSpace(l.Output)))
			}
		}
		if r.Logs, err = d.logs(ctx, c.ID, tail, st.Config.Tty); err != nil {
			r.Logs = fmt.Sprintf("(logs: %v)", err)
		}
		reports = append(reports, r)
	}
	return reports, nil
}

// WriteReport prints reports in a readable form.
func WriteReport(w io.Writer, reports []ContainerReport) {
	for _, r := range reports {
		health := ""
		if r.Health != "" {
			health = ", health " + r.Health
		}
		fmt.Fprintf(w, "==== %s: %s (exit %d%s) ====\n", r.Name, r.Status, r.ExitCode, health)
		if logs := strings.TrimRight(r.Logs, "\n"); logs != "" {
			fmt.Fprintln(w, logs)
		} else {
			fmt.Fprintln(w, "(no log output)")
		}
		if len(r.HealthLog) > 0 {
			fmt.Fprintln(w, "---- health log ----")
			for _, l := range r.HealthLog {
				fmt.Fprintln(w, l)
			}
		}
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// DumpLogs writes each container's last log lines and health log to the logger and,
// with the full state and Terraform's output, to <artifacts>/<test>/<env>/. It returns
// that directory.
func (e *Env) DumpLogs(ctx context.Context, reason string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	dir := e.cfg.artifacts()
	if e.cfg.testName != "" {
		dir = filepath.Join(dir, unsafeName.ReplaceAllString(e.cfg.testName, "_"))
	}
	dir = filepath.Join(dir, e.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.logf("env %s: artifacts: %v", e.ID, err)
		dir = ""
	}
	save := func(name, content string) {
		if dir == "" {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(e.redact(content)), 0o644); err != nil {
			e.logf("env %s: artifacts: %v", e.ID, err)
		}
	}
	save("terraform.log", e.tfOut.String())

	full, err := CollectLogs(ctx, e.ID, 1000)
	if err != nil {
		e.logf("env %s: %s; collecting container logs: %v", e.ID, reason, err)
		return dir
	}
	for _, r := range full {
		var b strings.Builder
		WriteReport(&b, []ContainerReport{r})
		save(unsafeName.ReplaceAllString(r.Name, "_")+".log", b.String())
		if j, err := json.MarshalIndent(r, "", "  "); err == nil {
			save(unsafeName.ReplaceAllString(r.Name, "_")+".state.json", string(j))
		}
	}
	var b strings.Builder
	for i := range full {
		full[i].Logs = lastLines(full[i].Logs, e.cfg.logTail)
		if n := len(full[i].HealthLog); n > 3 {
			full[i].HealthLog = full[i].HealthLog[n-3:]
		}
	}
	WriteReport(&b, full)
	e.logf("env %s: %s; last %d log lines of each of its %d containers (all in %s):\n%s",
		e.ID, reason, e.cfg.logTail, len(full), dir, e.redact(b.String()))
	return dir
}
