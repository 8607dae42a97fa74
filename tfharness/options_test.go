package tfharness

import (
	"errors"
	"path/filepath"
	"strings"
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
		"DSENV_AUTH_BACKEND": "ldap",
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

func TestSigningPairOnlyForAnotherDS(t *testing.T) {
	for image, want := range map[string]bool{"": false, "dsenv/datastorage:latest": false, "kubernaut/datastorage:local": true} {
		var opts []Option
		if image != "" {
			opts = append(opts, WithImage(ServiceDataStorage, image))
		}
		e, err := newEnv(newConfig(opts))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.awaitSigning(); err != nil {
			t.Fatal(err)
		}
		cert, key := e.secrets["signer_cert_pem"], e.secrets["signer_key_pem"]
		if got := cert != ""; got != want {
			t.Errorf("image %q: signing pair generated = %v, want %v", image, got, want)
		}
		if want && (!strings.Contains(cert, "-----BEGIN CERTIFICATE-----") || !strings.Contains(key, "-----BEGIN PRIVATE KEY-----")) {
			t.Errorf("image %q: signing pair is not PEM", image)
		}
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
	if err := e.awaitSigning(); err != nil {
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
		want := 32 // hex characters
		if name == "signer_cert_pem" || name == "signer_key_pem" {
			want = 0 // the reference DS gets no signing pair (TestSigningPairOnlyForAnotherDS)
		}
		if len(e.secrets[name]) != want {
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

func TestOtherDSImageNeedsMigrations(t *testing.T) {
	t.Setenv("DSENV_DATASTORAGE_IMAGE", "")
	t.Setenv("DSENV_MIGRATIONS_DIR", "")
	for img, ok := range map[string]bool{
		"dsenv/datastorage:latest": true, "dsenv/datastorage@sha256:0123": true, "dsenv/datastorage": true,
		"kubernaut/datastorage:local": false, "dsenv/datastorage-fork:1": false,
	} {
		c := newConfig([]Option{WithImage(ServiceDataStorage, img)})
		if (c.err == nil) != ok {
			t.Errorf("%s without migrations: err %v, want refused = %v", img, c.err, !ok)
		}
		if c.err != nil && !errors.Is(c.err, errNoMigrations) {
			t.Errorf("%s: %v, want errNoMigrations", img, c.err)
		}
	}
	dir := t.TempDir()
	c := newConfig([]Option{WithImage(ServiceDataStorage, "kubernaut/datastorage:local"), WithMigrationsDir(dir)})
	if c.err != nil || c.vars["migrations_dir"] != dir {
		t.Errorf("with WithMigrationsDir: err %v, migrations_dir %v", c.err, c.vars["migrations_dir"])
	}
	t.Setenv("DSENV_DATASTORAGE_IMAGE", "kubernaut/datastorage:local")
	t.Setenv("DSENV_MIGRATIONS_DIR", dir)
	if c := newConfig(nil); c.err != nil || c.vars["migrations_dir"] != dir {
		t.Errorf("with DSENV_MIGRATIONS_DIR: err %v, migrations_dir %v", c.err, c.vars["migrations_dir"])
	}
	t.Setenv("DSENV_MIGRATIONS_DIR", filepath.Join(dir, "missing"))
	if c := newConfig(nil); c.err == nil {
		t.Error("a migrations directory that does not exist must be an error")
	}
}

func TestAuthBackendFromTheEnvironmentAndTheOption(t *testing.T) {
	t.Setenv("DSENV_AUTH_BACKEND", "kube")
	if c := newConfig(nil); c.err != nil || c.vars["auth_backend"] != "kube" {
		t.Errorf("DSENV_AUTH_BACKEND=kube: vars %v, err %v", c.vars["auth_backend"], c.err)
	}
	if c := newConfig([]Option{WithAuthBackend(AuthStandIn)}); c.vars["auth_backend"] != "standin" {
		t.Errorf("the option wins over the environment: %v", c.vars["auth_backend"])
	}
	vars := map[string]any{"auth_backend": "kube", "kube_namespace": "team-a"}
	if err := kubeVars(vars); err != nil {
		t.Fatal(err)
	}
	pki, ok := vars["kube_pki"].(map[string]string)
	if !ok || len(pki) != 8 || pki["ca_cert_pem"] == "" {
		t.Fatalf("kube_pki: %T with %d entries", vars["kube_pki"], len(pki))
	}
	standin := map[string]any{}
	if err := kubeVars(standin); err != nil || len(standin) != 0 {
		t.Errorf("the stand-in needs no PKI: %v %v", standin, err)
	}
}
