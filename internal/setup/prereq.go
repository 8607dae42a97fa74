package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// tool is one command setup runs, checked before any slow step.
type tool struct {
	cmd  string // looked up on PATH
	pkg  string // the Debian package that installs it; "" when apt cannot
	why  string // what setup needs it for
	hint string // how to get it when no package does (pkg == "")
}

// host is what decide knows about the machine.
type host struct {
	missing []tool
	// root: the process can install packages; apt: apt-get is on PATH; noInstall: the
	// user asked setup not to install anything (--no-install, DSENV_NO_INSTALL=1).
	root, apt, noInstall bool
}

// decide returns the Debian packages setup installs itself, or the error that names
// every missing tool and the exact command that provides it.
func decide(h host) (install []string, err error) {
	if len(h.missing) == 0 {
		return nil, nil
	}
	var pkgs, lines []string
	var other []string
	for _, t := range h.missing {
		if t.pkg == "" {
			other = append(other, fmt.Sprintf("%s not found on PATH (%s): %s", t.cmd, t.why, t.hint))
			continue
		}
		pkgs = append(pkgs, t.pkg)
		lines = append(lines, fmt.Sprintf("%s (%s)", t.cmd, t.why))
	}
	canInstall := h.root && h.apt && !h.noInstall
	if len(other) == 0 && canInstall {
		return pkgs, nil
	}
	if len(pkgs) > 0 {
		var run string
		switch {
		case !h.apt:
			run = "install " + strings.Join(pkgs, " ") + " with the system's package manager"
		case h.root:
			run = "run `apt-get install -y " + strings.Join(pkgs, " ") + "`"
		default:
			run = "run `sudo apt-get install -y " + strings.Join(pkgs, " ") + "`"
		}
		why := ""
		if h.apt && !h.noInstall && !h.root {
			why = " (setup installs it itself only as root)"
		}
		other = append(other, fmt.Sprintf("%s not found on PATH%s: %s", strings.Join(lines, ", "), why, run))
	}
	return nil, errors.New(strings.Join(other, "; "))
}

// prerequisites checks every tool the remaining steps will run and installs what apt can
// (as root), before anything slow starts: a missing tool costs seconds, not a provider
// build. needBase says whether the base image must be built (debootstrap, tar, root).
func prerequisites(ctx context.Context, o Options, needBase bool) (result, error) {
	tools := []tool{
		{cmd: "go", why: "builds the docker provider and the reference DS", hint: "install Go (https://go.dev/doc/install) and put it on PATH"},
	}
	if needBase {
		tools = append(tools,
			tool{cmd: "debootstrap", pkg: "debootstrap", why: "builds the base image from Debian packages"},
			tool{cmd: "tar", pkg: "tar", why: "streams the base image's root into docker import"})
	}
	h := host{root: os.Geteuid() == 0, noInstall: o.NoInstall}
	_, err := exec.LookPath("apt-get")
	h.apt = err == nil
	var found []string
	for _, t := range tools {
		if _, err := exec.LookPath(t.cmd); err != nil {
			h.missing = append(h.missing, t)
		} else {
			found = append(found, t.cmd)
		}
	}
	install, err := decide(h)
	if err != nil {
		return result{}, err
	}
	if needBase && !h.root {
		return result{}, errors.New("the base image must be built, and debootstrap needs root: run `sudo -E make setup` (or `sudo -E dsenv setup`) once")
	}
	if needBase {
		if _, err := debianMirror(debianSuite); err != nil {
			return result{}, err
		}
	}
	detail := strings.Join(found, ", ") + " found"
	if len(install) > 0 {
		if err := aptInstall(ctx, install); err != nil {
			return result{}, err
		}
		for _, t := range h.missing {
			if _, err := exec.LookPath(t.cmd); err != nil {
				return result{}, fmt.Errorf("installed %s, but %s is still not on PATH", t.pkg, t.cmd)
			}
		}
		detail += "; installed " + strings.Join(install, ", ") + " (apt-get install -y " + strings.Join(install, " ") + ")"
		return result{built: true, installed: install, detail: detail}, nil
	}
	return result{detail: detail}, nil
}

// aptInstall installs Debian packages; when apt's lists are missing or stale (a fresh
// container has none), it updates them once and tries again.
func aptInstall(ctx context.Context, pkgs []string) error {
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	install := append([]string{"install", "-y", "-q"}, pkgs...)
	if _, err := run(install...); err == nil {
		return nil
	}
	if out, err := run("update", "-q"); err != nil {
		return fmt.Errorf("apt-get update: %v: %s", err, strings.ReplaceAll(tail(string(out), 5), "\n", " | "))
	}
	if out, err := run(install...); err != nil {
		return fmt.Errorf("apt-get install -y %s: %v: %s", strings.Join(pkgs, " "), err, strings.ReplaceAll(tail(string(out), 5), "\n", " | "))
	}
	return nil
}
