package images

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// envLabel marks every container of this test process, for `dsenv sweep` if a run dies.
var envLabel = "imgtest-" + randHex(4)

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// secret returns a fresh password; it reaches containers only through the environment of
// the docker CLI process or a file, never through a command line.
func secret() string { return "pw-" + randHex(12) }

// docker runs the docker CLI with extra environment (for `-e NAME` without a value).
func docker(ctx context.Context, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// requireImage fails (never skips) when setup has not built image.
func requireImage(t *testing.T, image string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := docker(ctx, nil, "image", "ls", "-q", image)
	if err != nil {
		t.Fatalf("docker: %v (is the Docker daemon running?)", err)
	}
	if out == "" {
		t.Fatalf("image %s not found: run `make setup` to build it", image)
	}
}

// container is one running test container.
type container struct {
	t  *testing.T
	id string
}

// run starts a detached container labelled for this test and removes it in t.Cleanup.
// env holds NAME=value pairs passed as `-e NAME`, so values stay off the command line.
func run(t *testing.T, image string, env []string, args ...string) *container {
	t.Helper()
	requireImage(t, image)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dargs := []string{"run", "-d", "--label", "dsenv.env=" + envLabel, "--label", "dsenv.owner=" + fmt.Sprintf("%d@test", os.Getpid())}
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		dargs = append(dargs, "-e", name)
	}
	dargs = append(dargs, args...)
	id, err := docker(ctx, env, dargs...)
	if id != "" {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := docker(ctx, nil, "rm", "-f", "-v", id); err != nil {
				t.Errorf("remove container: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("start %s: %v", image, err)
	}
	return &container{t: t, id: id}
}

// hostPort returns the 127.0.0.1 host port Docker published for port/tcp.
func (c *container) hostPort(port int) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := docker(ctx, nil, "port", c.id, fmt.Sprintf("%d/tcp", port))
	if err != nil {
		c.t.Fatalf("published port %d: %v\n%s", port, err, c.logs())
	}
	line, _, _ := strings.Cut(out, "\n")
	i := strings.LastIndexByte(line, ':')
	if i < 0 {
		c.t.Fatalf("docker port %d: unexpected %q", port, out)
	}
	return line[i+1:]
}

func (c *container) logs() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "logs", "--tail", "30", c.id)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// wait waits for the container to exit and returns its exit code.
func (c *container) wait(timeout time.Duration) int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := docker(ctx, nil, "wait", c.id)
	if err != nil {
		c.t.Fatalf("wait for exit: %v\n%s", err, c.logs())
	}
	var code int
	fmt.Sscan(out, &code)
	return code
}
