// Package dsfiles renders the DS's config.yaml for Go code (the DS's own integration
// tests, the benchmarks) from the very template terraform/modules/datastorage renders,
// so the file has one source. The template uses two forms only, ${a.b} and
// ${jsonencode(a.b)}; anything else in it is an error here, not a silent difference.
package dsfiles

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	dsterraform "github.com/dsenv/dsenv/terraform"
)

const (
	templatePath     = "modules/datastorage/templates/config.yaml.tftpl"
	storeSecretsPath = "modules/datastorage/templates/store-secrets.yaml.tftpl"
)

// Config holds the values the module passes to templatefile, under the same names.
type Config struct {
	LogLevel string
	Server   Server
	Database Database
	Redis    Redis
	Files    Files
	Startup  Startup
	DLQ      DLQ
}

type Server struct {
	Host                                    string
	Port, HealthPort, MetricsPort           int
	ReadTimeout, WriteTimeout, ShutdownTime string
	MaxBatchSize, MaxBodySize               int
	SignerCertDir                           string
}

type Database struct {
	Host, Name, User, SSLMode                   string
	Port, MaxOpenConns, MaxIdleConns            int
	ConnMaxLifetime, ConnMaxIdleTime            string
	StatementTimeout, LockTimeout, WriteTimeout string
}

type Redis struct {
	Addr      string
	DLQMaxLen int
}

// Files are the paths of the secrets files as the DS sees them: PostgreSQL's and Redis'
// secrets share one file (StoreSecretsYAML), under the keys Keys names.
type Files struct{ StoreSecrets, APITokens string }

// Keys of the store secrets file, as the module names them.
var Keys = map[string]string{"db_username": "db_username", "db_password": "db_password", "redis_password": "redis_password"}

type Startup struct {
	ConnectAttempts int
	ConnectInterval string
}

type DLQ struct {
	RetryInterval string
	MaxRetries    int
}

// Defaults are the module's defaults (terraform/modules/datastorage/variables.tf and
// main.tf); callers set the addresses, ports and file paths.
func Defaults() Config {
	return Config{
		LogLevel: "info",
		Server: Server{Host: "0.0.0.0", Port: 8080, HealthPort: 8081, MetricsPort: 9090,
			ReadTimeout: "30s", WriteTimeout: "30s", ShutdownTime: "10s",
			MaxBatchSize: 500, MaxBodySize: 10485760, SignerCertDir: "/etc/datastorage/certs"},
		Database: Database{Host: "postgres", Port: 5432, Name: "datastorage", User: "datastorage",
			SSLMode: "disable", MaxOpenConns: 25, MaxIdleConns: 5, ConnMaxLifetime: "5m",
			ConnMaxIdleTime: "10m", StatementTimeout: "30s", LockTimeout: "10s", WriteTimeout: "3s"},
		Redis: Redis{Addr: "redis:6379", DLQMaxLen: 10000},
		Files: Files{StoreSecrets: "/etc/datastorage/secrets/store-secrets.yaml",
			APITokens: "/etc/datastorage/secrets/api-tokens.yaml"},
		Startup: Startup{ConnectAttempts: 10, ConnectInterval: "2s"},
		DLQ:     DLQ{RetryInterval: "1s", MaxRetries: 5},
	}
}

// values is c under the names the template uses.
func (c Config) values() map[string]any {
	s, d := c.Server, c.Database
	return map[string]any{
		"log_level": strings.ToLower(c.LogLevel),
		"server": map[string]any{"host": s.Host, "port": s.Port, "health_port": s.HealthPort,
			"metrics_port": s.MetricsPort, "read_timeout": s.ReadTimeout, "write_timeout": s.WriteTimeout,
			"shutdown_timeout": s.ShutdownTime, "max_batch_size": s.MaxBatchSize,
			"max_body_size": s.MaxBodySize, "signer_cert_dir": s.SignerCertDir},
		"database": map[string]any{"host": d.Host, "port": d.Port, "name": d.Name, "user": d.User,
			"ssl_mode": d.SSLMode, "max_open_conns": d.MaxOpenConns, "max_idle_conns": d.MaxIdleConns,
			"conn_max_lifetime": d.ConnMaxLifetime, "conn_max_idle_time": d.ConnMaxIdleTime,
			"statement_timeout": d.StatementTimeout, "lock_timeout": d.LockTimeout,
			"write_timeout": d.WriteTimeout},
		"redis": map[string]any{"addr": c.Redis.Addr, "dlq_max_len": c.Redis.DLQMaxLen},
		"files": map[string]any{"store_secrets": c.Files.StoreSecrets, "api_tokens": c.Files.APITokens},
		"keys":  keys(),
		"startup": map[string]any{"connect_attempts": c.Startup.ConnectAttempts,
			"connect_interval": c.Startup.ConnectInterval},
		"dlq": map[string]any{"retry_interval": c.DLQ.RetryInterval, "max_retries": c.DLQ.MaxRetries},
	}
}

var (
	interpolation = regexp.MustCompile(`\$\{([^}]*)\}`)
	plainRef      = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)*$`)
	jsonencodeRef = regexp.MustCompile(`^jsonencode\(([a-z_]+(?:\.[a-z_]+)*)\)$`)
)

// YAML renders config.yaml.
func (c Config) YAML() ([]byte, error) {
	tmpl, err := dsterraform.FS.ReadFile(templatePath)
	if err != nil {
		return nil, err
	}
	return render(templatePath, string(tmpl), c.values())
}

// StoreSecretsYAML renders the file holding PostgreSQL's user and password and Redis'
// password ("" for no AUTH), at Files.StoreSecrets.
func StoreSecretsYAML(username, password, redisPassword string) ([]byte, error) {
	tmpl, err := dsterraform.FS.ReadFile(storeSecretsPath)
	if err != nil {
		return nil, err
	}
	return render(storeSecretsPath, string(tmpl), map[string]any{"keys": keys(),
		"username": username, "password": password, "redis_password": redisPassword})
}

func keys() map[string]any {
	m := make(map[string]any, len(Keys))
	for k, v := range Keys {
		m[k] = v
	}
	return m
}

func render(name, tmpl string, vals map[string]any) ([]byte, error) {
	if strings.Contains(tmpl, "%{") {
		return nil, fmt.Errorf("%s: template directives (%%{...}) are not supported by dsfiles", name)
	}
	var errs []string
	out := interpolation.ReplaceAllStringFunc(tmpl, func(m string) string {
		expr := strings.TrimSpace(m[2 : len(m)-1])
		encode := false
		if sub := jsonencodeRef.FindStringSubmatch(expr); sub != nil {
			expr, encode = sub[1], true
		} else if !plainRef.MatchString(expr) {
			errs = append(errs, fmt.Sprintf("unsupported expression ${%s}", expr))
			return m
		}
		v, ok := lookup(vals, expr)
		if !ok {
			errs = append(errs, fmt.Sprintf("unknown value %s", expr))
			return m
		}
		if encode {
			b, _ := json.Marshal(v)
			return string(b)
		}
		return fmt.Sprint(v)
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", name, strings.Join(errs, "; "))
	}
	return []byte(out), nil
}

func lookup(vals map[string]any, path string) (any, bool) {
	var cur any = vals
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}
