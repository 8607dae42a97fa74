// Package kubeapi_test brings up etcd and kube-apiserver with terraform/modules/kubeapi
// (real containers, the images `dsenv setup --with-kube` builds), runs the bootstrap, and
// checks what the DS's two review calls get from the real API: TokenReview of a
// TokenRequest token, SubjectAccessReview decided by RBAC, a made-up token, a
// ServiceAccount and binding a test creates itself, and a broken flag failing fast with
// kube-apiserver's own log line.
//
// It applies its own small root (testdata/root) with terraform-exec rather than tfharness,
// which applies the DS stack. Everything carries the dsenv labels with this process as the
// owner, so a killed run leaves nothing that `dsenv sweep` does not remove (there is no reaper
// process here); a failed test logs both containers' last lines before the destroy.
package kubeapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/internal/kubeapi"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
	"github.com/dsenv/dsenv/internal/testenv"
	"github.com/dsenv/dsenv/internal/tfbin"
)

var images = []string{"dsenv/etcd:v3.7.3", "dsenv/kube-apiserver:v1.37.2"}

const (
	namespace = "dsenv"
	server    = "data-storage"
	client    = "gateway"
	unbound   = "denied"
)

// cluster is one applied test root: the two containers on their own network.
type cluster struct {
	id        string
	tf        *tfexec.Terraform
	varFile   string
	pki       *kubeapi.PKI
	hostURL   string
	admin     *kubeapi.Client
	adminKC   string // the admin_kubeconfig output
	apiserver string // container names
	etcd      string
	applyErr  error
	applied   time.Time
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	d := time.Now().Add(15 * time.Minute)
	if dl, ok := t.Deadline(); ok {
		d = dl.Add(-time.Minute)
	}
	ctx, cancel := context.WithDeadline(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// requireKubeImages skips (fails under CI) without the docker CLI or the two images.
func requireKubeImages(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		testenv.Missing(t, "docker CLI not on PATH: %v", err)
	}
	for _, img := range images {
		if out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Id}}", img).CombinedOutput(); err != nil {
			testenv.Missing(t, "image %s missing (run `dsenv setup --with-kube`; make test does): %v: %s", img, err, strings.TrimSpace(string(out)))
		}
	}
}

// apply brings the test root up with extraArgs for kube-apiserver and registers its
// destruction. The apply's own error is kept in applyErr: a broken flag may or may not
// fail it, depending on how fast kube-apiserver exits.
func apply(t *testing.T, ctx context.Context, extraArgs []string) *cluster {
	t.Helper()
	requireKubeImages(t)
	cacheDir, err := cache.Dir()
	require.NoError(t, err)
	bin, err := tfbin.FromEnv()
	require.NoError(t, err)
	binPath, _, err := tfbin.Find(ctx, bin, cache.BinDir(cacheDir))
	if err != nil {
		testenv.Missing(t, "%v", err)
	}

	work := t.TempDir()
	for src, dst := range map[string]string{
		"../../terraform/modules/network": "modules/network",
		"../../terraform/modules/kubeapi": "modules/kubeapi",
		"testdata/root":                   "root",
	} {
		require.NoError(t, copyTF(src, filepath.Join(work, dst)))
	}
	c := &cluster{id: newID(t)}
	c.pki, err = kubeapi.NewPKI(kubeapi.PKIOptions{Hosts: []string{"kube-api"}, Namespace: namespace, ServerAccount: server})
	require.NoError(t, err)
	vars, err := json.Marshal(map[string]any{
		"name": c.id,
		"labels": map[string]string{
			label.Env: c.id, label.Owner: owner.Current().String(), label.Created: strconv.FormatInt(time.Now().Unix(), 10),
		},
		"extra_args": extraArgs,
		"pki":        c.pki.Vars(""),
	})
	require.NoError(t, err)
	c.varFile = filepath.Join(work, "root", "test.tfvars.json")
	require.NoError(t, os.WriteFile(c.varFile, vars, 0o600))

	c.tf, err = tfexec.NewTerraform(filepath.Join(work, "root"), binPath)
	require.NoError(t, err)
	require.NoError(t, c.tf.SetEnv(tfbin.Env(map[string]string{
		"TF_CLI_CONFIG_FILE": cache.CLIConfig(cacheDir),
	})))
	require.NoError(t, c.tf.Init(ctx, tfexec.Backend(false)), "terraform init (the provider comes from `make setup`'s mirror)")

	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if t.Failed() {
			c.dumpLogs(t, dctx)
		}
		if err := c.tf.Destroy(dctx, tfexec.VarFile(c.varFile)); err != nil {
			t.Errorf("terraform destroy of %s: %v", c.id, err)
		}
	})
	t0 := time.Now()
	c.applyErr = c.tf.Apply(ctx, tfexec.VarFile(c.varFile))
	c.applied = time.Now()
	t.Logf("%s: apply took %.1fs (err=%v)", c.id, time.Since(t0).Seconds(), c.applyErr)
	c.apiserver, c.etcd = c.id+"-kube-apiserver", c.id+"-etcd"
	if c.applyErr != nil {
		return c
	}
	out, err := c.tf.Output(ctx)
	require.NoError(t, err)
	var kc string
	require.NoError(t, json.Unmarshal(out["admin_kubeconfig"].Value, &kc))
	require.NoError(t, json.Unmarshal(out["host_url"].Value, &c.hostURL))
	c.adminKC = kc
	c.admin, err = kubeapi.FromKubeconfig([]byte(kc))
	require.NoError(t, err, "the admin_kubeconfig output is a working kubeconfig")
	return c
}

func (c *cluster) dumpLogs(t *testing.T, ctx context.Context) {
	d, err := engine.FromEnv()
	if err != nil {
		t.Logf("logs: %v", err)
		return
	}
	for _, name := range []string{c.etcd, c.apiserver} {
		logs, err := d.Logs(ctx, name, 40, false)
		t.Logf("--- %s (last 40 lines; err=%v)\n%s", name, err, logs)
	}
}

// ds is a client with the DS's own identity (its client certificate, as its kubeconfig).
func (c *cluster) ds(t *testing.T) *kubeapi.Client {
	t.Helper()
	cl, err := kubeapi.NewClient(c.hostURL, c.pki.CACert, c.pki.ServerCert, c.pki.ServerKey)
	require.NoError(t, err)
	return cl
}

func TestRealAPIAnswersTheDSReviews(t *testing.T) {
	ctx := testContext(t)
	c := apply(t, ctx, nil)
	require.NoError(t, c.applyErr)

	t0 := time.Now()
	rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	require.NoError(t, c.admin.WaitReady(rctx))
	t.Logf("kube-apiserver /readyz 200 %.1fs after the apply returned (%.1fs of polling)", time.Since(c.applied).Seconds(), time.Since(t0).Seconds())

	var ver struct{ GitVersion string }
	require.NoError(t, c.admin.Do(ctx, http.MethodGet, "/version", nil, &ver))
	assert.Equal(t, "v1.37.2", ver.GitVersion, "/version reports the stamped version")

	ds := c.ds(t)
	_, err := ds.ReviewToken(ctx, "anything")
	var ae *kubeapi.APIError
	require.ErrorAs(t, err, &ae, "before the bootstrap the DS's identity may not review tokens")
	assert.Equal(t, http.StatusForbidden, ae.Code)
	assert.Contains(t, ae.Status.Message, kubeapi.ServiceAccountUser(namespace, server), "RBAC names the DS's ServiceAccount user")

	t0 = time.Now()
	b := kubeapi.DefaultBootstrap(namespace)
	require.Equal(t, kubeapi.Bootstrap{Namespace: namespace, ServerAccount: server, ClientAccount: client, UnboundAccount: unbound, TokenTTL: 24 * time.Hour}, b)
	tokens, err := c.admin.Bootstrap(ctx, b)
	require.NoError(t, err)
	t.Logf("bootstrap took %.2fs", time.Since(t0).Seconds())
	again, err := kubeapi.Start(ctx, c.adminKC, b)
	require.NoError(t, err, "a second bootstrap (a re-apply) keeps what exists")
	assert.NotEqual(t, tokens.Client, again.Client, "and requests fresh tokens")

	gatewayUser := kubeapi.ServiceAccountUser(namespace, client)
	t.Run("client token is the gateway's ServiceAccount", func(t *testing.T) {
		st, err := ds.ReviewToken(ctx, tokens.Client)
		require.NoError(t, err)
		assert.True(t, st.Authenticated, "error: %s", st.Error)
		assert.Equal(t, gatewayUser, st.User.Username)
		assert.Contains(t, st.User.Groups, "system:serviceaccounts:"+namespace)
	})

	t.Run("RBAC allows the gateway on data-storage-service only", func(t *testing.T) {
		for _, verb := range []string{"get", "create", "list", "update", "delete"} {
			st, err := ds.ReviewAccess(ctx, gatewayUser, namespace, verb, kubeapi.ServiceName)
			require.NoError(t, err)
			assert.True(t, st.Allowed, "%s: %+v", verb, st)
			if verb == "create" {
				t.Logf("create: allowed, reason %q", st.Reason)
				assert.Contains(t, st.Reason, kubeapi.ClientRole, "the reason names the binding")
			}
		}
		for name, tc := range map[string]struct{ ns, verb, svc string }{
			"another service":   {namespace, "create", "other-service"},
			"another namespace": {"default", "create", kubeapi.ServiceName},
			"another verb":      {namespace, "patch", kubeapi.ServiceName},
		} {
			st, err := ds.ReviewAccess(ctx, gatewayUser, tc.ns, tc.verb, tc.svc)
			require.NoError(t, err)
			assert.False(t, st.Allowed, "%s: %+v", name, st)
		}
	})

	t.Run("unbound ServiceAccount authenticates and is denied", func(t *testing.T) {
		st, err := ds.ReviewToken(ctx, tokens.Unbound)
		require.NoError(t, err)
		require.True(t, st.Authenticated)
		assert.Equal(t, kubeapi.ServiceAccountUser(namespace, unbound), st.User.Username)
		sar, err := ds.ReviewAccess(ctx, st.User.Username, namespace, "create", kubeapi.ServiceName)
		require.NoError(t, err)
		t.Logf("unbound create: allowed=%v denied=%v reason=%q evaluationError=%q", sar.Allowed, sar.Denied, sar.Reason, sar.EvaluationError)
		assert.False(t, sar.Allowed)
		// RBAC gives no reason for "no rule matched"; kube-apiserver's log says which user,
		// verb and object found no binding (the module logs the RBAC authorizer at V(5)).
		d, err := engine.FromEnv()
		require.NoError(t, err)
		want := `RBAC: no rules authorize user "` + st.User.Username + `"`
		var logs string
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if logs, err = d.Logs(ctx, c.apiserver, 200, false); err == nil && strings.Contains(logs, want) {
				break
			}
		}
		line := ""
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, want) && strings.Contains(l, kubeapi.ServiceName) {
				line = l
			}
		}
		require.NotEmpty(t, line, "kube-apiserver logs the denial: %q", want)
		t.Logf("kube-apiserver: %s", line)
	})

	t.Run("made-up and tampered tokens are not authenticated", func(t *testing.T) {
		made := make([]byte, 24)
		_, _ = rand.Read(made)
		tampered := tokens.Client[:len(tokens.Client)-4] + flip(tokens.Client[len(tokens.Client)-4:])
		for name, tok := range map[string]string{"made-up": hex.EncodeToString(made), "tampered": tampered} {
			st, err := ds.ReviewToken(ctx, tok)
			require.NoError(t, err, name)
			assert.False(t, st.Authenticated, name)
			assert.Empty(t, st.User.Username, name)
			t.Logf("%s: authenticated=%v error=%q", name, st.Authenticated, st.Error)
		}
	})

	t.Run("a test's own ServiceAccount and binding through the admin kubeconfig", func(t *testing.T) {
		const sa = "writer"
		require.NoError(t, c.admin.CreateServiceAccount(ctx, namespace, sa))
		tok, err := c.admin.RequestToken(ctx, namespace, sa, time.Hour)
		require.NoError(t, err)
		user := kubeapi.ServiceAccountUser(namespace, sa)
		st, err := ds.ReviewAccess(ctx, user, namespace, "create", kubeapi.ServiceName)
		require.NoError(t, err)
		assert.False(t, st.Allowed, "no binding yet")

		require.NoError(t, c.admin.BindClientRole(ctx, namespace, sa))
		rst, err := ds.ReviewToken(ctx, tok)
		require.NoError(t, err)
		require.True(t, rst.Authenticated)
		assert.Equal(t, user, rst.User.Username)
		// RBAC reads bindings from informer caches: poll until the new one is seen.
		deadline := time.Now().Add(time.Minute)
		for {
			st, err = ds.ReviewAccess(ctx, user, namespace, "create", kubeapi.ServiceName)
			require.NoError(t, err)
			if st.Allowed || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		assert.True(t, st.Allowed, "bound: %+v", st)
	})

	t.Run("a client token cannot review tokens itself", func(t *testing.T) {
		_, err := c.admin.WithToken(tokens.Client).ReviewToken(ctx, tokens.Unbound)
		var ae *kubeapi.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusForbidden, ae.Code, "only the DS's identity is bound to system:auth-delegator")
	})

	logMemory(t, ctx, c)
}

// flip changes the characters of s, so a signature no longer verifies.
func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

func logMemory(t *testing.T, ctx context.Context, c *cluster) {
	out, err := exec.CommandContext(ctx, "docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", c.etcd, c.apiserver).CombinedOutput()
	if err == nil {
		t.Logf("docker stats:\n%s", strings.TrimSpace(string(out)))
	}
}

func TestBrokenFlagFailsFastWithItsOwnLogLine(t *testing.T) {
	ctx := testContext(t)
	c := apply(t, ctx, []string{"--no-such-flag=1"})
	d, err := engine.FromEnv()
	require.NoError(t, err)
	// Whether the apply itself failed depends on how fast kube-apiserver exits; either
	// way the container must end with a non-zero code and say why.
	var st *engine.ContainerState
	for {
		st, err = d.Inspect(ctx, c.apiserver)
		require.NoError(t, err, "the kube-apiserver container was created (apply: %v)", c.applyErr)
		if st.State.Status == "exited" || st.State.Status == "dead" {
			break
		}
		require.NoError(t, ctx.Err(), "kube-apiserver with a broken flag is still %s", st.State.Status)
		time.Sleep(100 * time.Millisecond)
	}
	started, _ := time.Parse(time.RFC3339Nano, st.State.StartedAt)
	finished, _ := time.Parse(time.RFC3339Nano, st.State.FinishedAt)
	t.Logf("exit %d after %.2fs of running (apply: %v)", st.State.ExitCode, finished.Sub(started).Seconds(), c.applyErr)
	assert.NotZero(t, st.State.ExitCode)
	logs, err := d.Logs(ctx, c.apiserver, 20, false)
	require.NoError(t, err)
	assert.Contains(t, logs, "unknown flag: --no-such-flag", "kube-apiserver's own line")
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "unknown flag") {
			t.Logf("kube-apiserver: %s", l)
		}
	}
}

func newID(t *testing.T) string {
	b := make([]byte, 4)
	_, err := rand.Read(b)
	require.NoError(t, err)
	id := "tk-" + hex.EncodeToString(b)
	require.True(t, label.ValidEnvID.MatchString(id))
	return id
}

// copyTF copies the Terraform sources (*.tf) of src into dst.
func copyTF(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == "tests" || d.Name() == ".terraform" {
				return fs.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(p, ".tf") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}
