// Package testdocker starts the dsenv Postgres and Redis images for integration tests with the
// docker CLI: published on 127.0.0.1 with Docker-assigned ports, labelled like every dsenv
// object (so `dsenv sweep` removes leftovers of a killed run), passwords passed through the
// child's environment (never on a command line), real readiness (a query, a PING), and removal
// in t.Cleanup. A missing image fails the test and says to run `make setup`.
package testdocker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Image names (docs/interfaces.md).
const (
	PostgresImage = "dsenv/postgres:15"
	RedisImage    = "dsenv/redis:7"
)

// Container is a running test container.
type Container struct {
	ID    string
	Name  string
	Image string
}

// RequireImage fails the test unless the image exists locally.
func RequireImage(t testing.TB, image string) {
	t.Helper()
	if out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Id}}", image).CombinedOutput(); err != nil {
		t.Fatalf("docker image %s is not available (%s): run `make setup` first; it builds the dsenv images locally",
			image, strings.TrimSpace(string(out)))
	}
}

// RandomSecret returns a random hex string for passwords and tokens.
func RandomSecret(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random secret: %v", err)
	}
	return hex.EncodeToString(b)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type runSpec struct {
	image         string
	containerPort int
	hostPort      int               // 0: Docker picks one
	env           map[string]string // passed as -e NAME with the value in the child's environment
	args          []string
}

func docker(ctx context.Context, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func start(t testing.TB, spec runSpec) *Container {
	t.Helper()
	RequireImage(t, spec.image)
	host, _ := os.Hostname()
	name := "dstest-" + RandomSecret(t)[:12]
	args := []string{"run", "-d", "--name", name,
		"--label", "dsenv.env=" + name,
		"--label", fmt.Sprintf("dsenv.owner=%d@%s", os.Getpid(), host),
		"--label", "dsenv.created=" + strconv.FormatInt(time.Now().Unix(), 10),
		"-p", fmt.Sprintf("127.0.0.1:%s:%d", portOrEmpty(spec.hostPort), spec.containerPort),
	}
	var env []string
	for k, v := range spec.env {
		args = append(args, "-e", k)
		env = append(env, k+"="+v)
	}
	args = append(args, spec.image)
	args = append(args, spec.args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := docker(ctx, env, args...)
	if err != nil {
		t.Fatalf("start %s: %v", spec.image, err)
	}
	c := &Container{ID: id, Name: name, Image: spec.image}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := docker(ctx, nil, "rm", "-f", "-v", c.ID); err != nil {
			t.Logf("remove container %s: %v", c.Name, err)
		}
	})
	return c
}

func portOrEmpty(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}

// HostPort is the 127.0.0.1 port published for containerPort.
func (c *Container) HostPort(t testing.TB, containerPort int) int {
	t.Helper()
	out, err := docker(context.Background(), nil, "port", c.ID, fmt.Sprintf("%d/tcp", containerPort))
	if err != nil {
		t.Fatalf("published port of %s: %v", c.Name, err)
	}
	line := strings.Split(out, "\n")[0]
	_, portStr, err := net.SplitHostPort(line)
	if err != nil {
		t.Fatalf("parse `docker port` output %q: %v", out, err)
	}
	p, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatalf("parse port %q: %v", portStr, err)
	}
	return p
}

// Logs returns the container's output (for failure messages).
func (c *Container) Logs() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "logs", "--tail", "50", c.ID).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(docker logs failed: %v)", err)
	}
	return string(out)
}

// Do runs a docker subcommand on the container: pause, unpause, stop, start, kill.
func (c *Container) Do(t testing.TB, verb string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{verb}
	if verb == "stop" {
		args = append(args, "-t", "5")
	}
	// The cgroup freezer can fail transiently ("unable to freeze") on a busy machine: retry.
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if _, err = docker(ctx, nil, append(args, c.ID)...); err == nil {
			return
		}
		if !strings.Contains(err.Error(), "freeze") && !strings.Contains(err.Error(), "thaw") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("docker %s %s: %v", verb, c.Name, err)
}

// Postgres is a running dsenv/postgres container.
type Postgres struct {
	*Container
	Port     int
	User     string
	Password string
	DB       string
}

// Option changes how a container is started.
type Option func(*runSpec)

// WithHostPort publishes on a fixed host port (so it survives docker stop/start).
func WithHostPort(p int) Option { return func(s *runSpec) { s.hostPort = p } }

// StartPostgres starts dsenv/postgres:15 with a random password, waits until it answers a
// query, and removes it when the test ends. fsync is off: test data need not survive a crash.
func StartPostgres(t testing.TB, opts ...Option) *Postgres {
	t.Helper()
	pw := RandomSecret(t)
	spec := runSpec{
		image: PostgresImage, containerPort: 5432,
		env:  map[string]string{"POSTGRES_USER": "datastorage", "POSTGRES_DB": "datastorage", "POSTGRES_PASSWORD": pw},
		args: []string{"postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"},
	}
	for _, o := range opts {
		o(&spec)
	}
	c := start(t, spec)
	p := &Postgres{Container: c, Port: c.HostPort(t, 5432), User: "datastorage", Password: pw, DB: "datastorage"}
	p.WaitReady(t, 60*time.Second)
	return p
}

// DSN is the host-side connection string (the password is in it: do not log it).
func (p *Postgres) DSN() string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", p.User, p.Password, p.Port, p.DB)
}

// WaitReady waits until a new connection answers SELECT 1.
func (p *Postgres) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, p.DSN())
		if err == nil {
			var one int
			err = conn.QueryRow(ctx, "SELECT 1").Scan(&one)
			_ = conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("postgres %s not ready after %s: %v\n--- container logs ---\n%s", p.Name, timeout, last, p.Logs())
}

// Redis is a running dsenv/redis container.
type Redis struct {
	*Container
	Port     int
	Password string
}

// StartRedis starts dsenv/redis:7 with a random password (REDIS_PASSWORD), waits for PING and
// removes it when the test ends.
func StartRedis(t testing.TB, opts ...Option) *Redis {
	t.Helper()
	pw := RandomSecret(t)
	spec := runSpec{image: RedisImage, containerPort: 6379, env: map[string]string{"REDIS_PASSWORD": pw}}
	for _, o := range opts {
		o(&spec)
	}
	c := start(t, spec)
	r := &Redis{Container: c, Port: c.HostPort(t, 6379), Password: pw}
	r.WaitReady(t, 30*time.Second)
	return r
}

// Addr is host:port on 127.0.0.1.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.Port) }

// Client returns a client for the test; it is closed at cleanup.
func (r *Redis) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), Password: r.Password})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// WaitReady waits until PING answers.
func (r *Redis) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), Password: r.Password, MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = c.Ping(ctx).Err()
		cancel()
		if last == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("redis %s not ready after %s: %v\n--- container logs ---\n%s", r.Name, timeout, last, r.Logs())
}
