package tfharness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
)

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// DumpLogs writes each container's last log lines and health log to the logger and,
// with the full state and Terraform's output, to <artifacts>/<test>/<env>/. It returns
// that directory.
func (e *Env) DumpLogs(ctx context.Context, reason string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	root := e.cfg.artifacts()
	dir := root
	if e.cfg.testName != "" {
		dir = filepath.Join(dir, unsafeName.ReplaceAllString(e.cfg.testName, "_"))
	}
	dir = filepath.Join(dir, e.ID)
	if err := privateDir(root, dir); err != nil {
		e.logf("env %s: artifacts: %v", e.ID, err)
		dir = ""
	}
	save := func(name, content string) {
		if dir == "" {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(e.redact(content)), 0o600); err != nil {
			e.logf("env %s: artifacts: %v", e.ID, err)
		}
	}
	save("terraform.log", e.tfOut.String())

	full, err := engine.CollectLogs(ctx, e.ID, 1000)
	if err != nil {
		e.logf("env %s: %s; collecting container logs: %v", e.ID, reason, err)
		return dir
	}
	for _, r := range full {
		var b strings.Builder
		engine.WriteReport(&b, []engine.ContainerReport{r})
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
	engine.WriteReport(&b, full)
	e.logf("env %s: %s; last %d log lines of each of its %d containers (all in %s):\n%s",
		e.ID, reason, e.cfg.logTail, len(full), dir, e.redact(b.String()))
	return dir
}

// privateDir creates dir (below root) and its missing parents 0700, and makes root and every
// directory from root down to dir 0700 (an older dsenv made them 0755), so that only their
// owner reads the logs and states inside.
func privateDir(root, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("%s is not below %s", dir, root)
	}
	d := root
	for _, part := range append([]string{"."}, strings.Split(rel, string(filepath.Separator))...) {
		d = filepath.Join(d, part)
		if err := os.Chmod(d, 0o700); err != nil {
			return err
		}
	}
	return nil
}
