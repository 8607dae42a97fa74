package tfharness

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestPoolKeySeparatesShapesAndIgnoresPerTestSettings(t *testing.T) {
	key := func(opts ...Option) string {
		t.Helper()
		c := newConfig(opts)
		if c.err != nil {
			t.Fatal(c.err)
		}
		k, err := poolKey(c)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key(WithPool(2))
	same := map[string]string{
		"logger, test name, keep, timeout, artifacts, timings file, pool size": key(
			WithPool(5), WithLogger(stderrLogger{}), WithTestName("TestOther"), WithKeep(KeepAlways),
			WithTimeout(time.Minute), WithArtifactsDir("/tmp/x"), WithTimingsFile("/tmp/t.jsonl")),
		"the same variables given again": key(WithPool(2), WithVars(map[string]any{})),
	}
	for what, k := range same {
		if k != base {
			t.Errorf("%s changed the pool key: a test that differs only there must get the same spares", what)
		}
	}
	differ := map[string]string{
		"a variable":        key(WithPool(2), WithLogLevel("debug")),
		"another value":     key(WithPool(2), WithVars(map[string]any{"datastorage_extra_env": map[string]string{"X": "a"}})),
		"another value (b)": key(WithPool(2), WithVars(map[string]any{"datastorage_extra_env": map[string]string{"X": "b"}})),
		"an image":          key(WithPool(2), WithImage(ServicePostgres, "postgres:16-alpine")),
		"a sensitive var":   key(WithPool(2), WithSensitiveVar("api_token", "one")),
		"its value":         key(WithPool(2), WithSensitiveVar("api_token", "two")),
		"a label":           key(WithPool(2), WithLabels(map[string]string{"team": "gw"})),
		"the id prefix":     key(WithPool(2), WithIDPrefix("p")),
		"the teardown":      key(WithPool(2), WithTeardown(TeardownDestroy)),
		"the binary":        key(WithPool(2), WithBinary(OpenTofu)),
	}
	seen := map[string]string{base: "the defaults"}
	for what, k := range differ {
		if other, dup := seen[k]; dup {
			t.Errorf("%s gives the same pool key as %s: spares of one shape would serve the other", what, other)
		}
		seen[k] = what
	}
	if strings.Contains(key(WithPool(1), WithSensitiveVar("api_token", "s3cr3t-value")), "s3cr3t") {
		t.Error("the pool key holds a sensitive value")
	}
}

func TestPoolSizeFromOptionAndEnvironment(t *testing.T) {
	t.Setenv("DSENV_POOL", "3")
	if c := newConfig(nil); c.err != nil || c.pool != 3 {
		t.Fatalf("DSENV_POOL=3: pool %d, err %v", c.pool, c.err)
	}
	if c := newConfig([]Option{WithPool(0)}); c.err != nil || c.pool != 0 {
		t.Fatalf("WithPool(0) must override DSENV_POOL: pool %d, err %v", c.pool, c.err)
	}
	t.Setenv("DSENV_POOL", "many")
	if c := newConfig(nil); c.err == nil || !strings.Contains(c.err.Error(), `DSENV_POOL="many"`) {
		t.Fatalf("DSENV_POOL=many: err %v", c.err)
	}
	t.Setenv("DSENV_POOL", "")
	if c := newConfig([]Option{WithPool(-1)}); c.err == nil || !strings.Contains(c.err.Error(), "WithPool(-1)") {
		t.Fatalf("WithPool(-1): err %v", c.err)
	}
}

func TestGoEnvSetsGOGCUnlessTheCallerDid(t *testing.T) {
	t.Setenv("GOGC", "50")
	if v, set := goEnv(map[string]string{})["GOGC"]; set {
		t.Errorf("GOGC=50 in the harness's environment: goEnv set GOGC=%s (tfbin.Env passes the caller's on)", v)
	}
	os.Unsetenv("GOGC")
	if v := goEnv(map[string]string{})["GOGC"]; v != tfGOGC {
		t.Errorf("GOGC unset: goEnv gave %q, want %q", v, tfGOGC)
	}
}
