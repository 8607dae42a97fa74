package setup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
)

// recipeLabel is the image label that records the hash of an image's recipe inputs.
const recipeLabel = "dsenv.recipe"

// checkDocker asks the daemon for its version with a short timeout.
func checkDocker(ctx context.Context) (result, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return result{}, errors.New("docker CLI not found on PATH: install Docker (Debian: apt-get install -y docker.io) and start its daemon")
	}
	host, err := engine.Host()
	if err != nil {
		return result{}, err
	}
	// The docker CLI this process runs talks to the engine dsenv found (Docker's socket,
	// else Podman's API service), like the harness and the provider do.
	if os.Getenv("DOCKER_HOST") == "" {
		os.Setenv("DOCKER_HOST", host)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var detail string
	if d, err := engine.New(host); err == nil {
		// One API call (Podman's compatible service can take seconds per request).
		v, verr := d.Version(ctx)
		if verr == nil {
			detail = v.String() + " at " + host
		} else {
			err = verr
		}
		if err != nil {
			return result{}, engineError(ctx, host, err.Error())
		}
	} else {
		// An address only the docker CLI speaks (ssh://, TLS): ask through it.
		out, err := docker(ctx, nil, "version", "--format", "{{.Server.Version}}")
		if err != nil {
			return result{}, engineError(ctx, host, strings.TrimPrefix(lastLine(err.Error()), "docker version: "))
		}
		detail = "Docker Engine " + strings.TrimSpace(out)
	}
	return result{detail: detail}, nil
}

// engineError is the one line for an engine that does not answer, with what to do.
func engineError(ctx context.Context, host, msg string) error {
	why := "no answer"
	switch {
	case ctx.Err() != nil:
		why = "no answer within 10s"
	case strings.Contains(msg, "Cannot connect"), strings.Contains(msg, "no such file"), strings.Contains(msg, "connection refused"):
		why = "cannot connect"
	case msg != "":
		why = msg
	}
	hint := "start the Docker daemon (sudo systemctl start docker) or Podman's API service (podman system service --time=0 " + engine.PodmanSocket + " &), or point DOCKER_HOST at a running one"
	if strings.Contains(why, "permission denied") {
		hint = "add your user to the docker group (sudo usermod -aG docker $USER, then log in again) or run as root"
	}
	return fmt.Errorf("Docker daemon at %s does not answer (%s): %s", host, why, hint)
}

// docker runs the docker CLI and returns its stdout; the error carries the end of stderr.
func docker(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.String(), fmt.Errorf("docker %s: %s", args[0], tail(msg, 15))
	}
	return stdout.String(), nil
}

// imageRecipe returns the dsenv.recipe label and the id of image, or found=false.
func imageRecipe(ctx context.Context, image string) (recipe, id string, found bool, err error) {
	out, err := docker(ctx, nil, "image", "ls", "--no-trunc", "--format", "{{.ID}}", image)
	if err != nil {
		return "", "", false, err
	}
	if strings.TrimSpace(out) == "" {
		return "", "", false, nil
	}
	out, err = docker(ctx, nil, "image", "inspect", "--format",
		`{{.Id}} {{index .Config.Labels "`+recipeLabel+`"}}`, image)
	if err != nil {
		return "", "", false, err
	}
	id, recipe, _ = strings.Cut(strings.TrimSpace(out), " ")
	return recipe, id, true, nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
