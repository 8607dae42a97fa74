package dsconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/internal/dsfiles"
)

// files writes a config and its secrets into a temp dir. mutate edits the config text.
type fixture struct {
	dir, config, dbSecrets, redisSecrets, tokens string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{
		dir:          dir,
		dbSecrets:    filepath.Join(dir, "db-secrets.yaml"),
		redisSecrets: filepath.Join(dir, "redis-secrets.yaml"),
		tokens:       filepath.Join(dir, "api-tokens.yaml"),
	}
	f.config = `
server:
  port: 8080
  host: 0.0.0.0
  healthPort: 8081
  metricsPort: 9090
  readTimeout: 30s
  writeTimeout: 30s
  shutdownTimeout: 15s
  maxBatchSize: 500
  maxBodySize: 10MB
logging:
  level: INFO
database:
  host: postgres
  port: 5432
  name: datastorage
  user: datastorage
  sslMode: disable
  maxOpenConns: 10
  maxIdleConns: 5
  connMaxLifetime: 5m
  connMaxIdleTime: 10m
  secretsFile: ` + f.dbSecrets + `
  usernameKey: username
  passwordKey: password
redis:
  addr: redis:6379
  dlqMaxLen: 1000
  secretsFile: ` + f.redisSecrets + `
  passwordKey: password
auth:
  tokensFile: ` + f.tokens + `
startup:
  connectAttempts: 3
  connectInterval: 200ms
dlq:
  retryInterval: 250ms
  maxRetries: 4
realDSOnly:
  something: [1, 2]
`
	f.write(t, f.dbSecrets, "username: ds-user\npassword: s3cret\n")
	f.write(t, f.redisSecrets, "password: \"\"\n")
	f.write(t, f.tokens, "gateway: tok-a\nother: tok-b\n")
	return f
}

func (f *fixture) write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

func (f *fixture) load(t *testing.T, env map[string]string) (*Config, error) {
	t.Helper()
	p := filepath.Join(f.dir, "config.yaml")
	f.write(t, p, f.config)
	return Load(p, func(k string) string { return env[k] })
}

// edit replaces old with new in the config text; old must occur.
func (f *fixture) edit(t *testing.T, old, new string) {
	t.Helper()
	require.Contains(t, f.config, old)
	f.config = strings.Replace(f.config, old, new, 1)
}

func TestLoadReadsEveryKeyAndSecrets(t *testing.T) {
	f := newFixture(t)
	cfg, err := f.load(t, nil)
	require.NoError(t, err)
	assert.Equal(t, 8080, cfg.Server.Port)
	assert.Equal(t, 15*time.Second, cfg.Server.ShutdownTimeout)
	assert.Equal(t, ByteSize(10<<20), cfg.Server.MaxBodySize)
	assert.Equal(t, "ds-user", cfg.Database.User, "usernameKey overrides database.user")
	assert.Equal(t, "s3cret", cfg.Database.Password)
	assert.Equal(t, 5*time.Minute, cfg.Database.ConnMaxLifetime)
	assert.Equal(t, "", cfg.Redis.Password, "empty password means no AUTH")
	assert.Equal(t, int64(1000), cfg.Redis.DLQMaxLen)
	assert.ElementsMatch(t, []string{"tok-a", "tok-b"}, cfg.Auth.Tokens)
	assert.Equal(t, 3, cfg.Startup.ConnectAttempts)
	assert.Equal(t, 200*time.Millisecond, cfg.Startup.ConnectInterval)
	assert.Equal(t, 250*time.Millisecond, cfg.DLQ.RetryInterval)
	assert.Equal(t, 4, cfg.DLQ.MaxRetries)
}

func TestLoadAppliesDefaults(t *testing.T) {
	f := newFixture(t)
	f.config = `
server: {port: 8080}
database: {host: h, port: 5432, name: n, user: u, secretsFile: ` + f.dbSecrets + `, passwordKey: password}
redis: {addr: "r:6379", secretsFile: ` + f.redisSecrets + `, passwordKey: password}
auth: {tokensFile: ` + f.tokens + `}
`
	cfg, err := f.load(t, nil)
	require.NoError(t, err)
	assert.Equal(t, DefaultHealthPort, cfg.Server.HealthPort)
	assert.Equal(t, DefaultMetricsPort, cfg.Server.MetricsPort)
	assert.Equal(t, DefaultMaxBatchSize, cfg.Server.MaxBatchSize)
	assert.Equal(t, "info", cfg.Logging.Level)
	assert.Equal(t, int64(DefaultDLQMaxLen), cfg.Redis.DLQMaxLen)
	assert.Equal(t, DefaultConnectAttempts, cfg.Startup.ConnectAttempts)
	assert.Equal(t, DefaultConnectInterval, cfg.Startup.ConnectInterval)
	assert.Equal(t, DefaultRetryInterval, cfg.DLQ.RetryInterval)
	assert.Equal(t, DefaultMaxRetries, cfg.DLQ.MaxRetries)
	assert.Equal(t, "u", cfg.Database.User, "no usernameKey: database.user stays")
}

func TestEnvironmentOverridesPorts(t *testing.T) {
	f := newFixture(t)
	cfg, err := f.load(t, map[string]string{"PORT": "18080", "HEALTH_PORT": "18081"})
	require.NoError(t, err)
	assert.Equal(t, 18080, cfg.Server.Port)
	assert.Equal(t, 18081, cfg.Server.HealthPort)

	_, err = f.load(t, map[string]string{"PORT": "eighty"})
	require.ErrorContains(t, err, `invalid PORT environment variable "eighty"`)
}

func TestPortOverrideIsValidated(t *testing.T) {
	f := newFixture(t)
	_, err := f.load(t, map[string]string{"PORT": "80"})
	require.EqualError(t, err, "server port must be between 1024 and 65535, got: 80")
}

// Every startup error text of the contract, in the order the checks run.
func TestContractErrorTexts(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, f *fixture)
		want  string
	}{
		{"database secretsFile", func(t *testing.T, f *fixture) { f.edit(t, "  secretsFile: "+f.dbSecrets, "") },
			"database secretsFile required"},
		{"database passwordKey", func(t *testing.T, f *fixture) { f.edit(t, "  usernameKey: username\n  passwordKey: password", "") },
			"database passwordKey required"},
		{"database password key missing", func(t *testing.T, f *fixture) { f.write(t, f.dbSecrets, "username: x\npwd: y\n") },
			"password key 'password' not found in database secret file " + "DBSECRETS"},
		{"redis secretsFile", func(t *testing.T, f *fixture) { f.edit(t, "  secretsFile: "+f.redisSecrets, "") },
			"redis secretsFile required"},
		{"redis passwordKey", func(t *testing.T, f *fixture) {
			f.edit(t, "  dlqMaxLen: 1000\n  secretsFile: "+f.redisSecrets+"\n  passwordKey: password", "  secretsFile: "+f.redisSecrets)
		},
			"redis passwordKey required"},
		{"database host", func(t *testing.T, f *fixture) { f.edit(t, "  host: postgres\n", "") }, "database host required"},
		{"database port", func(t *testing.T, f *fixture) { f.edit(t, "  port: 5432\n", "") }, "database port required"},
		{"database name", func(t *testing.T, f *fixture) { f.edit(t, "  name: datastorage\n", "") }, "database name required"},
		{"database user", func(t *testing.T, f *fixture) {
			f.edit(t, "  user: datastorage\n", "")
			f.write(t, f.dbSecrets, "password: s3cret\n")
		}, "database user required"},
		{"server port", func(t *testing.T, f *fixture) { f.edit(t, "  port: 8080\n", "") }, "server port required"},
		{"server port low", func(t *testing.T, f *fixture) { f.edit(t, "  port: 8080\n", "  port: 1023\n") },
			"server port must be between 1024 and 65535, got: 1023"},
		{"server port high", func(t *testing.T, f *fixture) { f.edit(t, "  port: 8080\n", "  port: 70000\n") },
			"server port must be between 1024 and 65535, got: 70000"},
		{"redis address", func(t *testing.T, f *fixture) { f.edit(t, "  addr: redis:6379\n", "") }, "redis address required"},
		{"log level", func(t *testing.T, f *fixture) { f.edit(t, "level: INFO", "level: verbose") }, "invalid log level: verbose"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.setup(t, f)
			_, err := f.load(t, nil)
			require.Error(t, err)
			assert.Equal(t, strings.ReplaceAll(tc.want, "DBSECRETS", f.dbSecrets), err.Error())
		})
	}
}

func TestLogLevelIsCaseInsensitive(t *testing.T) {
	for _, lvl := range []string{"debug", "Info", "WARN", "error"} {
		_, err := ParseLevel(lvl)
		assert.NoError(t, err, lvl)
	}
}

func TestSecretsFiles(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content string
		want          map[string]string
		wantErr       string
	}{
		{"yaml", "username: u\npassword: 'p: w'\n", map[string]string{"username": "u", "password": "p: w"}, ""},
		{"json", `{"password": "pw", "username": "u"}`, map[string]string{"username": "u", "password": "pw"}, ""},
		{"empty string", "password: \"\"\n", map[string]string{"password": ""}, ""},
		{"empty file", "", map[string]string{}, ""},
		{"number", "password: 12345\n", nil, "value of key 'password' must be a string"},
		{"boolean", "password: true\n", nil, "value of key 'password' must be a string"},
		{"null", "password:\n", nil, "value of key 'password' must be a string"},
		{"nested", "password:\n  a: b\n", nil, "value of key 'password' must be a string"},
		{"list", "password: [a]\n", nil, "value of key 'password' must be a string"},
		{"not a map", "- a\n- b\n", nil, "must be a flat map of strings"},
		{"not yaml", "password: \"unterminated\n", nil, "is not valid YAML or JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			require.NoError(t, os.WriteFile(p, []byte(tc.content), 0o600))
			got, err := ReadSecretsFile(p)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				assert.NotContains(t, err.Error(), "12345", "secret values never appear in errors")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestNonStringDatabaseSecretIsAnError(t *testing.T) {
	f := newFixture(t)
	f.write(t, f.dbSecrets, "password: 42\n")
	_, err := f.load(t, nil)
	require.ErrorContains(t, err, "value of key 'password' must be a string")
}

func TestTokensFileRequiredAndNonEmpty(t *testing.T) {
	f := newFixture(t)
	f.edit(t, "  tokensFile: "+f.tokens, "")
	_, err := f.load(t, nil)
	require.EqualError(t, err, "auth tokensFile required")

	f = newFixture(t)
	f.write(t, f.tokens, "a: \"\"\n")
	_, err = f.load(t, nil)
	require.ErrorContains(t, err, "no API tokens in")
}

func TestMissingConfigFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), func(string) string { return "" })
	require.ErrorContains(t, err, "failed to read config file")
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"1024": 1024, "10MB": 10 << 20, "512KiB": 512 << 10, "1G": 1 << 30, "7b": 7} {
		got, err := ParseByteSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "ten", "-1", "1.5MB"} {
		_, err := ParseByteSize(in)
		assert.Error(t, err, in)
	}
}

// The config.yaml dsenv renders (terraform/modules/datastorage's template, rendered here
// through internal/dsfiles) is one the DS loads as written.
func TestTheRenderedConfigLoads(t *testing.T) {
	f := newFixture(t)
	store := filepath.Join(f.dir, "store-secrets.yaml")
	b, err := dsfiles.StoreSecretsYAML("ds-user", "s3cret", "")
	require.NoError(t, err)
	f.write(t, store, string(b))
	c := dsfiles.Defaults()
	c.Files = dsfiles.Files{StoreSecrets: store, APITokens: f.tokens}
	c.Database.WriteTimeout = "1500ms"
	b, err = c.YAML()
	require.NoError(t, err)
	f.config = string(b)
	cfg, err := f.load(t, nil)
	require.NoError(t, err)
	assert.Equal(t, 8080, cfg.Server.Port)
	assert.Equal(t, 8081, cfg.Server.HealthPort)
	assert.Equal(t, "postgres", cfg.Database.Host)
	assert.Equal(t, 10*time.Minute, cfg.Database.ConnMaxIdleTime)
	assert.Equal(t, 1500*time.Millisecond, cfg.Database.WriteTimeout)
	assert.Equal(t, "redis:6379", cfg.Redis.Addr)
	assert.Equal(t, "ds-user", cfg.Database.User)
	assert.Equal(t, "s3cret", cfg.Database.Password)
	assert.Equal(t, "", cfg.Redis.Password)
	assert.Equal(t, 10, cfg.Startup.ConnectAttempts)
	assert.ElementsMatch(t, []string{"tok-a", "tok-b"}, cfg.Auth.Tokens)
}
