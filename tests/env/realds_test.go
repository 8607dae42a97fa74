package env_test

import (
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/internal/engine"
	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/dsenv/dsenv/tfharness"
)

// dsUser is the uid both the reference and the real DS run as.
const dsUser = 65534

// readableBy says whether a file of mode/uid/gid can be read by uid dsUser (not in group gid).
func readableBy(mode int64, uid int) bool {
	return mode&0o004 != 0 || (uid == dsUser && mode&0o400 != 0)
}

// TestSigningPairAndKubeconfigInTheDS (issue 11): for a DS other than the reference one (here
// the reference image under another name, with its migrations given as another DS's would be),
// the signing pair the harness generated is in the running DS's signerCertDir, RSA, and
// readable by uid 65534; so is the kubeconfig pointing at the auth stand-in. Read out of the
// container through the Docker archive endpoint (the DS image is FROM scratch: nothing to
// exec). The reference DS itself gets no pair: it does not use one.
func TestSigningPairAndKubeconfigInTheDS(t *testing.T) {
	ctx := testContext(t)
	requireDocker(t, ctx)
	image := "dsenv-test/other-ds:" + randomSuffix(t, 8)
	out, err := exec.CommandContext(ctx, "docker", "tag", "dsenv/datastorage:latest", image).CombinedOutput()
	require.NoError(t, err, "docker tag: %s", out)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", image).Run() })
	env := tfharness.New(t, tfharness.WithImage(tfharness.ServiceDataStorage, image),
		tfharness.WithMigrationsDir(filepath.Join(repoRoot(t), "datastorage", "migrations")))
	d, err := engine.FromEnv()
	require.NoError(t, err)
	ds := env.Containers["datastorage"].ID
	require.NotEmpty(t, ds)
	var dir string
	require.NoError(t, json.Unmarshal(env.Raw["signer_cert_dir"], &dir))

	files := map[string]*engine.File{}
	for _, name := range []string{"tls.crt", "tls.key"} {
		f, err := d.ReadFile(ctx, ds, filepath.Join(dir, name))
		require.NoError(t, err)
		t.Logf("%s/%s: mode %o, uid %d, gid %d, %d bytes", dir, name, f.Header.Mode, f.Header.Uid, f.Header.Gid, len(f.Content))
		assert.True(t, readableBy(f.Header.Mode, f.Header.Uid), "%s not readable by uid %d (mode %o, uid %d)", name, dsUser, f.Header.Mode, f.Header.Uid)
		assert.Zero(t, f.Header.Mode&0o022, "%s writable by others than its owner", name)
		files[name] = f
	}
	pair, err := tls.X509KeyPair(files["tls.crt"].Content, files["tls.key"].Content)
	require.NoError(t, err, "tls.crt and tls.key are not a key pair")
	_, isRSA := pair.PrivateKey.(*rsa.PrivateKey)
	assert.True(t, isRSA, "signing key is %T, want RSA (the real DS refuses anything else)", pair.PrivateKey)

	kc, err := d.ReadFile(ctx, ds, "/etc/datastorage/kubeconfig")
	require.NoError(t, err)
	assert.True(t, readableBy(kc.Header.Mode, kc.Header.Uid), "kubeconfig not readable by uid %d", dsUser)
	assert.Contains(t, string(kc.Content), "http://kube-auth:8080", "the kubeconfig points at the stand-in")
}

// TestNonReferenceImageWithoutMigrationsIsRefused (issue 11): an image other than the reference
// DS without its own migrations is refused before anything starts, by the harness and, at plan
// time, by Terraform, both naming migrations_dir and saying why.
func TestNonReferenceImageWithoutMigrationsIsRefused(t *testing.T) {
	ctx := testContext(t)
	requireDocker(t, ctx)
	const image = "other/datastorage:1.0"

	t.Run("harness", func(t *testing.T) {
		marker := "refused-" + randomSuffix(t, 8)
		_, err := tfharness.Up(ctx, tfharness.WithLogger(t), tfharness.WithImage(tfharness.ServiceDataStorage, image),
			tfharness.WithLabels(map[string]string{markerLabel: marker}))
		require.Error(t, err)
		t.Logf("Up: %v", err)
		assert.Contains(t, err.Error(), "migrations_dir is required")
		assert.Contains(t, err.Error(), image)
		assert.Contains(t, err.Error(), "202")
		assert.Empty(t, labelled.Objects(t, ctx, markerLabel+"="+marker), "nothing may be created")
	})

	t.Run("plan", func(t *testing.T) {
		root := repoRoot(t)
		envDir := filepath.Join(copyTerraform(t, root, filepath.Join(t.TempDir(), "terraform")), "env")
		tf, tfEnv := terraformCmd(t, ctx)
		run := func(args ...string) (string, error) {
			cmd := exec.CommandContext(ctx, tf, args...)
			cmd.Dir, cmd.Env = envDir, tfEnv
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		out, err := run("init", "-backend=false", "-input=false", "-no-color")
		require.NoError(t, err, "init: %s", out)
		out, err = run("plan", "-input=false", "-no-color", "-refresh=false",
			"-var", "name_prefix=refused-"+randomSuffix(t, 6), "-var", "owner=1@test", "-var", "created=1795689600",
			"-var", "postgres_password=pg-0123456789abcdef", "-var", "redis_password=rd-0123456789abcdef",
			"-var", "api_token=tok-0123456789abcdef", "-var", "datastorage_image="+image)
		require.Error(t, err, "plan must fail: %s", out)
		msg := normalise(out)
		t.Logf("plan:\n%s", out)
		assert.Contains(t, msg, "var.migrations_dir", "the diagnostic names the variable")
		assert.Contains(t, msg, "migrations_dir is required")
		assert.Contains(t, msg, "answers 202")
	})
}

// TestUnreachableAuthStandInFailsUpNamingIt (issue 11): when the DS cannot reach the auth
// stand-in, /readyz still answers 200 (it checks PostgreSQL and Redis only), but Up fails at
// its authenticated request, naming the stand-in, with its and the DS's log lines.
func TestUnreachableAuthStandInFailsUpNamingIt(t *testing.T) {
	ctx := testContext(t)
	host := "nowhere-" + randomSuffix(t, 8)
	took, id, err := upMustFail(t, ctx, map[string]any{"kube_api_url": "http://" + host + ":8080"})
	t.Logf("env %s: failed after %s:\n%v", id, took.Round(time.Millisecond), err)
	msg := normalise(err.Error())
	assert.Contains(t, msg, ": auth: ", "the step is the authenticated request")
	assert.Contains(t, msg, "auth stand-in")
	assert.Contains(t, msg, id+"-kube-auth", "the error names the stand-in container")
	assert.Contains(t, msg, "500", "the DS's answer")
	assert.Contains(t, msg, "last log lines of "+id+"-datastorage")
}

// TestDSThatGivesUpFailsUpWithItsLastLogLine (issue 11): a DS that retries its start-up (as
// the real one does, 10 x 2 s) and then exits fails Up once it exits, with its own last log
// lines, whichever DS the environment holds (DSENV_DATASTORAGE_IMAGE).
func TestDSThatGivesUpFailsUpWithItsLastLogLine(t *testing.T) {
	ctx := testContext(t)
	host := "nowhere-" + randomSuffix(t, 8)
	took, id, err := upMustFail(t, ctx, map[string]any{
		"datastorage_redis_addr": host + ":6379", "connect_attempts": 10, "connect_interval": "2s",
	})
	t.Logf("env %s: failed after %s:\n%v", id, took.Round(time.Millisecond), err)
	msg := normalise(err.Error())
	assert.Contains(t, msg, "container "+id+"-datastorage exited with code", "the DS's exit")
	assert.Contains(t, msg, host, "the DS's own log line names the Redis host it could not reach")
	assert.Contains(t, strings.ToLower(msg), "redis")
	assert.NotContains(t, msg, "context deadline exceeded", "not a timeout")
}
