package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// docker runs the docker CLI and returns its trimmed stdout. Secrets never go into args:
// callers pass them through files (or, for `-e NAME`, through env).
func docker(ctx context.Context, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func labelArgs(labels map[string]string) []string {
	var a []string
	for k, v := range labels {
		a = append(a, "--label", k+"="+v)
	}
	return a
}

// containersByLabel lists full ids of all containers (running or not) with label k=v.
func containersByLabel(ctx context.Context, k, v string) ([]string, error) {
	out, err := docker(ctx, nil, "ps", "-aq", "--no-trunc", "--filter", "label="+k+"="+v)
	if err != nil || out == "" {
		return nil, err
	}
	return strings.Fields(out), nil
}

// leftovers counts containers, networks and volumes still carrying label k=v.
func leftovers(ctx context.Context, k, v string) (int, error) {
	n := 0
	for _, args := range [][]string{
		{"ps", "-aq", "--filter", "label=" + k + "=" + v},
		{"network", "ls", "-q", "--filter", "label=" + k + "=" + v},
		{"volume", "ls", "-q", "--filter", "label=" + k + "=" + v},
	} {
		out, err := docker(ctx, nil, args...)
		if err != nil {
			return n, err
		}
		n += len(strings.Fields(out))
	}
	return n, nil
}

// sweep removes every container, network and volume carrying label k=v.
func sweep(ctx context.Context, k, v string) error {
	f := "label=" + k + "=" + v
	var errs []string
	if out, err := docker(ctx, nil, "ps", "-aq", "--filter", f); err == nil && out != "" {
		if _, err := docker(ctx, nil, append([]string{"rm", "-f", "-v"}, strings.Fields(out)...)...); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if out, err := docker(ctx, nil, "network", "ls", "-q", "--filter", f); err == nil && out != "" {
		if _, err := docker(ctx, nil, append([]string{"network", "rm"}, strings.Fields(out)...)...); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if out, err := docker(ctx, nil, "volume", "ls", "-q", "--filter", f); err == nil && out != "" {
		if _, err := docker(ctx, nil, append([]string{"volume", "rm", "-f"}, strings.Fields(out)...)...); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sweep %s: %s", f, strings.Join(errs, "; "))
	}
	return nil
}

// peakMemory sums the peak memory usage of the given containers, read from their cgroups
// (cgroup v1 memory.max_usage_in_bytes, or v2 memory.peak). Containers that have already
// exited (the migrate job) have no cgroup left and are skipped; so are ones without a
// readable file, falling back to a `docker stats` sample of current usage.
func peakMemory(ctx context.Context, ids []string) int64 {
	var total int64
	var missing []string
	for _, id := range ids {
		if v, ok := cgroupPeak(id); ok {
			total += v
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		total += statsSample(ctx, missing)
	}
	return total
}

// memRoles are the containers whose peak memory a sample also records on its own: the
// auth backends' (kube-auth is the stand-in; an environment with the real API has none).
var memRoles = []string{"etcd", "kube-apiserver", "kube-auth"}

// peakMemoryByRole is the peak memory of each container whose name ends in -<role>, for
// the given roles, read as peakMemory reads it.
func peakMemoryByRole(ctx context.Context, ids, roles []string) map[string]int64 {
	if len(ids) == 0 {
		return nil
	}
	out, err := docker(ctx, nil, append([]string{"inspect", "--format", "{{.Id}} {{.Name}}"}, ids...)...)
	if err != nil {
		return nil
	}
	by := map[string]int64{}
	for _, line := range strings.Split(out, "\n") {
		id, name, _ := strings.Cut(line, " ")
		for _, r := range roles {
			if strings.HasSuffix(name, "-"+r) {
				by[r] += peakMemory(ctx, []string{id})
			}
		}
	}
	return by
}

func cgroupPeak(id string) (int64, bool) {
	for _, p := range []string{
		"/sys/fs/cgroup/memory/docker/" + id + "/memory.max_usage_in_bytes",
		"/sys/fs/cgroup/system.slice/docker-" + id + ".scope/memory.peak",
		"/sys/fs/cgroup/docker/" + id + "/memory.peak",
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil {
			return v, true
		}
	}
	return 0, false
}

// statsSample asks `docker stats --no-stream` for running containers' current usage.
func statsSample(ctx context.Context, ids []string) int64 {
	out, err := docker(ctx, nil, append([]string{"stats", "--no-stream", "--format", "{{.MemUsage}}"}, ids...)...)
	if err != nil {
		return 0
	}
	var total int64
	for _, line := range strings.Split(out, "\n") {
		used, _, _ := strings.Cut(line, "/")
		total += parseSize(strings.TrimSpace(used))
	}
	return total
}

func parseSize(s string) int64 {
	units := []struct {
		suf string
		m   float64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"B", 1}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suf) {
			f, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suf), 64)
			if err != nil {
				return 0
			}
			return int64(f * u.m)
		}
	}
	return 0
}

// waitReady polls url until it answers 200: the same host-side check ends every stack's
// time to ready, whatever the tool itself waited for.
func waitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := &http.Client{Timeout: time.Second}
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %s", url, timeout, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// runOut runs a program and returns its stdout.
func runOut(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	return string(out), err
}
