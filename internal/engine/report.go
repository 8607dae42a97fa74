package engine

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dsenv/dsenv/internal/label"
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
	d, err := FromEnv()
	if err != nil {
		return nil, err
	}
	cs, err := d.Containers(ctx, label.Env+"="+env)
	if err != nil {
		return nil, err
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	reports := make([]ContainerReport, 0, len(cs))
	for _, c := range cs {
		r := ContainerReport{Name: c.Name, Status: c.State}
		st, err := d.Inspect(ctx, c.ID)
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
		if r.Logs, err = d.Logs(ctx, c.ID, tail, st.Config.Tty); err != nil {
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
