// Package dsconfig loads and validates the Data Storage service configuration: config.yaml (lenient,
// camelCase keys), the secrets files it names, and the PORT/HEALTH_PORT environment overrides.
package dsconfig

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults applied when a key is absent.
const (
	DefaultHealthPort      = 8081
	DefaultMetricsPort     = 9090
	DefaultMaxBatchSize    = 500
	DefaultMaxBodySize     = 10 << 20
	DefaultReadTimeout     = 30 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
	DefaultDBWriteTimeout  = 3 * time.Second
	DefaultMaxOpenConns    = 25
	DefaultDLQMaxLen       = 10000
	DefaultConnectAttempts = 10
	DefaultConnectInterval = 2 * time.Second
	DefaultRetryInterval   = time.Second
	DefaultMaxRetries      = 5
)

// Config is the whole of config.yaml plus the values loaded from the secrets files.
type Config struct {
	Server   Server   `yaml:"server"`
	Logging  Logging  `yaml:"logging"`
	Database Database `yaml:"database"`
	Redis    Redis    `yaml:"redis"`
	Auth     Auth     `yaml:"auth"`
	Startup  Startup  `yaml:"startup"`
	DLQ      DLQ      `yaml:"dlq"`
}

// Server holds the listener settings and request limits.
type Server struct {
	Port            int           `yaml:"port"`
	Host            string        `yaml:"host"`
	HealthPort      int           `yaml:"healthPort"`
	MetricsPort     int           `yaml:"metricsPort"`
	ReadTimeout     time.Duration `yaml:"readTimeout"`
	WriteTimeout    time.Duration `yaml:"writeTimeout"`
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
	MaxBatchSize    int           `yaml:"maxBatchSize"`
	MaxBodySize     ByteSize      `yaml:"maxBodySize"`
	SignerCertDir   string        `yaml:"signerCertDir"` // accepted for compatibility, unused
}

// Logging holds the log level.
type Logging struct {
	Level string `yaml:"level"`
}

// Database holds the PostgreSQL settings. Password (and User, when usernameKey names a key present
// in the secrets file) come from SecretsFile.
type Database struct {
	Host             string        `yaml:"host"`
	Port             int           `yaml:"port"`
	Name             string        `yaml:"name"`
	User             string        `yaml:"user"`
	SSLMode          string        `yaml:"sslMode"`
	MaxOpenConns     int           `yaml:"maxOpenConns"`
	MaxIdleConns     int           `yaml:"maxIdleConns"`
	ConnMaxLifetime  time.Duration `yaml:"connMaxLifetime"`
	ConnMaxIdleTime  time.Duration `yaml:"connMaxIdleTime"`
	StatementTimeout time.Duration `yaml:"statementTimeout"`
	LockTimeout      time.Duration `yaml:"lockTimeout"`
	SecretsFile      string        `yaml:"secretsFile"`
	UsernameKey      string        `yaml:"usernameKey"`
	PasswordKey      string        `yaml:"passwordKey"`
	// WriteTimeout bounds one API write before the events go to the dead-letter queue (our addition).
	WriteTimeout time.Duration `yaml:"writeTimeout"`

	Password string `yaml:"-"`
}

// Redis holds the dead-letter queue's Redis settings. Password comes from SecretsFile.
type Redis struct {
	Addr        string `yaml:"addr"`
	DLQMaxLen   int64  `yaml:"dlqMaxLen"`
	SecretsFile string `yaml:"secretsFile"`
	PasswordKey string `yaml:"passwordKey"`

	Password string `yaml:"-"`
}

// Auth names the file of accepted bearer tokens (our addition).
type Auth struct {
	TokensFile string `yaml:"tokensFile"`

	Tokens []string `yaml:"-"`
}

// Startup holds the connect retry budget (our addition).
type Startup struct {
	ConnectAttempts int           `yaml:"connectAttempts"`
	ConnectInterval time.Duration `yaml:"connectInterval"`
}

// DLQ holds the dead-letter worker settings (our addition).
type DLQ struct {
	RetryInterval time.Duration `yaml:"retryInterval"`
	MaxRetries    int           `yaml:"maxRetries"`
}

// Load reads the config file at path, applies defaults and the environment overrides (getenv is
// usually os.Getenv), loads the secrets files and validates the result. Its errors carry the
// contract's texts.
func Load(path string, getenv func(string) string) (*Config, error) {
	cfg, err := Parse(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.applyEnv(getenv); err != nil {
		return nil, err
	}
	if err := cfg.LoadSecrets(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Parse reads config.yaml and applies defaults; unknown keys are ignored. It loads no secrets.
func Parse(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read config file: %w", err)
	}
	var cfg Config
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("failed to parse config file %s: %w", path, err)
	}
	cfg.applyDefaults()
	return &cfg, nil
}

func (c *Config) applyDefaults() {
	s := &c.Server
	setInt(&s.HealthPort, DefaultHealthPort)
	setInt(&s.MetricsPort, DefaultMetricsPort)
	setInt(&s.MaxBatchSize, DefaultMaxBatchSize)
	if s.MaxBodySize == 0 {
		s.MaxBodySize = DefaultMaxBodySize
	}
	setDur(&s.ReadTimeout, DefaultReadTimeout)
	setDur(&s.WriteTimeout, DefaultWriteTimeout)
	setDur(&s.ShutdownTimeout, DefaultShutdownTimeout)
	if c.Logging.Level == "" {
		c.Logging.Level = "info"
	}
	setInt(&c.Database.MaxOpenConns, DefaultMaxOpenConns)
	setDur(&c.Database.WriteTimeout, DefaultDBWriteTimeout)
	if c.Redis.DLQMaxLen == 0 {
		c.Redis.DLQMaxLen = DefaultDLQMaxLen
	}
	setInt(&c.Startup.ConnectAttempts, DefaultConnectAttempts)
	setDur(&c.Startup.ConnectInterval, DefaultConnectInterval)
	setDur(&c.DLQ.RetryInterval, DefaultRetryInterval)
	setInt(&c.DLQ.MaxRetries, DefaultMaxRetries)
}

func setInt(p *int, def int) {
	if *p == 0 {
		*p = def
	}
}

func setDur(p *time.Duration, def time.Duration) {
	if *p == 0 {
		*p = def
	}
}

// applyEnv applies the PORT and HEALTH_PORT overrides.
func (c *Config) applyEnv(getenv func(string) string) error {
	for _, o := range []struct {
		name string
		dst  *int
	}{{"PORT", &c.Server.Port}, {"HEALTH_PORT", &c.Server.HealthPort}} {
		v := strings.TrimSpace(getenv(o.name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("invalid %s environment variable %q: must be an integer", o.name, v)
		}
		*o.dst = n
	}
	return nil
}

// LoadSecrets reads the database, Redis and API token secrets files named by the config.
func (c *Config) LoadSecrets() error {
	db := &c.Database
	if db.SecretsFile == "" {
		return errors.New("database secretsFile required")
	}
	if db.PasswordKey == "" {
		return errors.New("database passwordKey required")
	}
	secrets, err := ReadSecretsFile(db.SecretsFile)
	if err != nil {
		return fmt.Errorf("failed to load database secrets: %w", err)
	}
	pw, ok := secrets[db.PasswordKey]
	if !ok {
		return fmt.Errorf("password key '%s' not found in database secret file %s", db.PasswordKey, db.SecretsFile)
	}
	db.Password = pw
	if db.UsernameKey != "" {
		if u, ok := secrets[db.UsernameKey]; ok && u != "" {
			db.User = u
		}
	}

	rd := &c.Redis
	if rd.SecretsFile == "" {
		return errors.New("redis secretsFile required")
	}
	if rd.PasswordKey == "" {
		return errors.New("redis passwordKey required")
	}
	secrets, err = ReadSecretsFile(rd.SecretsFile)
	if err != nil {
		return fmt.Errorf("failed to load redis secrets: %w", err)
	}
	pw, ok = secrets[rd.PasswordKey]
	if !ok {
		return fmt.Errorf("password key '%s' not found in redis secret file %s", rd.PasswordKey, rd.SecretsFile)
	}
	rd.Password = pw

	if c.Auth.TokensFile == "" {
		return errors.New("auth tokensFile required")
	}
	tokens, err := ReadSecretsFile(c.Auth.TokensFile)
	if err != nil {
		return fmt.Errorf("failed to load API tokens: %w", err)
	}
	c.Auth.Tokens = c.Auth.Tokens[:0]
	for _, t := range tokens {
		if t != "" {
			c.Auth.Tokens = append(c.Auth.Tokens, t)
		}
	}
	if len(c.Auth.Tokens) == 0 {
		return fmt.Errorf("no API tokens in %s", c.Auth.TokensFile)
	}
	return nil
}

// ReadSecretsFile reads a flat YAML (or JSON) map of strings. A value that is not a string (a
// number, a boolean, null, a list or a map) is an error naming its key, never its value.
func ReadSecretsFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read secret file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// The parser's message may quote file content; keep only where it failed.
		return nil, fmt.Errorf("secret file %s is not valid YAML or JSON", path)
	}
	out := map[string]string{}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return out, nil // empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("secret file %s must be a flat map of strings", path)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("secret file %s must be a flat map of strings", path)
		}
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
			return nil, fmt.Errorf("secret file %s: value of key '%s' must be a string", path, k.Value)
		}
		out[k.Value] = v.Value
	}
	return out, nil
}

// Validate checks the loaded config; its errors are the contract's texts.
func (c *Config) Validate() error {
	db := c.Database
	switch {
	case db.Host == "":
		return errors.New("database host required")
	case db.Port == 0:
		return errors.New("database port required")
	case db.Name == "":
		return errors.New("database name required")
	case db.User == "":
		return errors.New("database user required")
	case c.Server.Port == 0:
		return errors.New("server port required")
	case c.Server.Port < 1024 || c.Server.Port > 65535:
		return fmt.Errorf("server port must be between 1024 and 65535, got: %d", c.Server.Port)
	case c.Redis.Addr == "":
		return errors.New("redis address required")
	}
	if _, err := ParseLevel(c.Logging.Level); err != nil {
		return err
	}
	if db.Port < 1 || db.Port > 65535 {
		return fmt.Errorf("database port must be between 1 and 65535, got: %d", db.Port)
	}
	for name, p := range map[string]int{"health": c.Server.HealthPort, "metrics": c.Server.MetricsPort} {
		if p < 1 || p > 65535 {
			return fmt.Errorf("server %s port must be between 1 and 65535, got: %d", name, p)
		}
	}
	if c.Server.MaxBatchSize < 1 {
		return fmt.Errorf("server maxBatchSize must be positive, got: %d", c.Server.MaxBatchSize)
	}
	if c.Startup.ConnectAttempts < 1 {
		return fmt.Errorf("startup connectAttempts must be positive, got: %d", c.Startup.ConnectAttempts)
	}
	if c.DLQ.MaxRetries < 1 {
		return fmt.Errorf("dlq maxRetries must be positive, got: %d", c.DLQ.MaxRetries)
	}
	return nil
}
