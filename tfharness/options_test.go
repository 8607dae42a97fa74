package tfharness

import (
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/internal/owner"
	"github.com/dsenv/dsenv/internal/secret"
)

func TestOptionsOverrideDefaultsFromTheEnvironment(t *testing.T) {
	t.Setenv("DSENV_KEEP", "1")
	t.Setenv("DSENV_TEARDOWN", "destroy")
	t.Setenv("DSENV_TIMEOUT", "90s")
	t.Setenv("DSENV_TF_BINARY", "tofu")
	c := newConfig(nil)
	if c.err != nil {
		t.Fatal(c.err)
	}
	if c.keep != KeepOnFailure || c.teardown != TeardownDestroy || c.timeout != 90*time.Second || c.binary != OpenTofu {
		t.Fatalf("env defaults not applied: keep %s teardown %s timeout %s binary %s", c.keep, c.teardown, c.timeout, c.binary)
	}
	c = newConfig([]Option{
		WithKeep(KeepNever), WithTeardown(TeardownFast), WithTimeout(time.Minute), WithBinary(Terraform),
		WithImage(ServicePostgres, "postgres:16-alpine"), WithLogLevel("debug"),
		WithVars(map[string]any{"connect_attempts": 3}), WithLabels(map[string]string{"team": "gw"}),
		WithSensitiveVar("api_token", "given"), WithArtifactsDir("/tmp/a"), WithLogTail(7),
	})
	if c.err != nil {
		t.Fatal(c.err)
	}
	if c.keep != KeepNever || c.teardown != TeardownFast || c.timeout != time.Minute || c.binary != Terraform {
		t.Errorf("options did not override env: %+v", c)
	}
	if c.vars["postgres_image"] != "postgres:16-alpine" || c.vars["log_level"] != "debug" || c.vars["connect_attempts"] != 3 {
		t.Errorf("vars = %v", c.vars)
	}
	if c.labels["team"] != "gw" || c.sensitive["api_token"] != "given" || c.artifacts() != "/tmp/a" || c.logTail != 7 {
		t.Errorf("labels %v sensitive set %v artifacts %s tail %d", c.labels, c.sensitive["api_token"] != "", c.artifacts(), c.logTail)
	}
}

func TestInvalidEnvironmentVariablesAreReported(t *testing.T) {
	for k, v := range map[string]string{
		"DSENV_KEEP": "sometimes", "DSENV_TEARDOWN": "nuke", "DSENV_TIMEOUT": "soon", "DSENV_TF_BINARY": "pulumi",
	} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, v)
			if c := newConfig(nil); c.err == nil {
				t.Errorf("%s=%s accepted", k, v)
			}
		})
	}
	if c := newConfig([]Option{WithBinary("pulumi")}); c.err == nil {
		t.Error("WithBinary(pulumi) accepted")
	}
}

func TestVarsKeepTheHarnessNamePrefixAndLabels(t *testing.T) {
	c := newConfig([]Option{
		WithVars(map[string]any{"name_prefix": "hijack", "log_level": "warn"}),
		WithLabels(map[string]string{"dsenv.persistent": "true"}),
	})
	e, err := newEnv(c)
	if err != nil {
		t.Fatal(err)
	}
	v := e.vars()
	if v["name_prefix"] != e.ID || v["log_level"] != "warn" || v["owner"] != owner.Current().String() {
		t.Errorf("vars = %v", v)
	}
	if v["created"] == "" || e.labels()[label.Env] != e.ID || e.labels()["dsenv.persistent"] != "true" {
		t.Errorf("labels = %v", e.labels())
	}
	for _, name := range secret.Vars {
		if len(e.secrets[name]) != 32 {
			t.Errorf("secret %s has length %d; want 32 hex characters", name, len(e.secrets[name]))
		}
		if _, ok := v[name]; ok {
			t.Errorf("secret %s is among the plain variables", name)
		}
	}
	if e.secrets["postgres_password"] == e.secrets["redis_password"] {
		t.Error("secrets are not independent")
	}
	if got := e.redact("dsn postgres://u:" + e.secrets["postgres_password"] + "@h"); got != "dsn postgres://u:[redacted]@h" {
		t.Errorf("redact = %q", got)
	}
}
