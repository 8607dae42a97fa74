package env_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/persistent"
	"github.com/dsenv/dsenv/tests/internal/labelled"
)

// TestUpDown is the `make up` / `make down` path (issue 4, Must show 1, 2, 3 and 7): a
// freshly built cmd/dsenv applies a copy of the repository's terraform tree in place.
func TestUpDown(t *testing.T) {
	ctx := testContext(t)
	requireDocker(t, ctx)
	root := repoRoot(t)
	work := t.TempDir()
	bin := buildDsenv(t, ctx, filepath.Join(root), work)
	envDir := filepath.Join(copyTerraform(t, root, filepath.Join(work, "terraform")), "env")
	name := "dsenv-up-" + randomSuffix(t, 8)
	filter := label.Env + "=" + name
	t.Cleanup(func() { labelled.Remove(t, filter) })

	// dsenv up, from the directory above the copied tree (relative paths in its output).
	up := run(t, ctx, work, nil, bin, "up", "--dir", envDir, "--name", name)
	t.Logf("dsenv up: exit %d in %s", up.code, up.took.Round(time.Millisecond))
	require.Equal(t, 0, up.code, "dsenv up\nstdout:\n%s\nstderr:\n%s", up.stdout, up.stderr)
	t.Logf("dsenv up stdout:\n%s", up.stdout)

	// The credentials: generated into a private variables file, never printed.
	varsFile := filepath.Join(envDir, persistent.VarsFileName)
	fi, err := os.Stat(varsFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "mode of %s", varsFile)
	vars, err := os.ReadFile(varsFile)
	require.NoError(t, err)
	assert.Equal(t, name, tfvar(t, vars, "name_prefix"))
	secrets := map[string]string{}
	for _, k := range []string{"postgres_password", "redis_password", "api_token"} {
		v := tfvar(t, vars, k)
		require.GreaterOrEqual(t, len(v), 16, "%s in %s is too short to be a generated secret", k, varsFile)
		secrets[k] = v
		assert.NotContains(t, up.stdout, v, "dsenv up printed %s on stdout", k)
		assert.NotContains(t, up.stderr, v, "dsenv up printed %s on stderr", k)
	}
	for _, k := range []string{"postgres_dsn", "redis_url", "api_token"} {
		assert.Regexp(t, `\$\(go run \./cmd/dsenv output (--dir \S+ )?`+k+`\)`, up.stdout,
			"the summary's commands take %s from dsenv output", k)
	}

	// The outputs work (cmd/dsenv's TestCLI runs the summary's commands as printed).
	dsURL := printed(t, ctx, bin, work, envDir, "datastorage_url")
	redisAddr := printed(t, ctx, bin, work, envDir, "redis_addr")
	assertReady(t, ctx, dsURL)

	tf, tfEnv := terraformCmd(t, ctx)
	out := run(t, ctx, envDir, tfEnv, tf, "output", "-raw", "postgres_dsn")
	require.Equal(t, 0, out.code, "terraform output -raw postgres_dsn: %s", out.stderr)
	dsn := out.stdout
	assert.Contains(t, dsn, secrets["postgres_password"], "the DSN carries the generated password")
	assertAuditEvents(t, ctx, dsn)
	assertRedisPong(t, ctx, redisAddr, secrets["redis_password"])

	// Nothing to change right after the apply.
	plan := run(t, ctx, envDir, tfEnv, tf, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	t.Logf("terraform plan -detailed-exitcode: exit %d in %s", plan.code, plan.took.Round(time.Millisecond))
	assert.Equal(t, 0, plan.code, "plan right after dsenv up must show no changes\nstdout:\n%s\nstderr:\n%s", plan.stdout, plan.stderr)

	assertPortsOnLoopback(t, ctx, filter, name)

	// dsenv down removes everything labelled with the environment; a second one succeeds.
	down := run(t, ctx, work, nil, bin, "down", "--dir", envDir)
	t.Logf("dsenv down: exit %d in %s\n%s", down.code, down.took.Round(time.Millisecond), down.stdout)
	require.Equal(t, 0, down.code, "dsenv down\nstdout:\n%s\nstderr:\n%s", down.stdout, down.stderr)
	assert.Empty(t, labelled.Objects(t, ctx, filter), "objects labelled %s after dsenv down", filter)
	again := run(t, ctx, work, nil, bin, "down", "--dir", envDir)
	t.Logf("second dsenv down: exit %d in %s: %s", again.code, again.took.Round(time.Millisecond), strings.TrimSpace(again.stdout))
	assert.Equal(t, 0, again.code, "second dsenv down\nstdout:\n%s\nstderr:\n%s", again.stdout, again.stderr)
	assert.Empty(t, labelled.Objects(t, ctx, filter), "objects labelled %s after the second dsenv down", filter)
}

// tfvar reads a string variable from an HCL variables file.
func tfvar(t *testing.T, file []byte, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(name) + `\s*=\s*"([^"]*)"`).FindSubmatch(file)
	if m == nil {
		t.Fatalf("variable %s not in the variables file:\n(%d bytes, not shown: it holds secrets)", name, len(file))
	}
	return string(m[1])
}

// printed reads a non-sensitive output with dsenv output NAME.
func printed(t *testing.T, ctx context.Context, bin, work, envDir, name string) string {
	t.Helper()
	out := run(t, ctx, work, nil, bin, "output", "--dir", envDir, name)
	if out.code != 0 {
		t.Fatalf("dsenv output %s: exit %d: %s", name, out.code, out.stderr)
	}
	return strings.TrimSpace(out.stdout)
}

func assertReady(t *testing.T, ctx context.Context, dsURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(dsURL, "/")+"/readyz", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "GET %s/readyz", dsURL)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "GET %s/readyz", dsURL)
}

func assertAuditEvents(t *testing.T, ctx context.Context, dsn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err, "connect with the postgres_dsn output")
	defer conn.Close(context.Background())
	var exists bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT to_regclass('public.audit_events') IS NOT NULL`).Scan(&exists))
	assert.True(t, exists, "table audit_events exists")
	var n int64
	assert.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&n), "query audit_events")
}

func assertRedisPong(t *testing.T, ctx context.Context, addr, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: password})
	defer rdb.Close()
	pong, err := rdb.Ping(ctx).Result()
	require.NoError(t, err, "PING %s with the generated password", addr)
	assert.Equal(t, "PONG", pong)
	// And Redis really asks for it.
	anon := redis.NewClient(&redis.Options{Addr: addr})
	defer anon.Close()
	_, err = anon.Ping(ctx).Result()
	if assert.Error(t, err, "PING %s without a password", addr) {
		assert.Contains(t, err.Error(), "NOAUTH")
	}
}

type binding struct {
	HostIP   string `json:"HostIp"`
	HostPort string
}

// assertPortsOnLoopback checks, with `docker ps` and the Docker API (docker inspect),
// that every published port of the environment's containers is bound to 127.0.0.1 only,
// and that PostgreSQL, Redis and the DS do publish theirs.
func assertPortsOnLoopback(t *testing.T, ctx context.Context, filter, name string) {
	t.Helper()
	ps := docker(t, ctx, "ps", "--filter", "label="+filter, "--format", "{{.Names}}\t{{.Ports}}")
	t.Logf("docker ps:\n%s", ps)
	for _, line := range strings.Split(ps, "\n") {
		cname, ports, _ := strings.Cut(line, "\t")
		for _, p := range strings.Split(ports, ", ") {
			if strings.Contains(p, "->") {
				assert.True(t, strings.HasPrefix(p, "127.0.0.1:"), "docker ps: %s publishes %q, not on 127.0.0.1", cname, p)
			}
		}
	}

	ids := strings.Fields(docker(t, ctx, "ps", "-q", "--filter", "label="+filter))
	require.NotEmpty(t, ids, "no running container labelled %s", filter)
	var cs []struct {
		Name       string
		HostConfig struct {
			PortBindings map[string][]binding
		}
		NetworkSettings struct {
			Ports map[string][]binding
		}
	}
	require.NoError(t, json.Unmarshal([]byte(docker(t, ctx, append([]string{"inspect"}, ids...)...)), &cs))
	published := map[string]int{}
	for _, c := range cs {
		cname := strings.TrimPrefix(c.Name, "/")
		for port, bs := range c.HostConfig.PortBindings {
			for _, b := range bs {
				assert.Equal(t, "127.0.0.1", b.HostIP, "%s: requested binding of %s", cname, port)
			}
		}
		for port, bs := range c.NetworkSettings.Ports {
			for _, b := range bs {
				published[cname]++
				assert.Equal(t, "127.0.0.1", b.HostIP, "%s: %s published on %s:%s", cname, port, b.HostIP, b.HostPort)
			}
		}
	}
	for _, svc := range []string{"postgres", "redis", "datastorage"} {
		assert.NotZero(t, published[name+"-"+svc], "%s-%s publishes no port (published: %v)", name, svc, published)
	}
}
