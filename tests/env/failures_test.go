package env_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/datastorage/migrations"
	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/dsenv/dsenv/tfharness"
)

// markerLabel is added to every object of a test's environment, so that the test can
// find what is left without knowing the id the harness chose.
const markerLabel = "dsenv.test.env"

// upMustFail brings up an environment with vars that must make the apply fail; it
// returns how long the failure took, the environment's id and the error (read from the
// error). Whatever happens, everything labelled with the test's marker is removed.
func upMustFail(t *testing.T, ctx context.Context, vars map[string]any) (time.Duration, string, error) {
	t.Helper()
	requireDocker(t, ctx)
	marker := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + "-" + randomSuffix(t, 8)
	t.Cleanup(func() { labelled.Remove(t, markerLabel+"="+marker) })

	start := time.Now()
	env, err := tfharness.Up(ctx,
		tfharness.WithLogger(t),
		tfharness.WithTestName(t.Name()),
		tfharness.WithKeep(tfharness.KeepNever), // whatever DSENV_KEEP says: the teardown is checked
		tfharness.WithLabels(map[string]string{markerLabel: marker}),
		tfharness.WithVars(vars),
	)
	took := time.Since(start)
	if err == nil {
		derr := env.Down(context.WithoutCancel(ctx))
		t.Fatalf("env %s came up (in %s) although it must not (down: %v)", env.ID, took, derr)
	}
	m := regexp.MustCompile(`^env (\S+): `).FindStringSubmatch(err.Error())
	require.NotNil(t, m, "the error names the environment: %v", err)
	id := m[1]

	// Up removed the environment before returning, and nothing turns up afterwards.
	for _, filter := range []string{label.Env + "=" + id, markerLabel + "=" + marker} {
		assert.Empty(t, labelled.Objects(t, ctx, filter), "objects labelled %s right after the failed Up", filter)
	}
	// Nothing can turn up later: no Terraform or provider process of the environment is
	// left to create anything (each carries DSENV_ENV=<id> in its environment).
	assert.Empty(t, envProcesses(t, id), "processes of %s still running after the failed Up", id)
	assert.Empty(t, labelled.Objects(t, ctx, markerLabel+"="+marker), "objects labelled %s after the failed Up", marker)
	return took, id, err
}

// TestBrokenMigrationFailsApplyWithItsLogLine: a migration with a syntax error, dropped
// into the directory the migrate job applies (migrations_dir), fails the apply as soon as
// the job exits, and the error carries the job's log line naming the file (Must show 5).
func TestBrokenMigrationFailsApplyWithItsLogLine(t *testing.T) {
	ctx := testContext(t)

	// The migrate job (user 65534) reads the directory through a read-only bind mount.
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	good, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, good, "no embedded migrations")
	for _, name := range good {
		b, err := fs.ReadFile(migrations.FS, name)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	const broken = "00900_broken.sql"
	require.NoError(t, os.WriteFile(filepath.Join(dir, broken), []byte(
		"-- +goose Up\nCREATE TABLEE broken_by_test (id int);\n\n-- +goose Down\nDROP TABLE broken_by_test;\n"), 0o644))

	took, id, err := upMustFail(t, ctx, map[string]any{"migrations_dir": dir})
	t.Logf("env %s: error:\n%v", id, err)
	msg := normalise(err.Error())
	// The job's own JSON log line (log/slog): message, then the file.
	assert.Regexp(t, `"level":"ERROR","msg":"migration failed","file":"[^"]*`+regexp.QuoteMeta(broken)+`"`, msg,
		"the error carries the migrate job's log line naming %s", broken)
	assert.Contains(t, msg, "syntax error", "the error carries PostgreSQL's reason")
	assert.Contains(t, msg, id+"-migrate", "the error names the migrate container")
	t.Logf("broken migration: apply failed after %s", took.Round(time.Millisecond))
}

// TestUnreachableRedisFailsApplyWithDSLogLine: with the DS pointed at a Redis host that
// does not exist, the apply fails as soon as the DS gives up, with the DS's own
// "failed to connect to Redis" line in the error, not a health timeout (Must show 6).
func TestUnreachableRedisFailsApplyWithDSLogLine(t *testing.T) {
	ctx := testContext(t)
	host := "nowhere-" + randomSuffix(t, 8)

	took, id, err := upMustFail(t, ctx, map[string]any{"datastorage_redis_addr": host + ":6379"})
	t.Logf("env %s: error:\n%v", id, err)
	msg := normalise(err.Error())
	assert.Contains(t, msg, `"msg":"failed to connect to Redis: dial tcp: lookup `+host,
		"the error carries the DS's log line about Redis at %s", host)
	assert.NotContains(t, msg, "context deadline exceeded", "not a timeout")
	assert.NotContains(t, strings.ToLower(msg), "timeout while waiting", "not a health timeout")
	t.Logf("unreachable Redis: apply failed after %s", took.Round(time.Millisecond))
}

// envProcesses lists the pids of this user's processes whose environment marks them as
// working for environment id (tfharness sets DSENV_ENV on every Terraform and provider
// process it starts).
func envProcesses(t *testing.T, id string) []string {
	t.Helper()
	want := []byte("DSENV_ENV=" + id)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []string
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil {
			continue // gone, or not ours
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, want) {
				pids = append(pids, filepath.Base(d))
				break
			}
		}
	}
	return pids
}
