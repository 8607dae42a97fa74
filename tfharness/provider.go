package tfharness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/tfbin"
)

// provider is a docker provider process the harness starts for one environment and
// hands to Terraform with TF_REATTACH_PROVIDERS (the provider's managed debug mode).
// Without it every apply launches the 76 MB provider four times in a row (schema,
// validate, plan, apply), about 0.2 s of the time before the first container exists;
// this one starts while the workspace and the network are prepared. One process per
// environment: Terraform stops the provider it uses when an apply is interrupted, which
// must not reach another environment's apply. It carries the DSENV_ENV and DSENV_OWNER
// markers, so the reaper kills it with the rest when the test process dies.
type provider struct {
	cmd  *exec.Cmd
	info tfexec.ReattachInfo
	done chan struct{}
}

// reattachPrefix starts the line on which the provider prints its reattach config.
const reattachPrefix = "TF_REATTACH_PROVIDERS='"

// startProvider starts bin in managed debug mode and waits for its reattach config,
// registered as address (e.g. registry.terraform.io/kreuzwerker/docker).
func startProvider(ctx context.Context, bin, address string, env map[string]string) (*provider, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cmd := exec.Command(bin, "-debug")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// Its own process group: a Ctrl-C in the terminal is the harness's to handle.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &provider{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if s, ok := strings.CutPrefix(line, reattachPrefix); ok && !sent {
				found <- strings.TrimSuffix(s, "'")
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, out) // never let the provider block on a full pipe
	}()
	select {
	case s := <-found:
		var raw map[string]tfexec.ReattachConfig
		if err := json.Unmarshal([]byte(s), &raw); err != nil || len(raw) != 1 {
			p.stop()
			return nil, fmt.Errorf("provider reattach config %q: %v", s, err)
		}
		for _, c := range raw {
			p.info = tfexec.ReattachInfo{address: c}
		}
		return p, nil
	case <-p.done:
		return nil, errors.New("provider exited before it printed its reattach config")
	case <-ctx.Done():
		p.stop()
		return nil, fmt.Errorf("provider did not print its reattach config: %w", ctx.Err())
	}
}

// stop interrupts the provider (it then removes its socket), kills it after a second,
// and waits for it to exit.
func (p *provider) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// startProvider starts the environment's own provider process (see provider) in the
// background. The channel yields it, or nil when the harness does not reattach (OpenTofu,
// DSENV_REATTACH=0) or it could not start: Terraform then launches the provider itself.
func (e *Env) startProvider(ctx context.Context) chan *provider {
	ch := make(chan *provider, 1)
	if !e.cfg.reattach || e.cfg.binary != Terraform {
		ch <- nil
		return ch
	}
	bin := cache.ProviderBinary(e.proc.cacheDir, tfbin.ProviderHost(e.cfg.binary))
	env := goEnv(tfbin.Env(map[string]string{"DSENV_ENV": e.ID, "DSENV_OWNER": e.Owner,
		// Its plugin socket goes in the process's directory, which the reaper removes: a
		// provider killed outright leaves no socket file in /tmp.
		"PLUGIN_UNIX_SOCKET_DIR": e.proc.base}))
	go func() {
		p, err := startProvider(ctx, bin, tfbin.ProviderHost(e.cfg.binary)+"/kreuzwerker/docker", env)
		if err != nil {
			e.logf("env %s: provider: %v (Terraform starts its own)", e.ID, err)
		}
		ch <- p
	}()
	return ch
}
