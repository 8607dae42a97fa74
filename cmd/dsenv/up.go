package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/persistent"
	"github.com/dsenv/dsenv/internal/progress"
	"github.com/dsenv/dsenv/internal/tfbin"
)

func init() {
	register("up", "bring up the persistent local environment (terraform/env, applied in place); --auth-backend kube: the real Kubernetes API", runUp)
}

// envDirFlag adds --dir (the root module applied in place) to fs.
func envDirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", "", "root module directory (default: terraform/env of the enclosing dsenv checkout)")
}

// persistentDir resolves --dir, or finds terraform/env above the working directory.
func persistentDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, "terraform", "env")
		if _, err := os.Stat(filepath.Join(candidate, "main.tf")); err == nil {
			return candidate, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("terraform/env not found above the working directory: run from the dsenv checkout or pass --dir")
		}
	}
}

func runUp(ctx context.Context, args []string) error {
	fs := newFlagSet("up", "[--name ID] [--auth-backend standin|kube] [--verbose]")
	dir := envDirFlag(fs)
	name := fs.String("name", "dsenv-local", "environment id (name_prefix) used when the variables file is first written")
	bin := fs.String("binary", "", "terraform or tofu (default $DSENV_TF_BINARY, else terraform)")
	verbose := fs.Bool("verbose", false, "show Terraform's own output (init, plan, apply)")
	dsImage := fs.String("datastorage-image", "", "DS image for this up, e.g. the real DS (default: the reference dsenv/datastorage:latest); needs --migrations-dir unless it is the reference DS")
	migrations := fs.String("migrations-dir", "", "host directory of that DS's own goose migrations (default: the reference schema)")
	backend := fs.String("auth-backend", persistent.AuthStandIn, "what checks the DS's tokens for this up: standin (the auth stand-in) or kube (real etcd + kube-apiserver with RBAC, built by dsenv setup --with-kube; "+
		"api_token and denied_token are then ServiceAccount tokens, valid 7 days and minted anew by every up). Like --datastorage-image it holds for this up only: an up without it goes back to the stand-in")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *backend != persistent.AuthStandIn && *backend != persistent.AuthKube {
		return usagef("--auth-backend %q: want standin or kube", *backend)
	}
	d, err := persistentDir(*dir)
	if err != nil {
		return err
	}
	b, err := binaryFlag(*bin)
	if err != nil {
		return err
	}
	p := &persistent.Persistent{Dir: d, Name: *name, Binary: b, Output: os.Stderr,
		DataStorageImage: *dsImage, MigrationsDir: *migrations, AuthBackend: *backend}
	_, statErr := os.Stat(p.VarsFile())
	start := time.Now()
	var outputs map[string]tfexec.OutputMeta
	if *verbose {
		outputs, err = p.Up(ctx)
	} else {
		outputs, err = upWithProgress(ctx, p)
	}
	if err != nil {
		return err
	}
	id := outputString(outputs, "env_id")
	fmt.Printf("\nEnvironment %s is up (%s).\n", id, progress.Seconds(time.Since(start)))
	if os.IsNotExist(statErr) {
		fmt.Printf("Credentials generated into %s (git-ignored, mode 0600).\n", filepath.Join(relPath(d), persistent.VarsFileName))
	}
	if outputString(outputs, "auth_backend") == persistent.AuthKube {
		if t, err := p.KubeTokens(); err == nil {
			fmt.Printf("Real Kubernetes API at %s: api_token and denied_token are new ServiceAccount tokens, valid until %s (in %s, 0600; the next up mints new ones).\n",
				outputString(outputs, "kube_api_host_url"), t.Expires.Local().Format("2006-01-02 15:04 MST"), filepath.Join(relPath(d), persistent.KubeTokensFileName))
		}
	}
	printSummary(os.Stdout, outputs, dsenvCommand(d))
	return nil
}

// upWithProgress applies with one line per step and per container, and Terraform's
// output only where it explains a failure.
func upWithProgress(ctx context.Context, p *persistent.Persistent) (map[string]tfexec.OutputMeta, error) {
	eng, err := engine.FromEnv()
	if err != nil {
		return nil, err
	}
	if err := eng.Ping(ctx); err != nil {
		return nil, &prereqError{err: err, fix: "start Docker (or set DOCKER_HOST) and retry"}
	}
	// The id is in the variables file, which the first Up writes: write it now, so that
	// the event subscription has the id before anything is created.
	id, err := p.EnvID()
	if errors.Is(err, os.ErrNotExist) {
		id = p.Name
		if id == "" {
			id = "dsenv-local"
		}
	} else if err != nil {
		return nil, err
	}
	tty := progress.IsTerminal(os.Stdout)
	disp := progress.New(os.Stdout, tty)
	defer disp.Close()
	watch, err := progress.WatchContainers(ctx, disp, eng, id)
	if err != nil {
		return nil, err
	}
	steps := map[string]string{"init": "terraform init", "plan": "terraform plan", "apply": "terraform apply",
		"kube": "kube bootstrap"}
	p.Progress = func(ev persistent.Event) {
		if ev.Resource != "" {
			if strings.Contains(ev.Resource, "docker_container.") || strings.Contains(ev.Resource, "data.") {
				return // containers: their lines say it, from the engine's events; data sources: reads
			}
			key := "r/" + ev.Resource
			switch ev.Phase {
			case persistent.Started:
				disp.Set(key, shortAddr(ev.Resource), ev.Action, progress.Running)
			case persistent.Done:
				disp.Set(key, shortAddr(ev.Resource), pastTense(ev.Action)+" "+progress.Seconds(ev.Elapsed), progress.Done)
			case persistent.Failed:
				disp.Set(key, shortAddr(ev.Resource), ev.Action+" failed after "+progress.Seconds(ev.Elapsed), progress.Failed)
			}
			return
		}
		key, lbl := "s/"+ev.Step, steps[ev.Step]
		switch ev.Phase {
		case persistent.Started:
			disp.Set(key, lbl, "", progress.Running)
		case persistent.Done:
			text := progress.Seconds(ev.Elapsed)
			if ev.Detail != "" {
				text += "  " + ev.Detail
			}
			disp.Set(key, lbl, text, progress.Done)
		case persistent.Failed:
			disp.Set(key, lbl, "failed after "+progress.Seconds(ev.Elapsed), progress.Failed)
		}
	}
	outputs, upErr := p.Up(ctx)
	bad, finErr := watch.Finish(context.WithoutCancel(ctx), eng)
	disp.Close()
	var tfErr *persistent.TerraformError
	if errors.As(upErr, &tfErr) {
		fmt.Fprintf(os.Stderr, "\n%s\n\n", tfErr.Blocks)
		return nil, fmt.Errorf("terraform %s failed (its error is above): fix it and rerun, or add --verbose (make up UPFLAGS=--verbose) for Terraform's full output", tfErr.Step)
	}
	if upErr != nil {
		return nil, upErr
	}
	if finErr != nil {
		return nil, finErr
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("containers not healthy: %s: see `dsenv logs` (make logs)", strings.Join(bad, ", "))
	}
	return outputs, nil
}

// shortAddr shortens a resource address for a progress line: module.network[0].docker_network.this -> network docker_network.
func shortAddr(addr string) string {
	parts := strings.Split(addr, ".")
	var mod []string
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "module" {
			mod = append(mod, strings.SplitN(parts[i+1], "[", 2)[0])
			i++
			continue
		}
		res := parts[i]
		name := strings.Join(parts[i+1:], ".")
		if name != "this" {
			res += "." + name
		}
		return strings.TrimSpace(strings.Join(mod, "/") + " " + res)
	}
	return addr
}

func pastTense(action string) string {
	switch action {
	case "create":
		return "created"
	case "update":
		return "updated"
	case "delete":
		return "deleted"
	case "replace":
		return "replaced"
	}
	return action + " done"
}

func outputString(outputs map[string]tfexec.OutputMeta, name string) string {
	var s string
	if m, ok := outputs[name]; ok {
		_ = json.Unmarshal(m.Value, &s)
	}
	return s
}

// invocation is how the printed commands run dsenv: from the repository root with go
// run, with --dir unless the environment is that checkout's terraform/env.
type invocation struct{ dir string }

func dsenvCommand(dir string) invocation {
	root := filepath.Dir(filepath.Dir(dir))
	if filepath.Base(dir) == "env" && filepath.Base(filepath.Dir(dir)) == "terraform" {
		if _, err := os.Stat(filepath.Join(root, "cmd", "dsenv", "main.go")); err == nil {
			if wd, _ := os.Getwd(); wd == root {
				return invocation{}
			}
		}
	}
	return invocation{dir: dir}
}

// cmd is the command line of `dsenv sub args...`.
func (i invocation) cmd(sub string, args ...string) string {
	parts := []string{"go run ./cmd/dsenv", sub}
	if i.dir != "" {
		parts = append(parts, "--dir", shellQuote(i.dir))
	}
	return strings.Join(append(parts, args...), " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printSummary prints the non-secret outputs a person uses and commands to paste (from
// the repository root) that take each secret from `dsenv output` instead of printing it.
func printSummary(w io.Writer, outputs map[string]tfexec.OutputMeta, dsenv invocation) {
	url := outputString(outputs, "datastorage_url")
	fmt.Fprintf(w, "  DS API      %s   (health %s)\n", url, outputString(outputs, "datastorage_health_url"))
	fmt.Fprintf(w, "  PostgreSQL  %s:%s   user %s  db %s\n", outputString(outputs, "postgres_host"),
		compactJSON(outputs["postgres_port"].Value), outputString(outputs, "postgres_user"), outputString(outputs, "postgres_db"))
	fmt.Fprintf(w, "  Redis       %s\n", outputString(outputs, "redis_addr"))
	if outputString(outputs, "auth_backend") == persistent.AuthKube {
		fmt.Fprintf(w, "  Kube API    %s   (admin kubeconfig: %s; token of the unbound ServiceAccount: %s)\n",
			outputString(outputs, "kube_api_host_url"), dsenv.cmd("output", "kube_admin_kubeconfig"), dsenv.cmd("output", "denied_token"))
	}
	out := func(name string) string { return "$(" + dsenv.cmd("output", name) + ")" }
	fmt.Fprintf(w, "\nPaste from the repository root (secrets come from `dsenv output NAME`, never printed):\n")
	for _, c := range summaryCommands(url, out) {
		fmt.Fprintf(w, "  %s\n", c)
	}
	fmt.Fprintf(w, "\nMore: %s (all outputs) · %s · %s · make down\n",
		dsenv.cmd("output"), dsenv.cmd("status"), dsenv.cmd("logs", "-f"))
}

// summaryCommands are the paste-ready commands of the summary: psql, redis-cli, and a
// curl that writes a Gateway-like audit event and one that reads it back. The event passes
// the real DS's schema too (its signal_type allows only "alert": anything else is a 400).
func summaryCommands(url string, out func(name string) string) []string {
	event := `'{"version":"1.0","event_type":"gateway.signal.received","event_timestamp":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'",` +
		`"event_category":"gateway","event_action":"received","event_outcome":"success","correlation_id":"rr-dsenv-try",` +
		`"event_data":{"event_type":"gateway.signal.received","signal_type":"alert","signal_name":"HighMemory","namespace":"default","fingerprint":"dsenv-try"}}'`
	return []string{
		fmt.Sprintf(`psql "%s" -c 'select count(*) from audit_events'`, out("postgres_dsn")),
		fmt.Sprintf(`redis-cli --no-auth-warning -u "%s" ping`, out("redis_url")),
		fmt.Sprintf(`curl -sS -X POST %s/api/v1/audit/events -H "Authorization: Bearer %s" -H 'Content-Type: application/json' -d %s`, url, out("api_token"), event),
		fmt.Sprintf(`curl -sS '%s/api/v1/audit/events?correlation_id=rr-dsenv-try' -H "Authorization: Bearer %s"`, url, out("api_token")),
	}
}

func binaryFlag(v string) (tfbin.Binary, error) {
	if v == "" {
		return tfbin.FromEnv()
	}
	switch b := tfbin.Binary(v); b {
	case tfbin.Terraform, tfbin.OpenTofu:
		return b, nil
	}
	return "", fmt.Errorf("--binary %q: want terraform or tofu", v)
}

func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

func compactJSON(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}
