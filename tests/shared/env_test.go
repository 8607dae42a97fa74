package shared

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/jackc/pgx/v5"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/planreview"
	"github.com/dsenv/dsenv/tests/internal/freeport"
)

// images are the defaults of terraform/envs/shared; DSENV_<SERVICE>_IMAGE overrides one, as
// it does for tfharness.
var images = map[string]string{
	"postgres":    "dsenv/postgres:15",
	"redis":       "dsenv/redis:7",
	"datastorage": "dsenv/datastorage:latest",
	"migrate":     "dsenv/migrate:latest",
}

func imageFor(service string) string {
	if v := os.Getenv("DSENV_" + strings.ToUpper(service) + "_IMAGE"); v != "" {
		return v
	}
	return images[service]
}

// stateDB is the PostgreSQL that holds the shared environment's state (Terraform's pg
// backend): a dsenv/postgres:15 container on a free 127.0.0.1 port with a generated
// password, given to the container in a 0600 --env-file and to Terraform in PGPASSWORD.
type stateDB struct {
	name, addr string
	password   string
	// planner is a role that may only read the states table: what CI plans with.
	plannerPassword string
}

func startStateDB(ctx context.Context, t *testing.T, prefix, testLabel, image string) *stateDB {
	t.Helper()
	db := &stateDB{name: prefix + "-tfstate", password: randomHex(t, 16), plannerPassword: randomHex(t, 16)}
	envFile := filepath.Join(t.TempDir(), "state-db.env")
	if err := os.WriteFile(envFile, []byte("POSTGRES_USER=tfstate\nPOSTGRES_DB=tfstate\nPOSTGRES_PASSWORD="+db.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "rm", "-f", "-v", db.name).CombinedOutput(); err != nil {
			t.Errorf("remove the state database: %v: %s", err, out)
		}
	})
	out, err := exec.CommandContext(ctx, "docker", "run", "-d", "--name", db.name, "--label", testLabel,
		"--env-file", envFile, "-p", "127.0.0.1::5432", image).CombinedOutput()
	if err != nil {
		t.Fatalf("start the state database: %v: %s", err, out)
	}
	port, err := exec.CommandContext(ctx, "docker", "port", db.name, "5432/tcp").Output()
	if err != nil {
		t.Fatalf("docker port: %v", err)
	}
	db.addr = strings.TrimSpace(strings.Split(string(port), "\n")[0])
	// Ready when it answers a query (the image restarts the server once after initdb).
	deadline := time.Now().Add(2 * time.Minute)
	for {
		conn, err := pgx.Connect(ctx, db.connStr("tfstate", db.password))
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("state database never answered: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return db
}

func (db *stateDB) connStr(user, password string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/tfstate?sslmode=disable", user, password, db.addr)
}

// env is what Terraform needs to reach the backend as user: the connection string without
// the password (PG_CONN_STR), the password in PGPASSWORD. schema picks the states' schema.
func (db *stateDB) env(user, password, schema string) map[string]string {
	e := map[string]string{
		"PG_CONN_STR": fmt.Sprintf("postgres://%s@%s/tfstate?sslmode=disable", user, db.addr),
		"PGPASSWORD":  password,
	}
	if schema != "" {
		e["PG_SCHEMA_NAME"] = schema
	}
	return e
}

// ownerEnv is the team's own access (it applies); plannerEnv the read-only one CI plans with.
func (db *stateDB) ownerEnv(schema string) map[string]string {
	return db.env("tfstate", db.password, schema)
}

func (db *stateDB) plannerEnv() map[string]string {
	e := db.env("planner", db.plannerPassword, "")
	// A role that cannot create anything: the backend must not try.
	e["PG_SKIP_SCHEMA_CREATION"] = "true"
	e["PG_SKIP_TABLE_CREATION"] = "true"
	e["PG_SKIP_INDEX_CREATION"] = "true"
	return e
}

// createPlanner creates the read-only role (once the backend created its table).
func (db *stateDB) createPlanner(ctx context.Context, t *testing.T) {
	t.Helper()
	conn, err := pgx.Connect(ctx, db.connStr("tfstate", db.password))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"CREATE ROLE planner LOGIN PASSWORD '" + db.plannerPassword + "'",
		"GRANT USAGE ON SCHEMA terraform_remote_state TO planner",
		"GRANT SELECT ON terraform_remote_state.states TO planner",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("state database: %v", err)
		}
	}
}

// checkout is one copy of terraform/ (as a fresh CI checkout would have) with one root in it.
type checkout struct {
	t        *testing.T
	root     string // the root module directory
	env      map[string]string
	tf       *tfexec.Terraform
	execPath string
	mirror   string
}

// newCheckout copies terraform/ and, unless noInit (a CI checkout that dsenv plan
// initialises itself), runs terraform init in root.
func newCheckout(ctx context.Context, t *testing.T, root string, env map[string]string, noInit ...bool) *checkout {
	t.Helper()
	execPath, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform not on PATH")
	}
	dir, err := cache.Dir()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	copyTerraform(t, repoPath(t, "terraform"), filepath.Join(work, "terraform"))
	copyTerraform(t, repoPath(t, "tests/shared/testdata/before-stack"), filepath.Join(work, "terraform", "envs", "before-stack"))
	c := &checkout{t: t, root: filepath.Join(work, "terraform", root), env: env, execPath: execPath, mirror: cache.ProviderMirror(dir)}
	if c.tf, err = tfexec.NewTerraform(c.root, execPath); err != nil {
		t.Fatal(err)
	}
	if err := c.tf.SetEnv(env); err != nil {
		t.Fatal(err)
	}
	if len(noInit) > 0 && noInit[0] {
		return c
	}
	if err := c.tf.Init(ctx, tfexec.PluginDir(c.mirror)); err != nil {
		t.Fatalf("terraform init in %s: %v", root, err)
	}
	return c
}

func (c *checkout) apply(ctx context.Context, varsFile string) {
	c.t.Helper()
	start := time.Now()
	if err := c.tf.Apply(ctx, tfexec.VarFile(varsFile)); err != nil {
		c.t.Fatalf("terraform apply: %v", err)
	}
	c.t.Logf("apply: %.1fs", time.Since(start).Seconds())
}

// plan reviews the plan of this checkout with planreview (as dsenv plan does).
func (c *checkout) plan(ctx context.Context, varsFile string) *planreview.Result {
	c.t.Helper()
	r, err := planreview.Run(ctx, c.planOptions(varsFile))
	if err != nil {
		c.t.Fatalf("plan: %v", err)
	}
	return r
}

func (c *checkout) planOptions(varsFile string) planreview.Options {
	return planreview.Options{Dir: c.root, ExecPath: c.execPath, VarFiles: []string{varsFile}, SkipInit: true, Env: c.env,
		LockTimeout: "5s", Render: planreview.RenderOptions{Title: "terraform/envs/shared"}}
}

// dsenv runs the dsenv binary in this checkout's environment and returns stdout, stderr and
// the exit code.
func (c *checkout) dsenv(ctx context.Context, bin string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = os.Environ()
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		c.t.Fatalf("dsenv %s: %v", args[0], err)
	}
	return stdout.String(), stderr.String(), code
}

// vars is one environment's variables, written to a 0600 tfvars.json file.
type vars struct {
	t    *testing.T
	file string
	m    map[string]any
}

// pinImages gives the test images of its own: `FROM <image>` plus a label, built under a
// name of the test's, so a new image ID that nobody else references. Another engineer's
// `make setup` rebuilding (and removing) dsenv/* meanwhile can then neither make a plan of
// this test see a new image nor take an image from under it. The repository stays the
// source's (dsenv/datastorage:<prefix>), so the reference DS is still taken for one.
// Removed in t.Cleanup.
func pinImages(ctx context.Context, t *testing.T, prefix string) map[string]string {
	t.Helper()
	pinned := map[string]string{}
	for svc := range images {
		repo := imageFor(svc)
		if i := strings.LastIndexAny(repo, ":@"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i]
		}
		tag := repo + ":" + prefix
		cmd := exec.CommandContext(ctx, "docker", "build", "-q", "-t", tag, "--label", "dsenv.test="+prefix, "-")
		cmd.Stdin = strings.NewReader("FROM " + imageFor(svc) + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("image %s (run `make setup`): %v: %s", imageFor(svc), err, out)
		}
		t.Cleanup(func() { _ = exec.Command("docker", "rmi", tag).Run() })
		pinned[svc] = tag
	}
	return pinned
}

func newVars(t *testing.T, prefix, testLabel string, pinned map[string]string) *vars {
	ports := freeport.Ports(t, 5)
	host, _ := os.Hostname()
	k, v, _ := strings.Cut(testLabel, "=")
	m := map[string]any{
		"name_prefix":                   prefix,
		"owner":                         "manual@" + sanitize(host),
		"created":                       fmt.Sprint(time.Now().Unix()),
		"labels":                        map[string]string{k: v},
		"postgres_host_port":            ports[0],
		"redis_host_port":               ports[1],
		"datastorage_host_port":         ports[2],
		"datastorage_health_host_port":  ports[3],
		"datastorage_metrics_host_port": ports[4],
		"postgres_password":             randomHex(t, 16),
		"redis_password":                randomHex(t, 16),
		"api_token":                     randomHex(t, 24),
		"log_level":                     "info",
	}
	for svc, img := range pinned {
		m[svc+"_image"] = img
	}
	vs := &vars{t: t, file: filepath.Join(t.TempDir(), "shared.tfvars.json"), m: m}
	vs.write()
	return vs
}

func (v *vars) set(k string, val any) *vars {
	v.m[k] = val
	v.write()
	return v
}

func (v *vars) write() {
	data, err := json.MarshalIndent(v.m, "", "  ")
	if err != nil {
		v.t.Fatal(err)
	}
	if err := os.WriteFile(v.file, data, 0o600); err != nil {
		v.t.Fatal(err)
	}
}

func (v *vars) secrets() []string {
	return []string{v.m["postgres_password"].(string), v.m["redis_password"].(string), v.m["api_token"].(string)}
}

type outputs struct {
	url, token, dsn, redisAddr, redisPassword string
}

func (c *checkout) outputs(ctx context.Context) outputs {
	c.t.Helper()
	m, err := c.tf.Output(ctx)
	if err != nil {
		c.t.Fatalf("terraform output: %v", err)
	}
	str := func(name string) string {
		var s string
		if om, ok := m[name]; !ok || json.Unmarshal(om.Value, &s) != nil {
			c.t.Fatalf("output %s missing or not a string", name)
		}
		return s
	}
	if !m["api_token"].Sensitive || !m["postgres_dsn"].Sensitive || !m["redis_password"].Sensitive {
		c.t.Errorf("secret outputs must be marked sensitive")
	}
	return outputs{
		url:           str("datastorage_url"),
		token:         str("api_token"),
		dsn:           str("postgres_dsn"),
		redisAddr:     str("redis_addr"),
		redisPassword: str("redis_password"),
	}
}

func containerID(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "docker", "inspect", "--format", "{{.Id}}", name).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// checkModes fails for any file under dir that its group or others can read, and returns
// the files it looked at (relative) with their modes.
func checkModes(t *testing.T, dir string, match func(rel string) bool) []string {
	t.Helper()
	var seen []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() || !match(rel) {
			return nil
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		seen = append(seen, fmt.Sprintf("%s %04o", rel, st.Mode().Perm()))
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is mode %04o: others can read it", p, st.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}
