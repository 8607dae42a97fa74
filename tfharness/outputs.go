package tfharness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Postgres is how a test reaches the environment's PostgreSQL.
type Postgres struct {
	Host        string // host side, e.g. 127.0.0.1
	Port        int    // host port Docker assigned
	User        string
	Database    string
	DSN         string // host side: postgres://user:pass@127.0.0.1:port/db?sslmode=disable
	InternalDSN string // network side (postgres:5432), for containers on the environment's network
}

// Redis is how a test reaches the environment's Redis.
type Redis struct {
	Host     string
	Port     int
	Addr     string // host:port
	Password string
	URL      string // redis://:password@host:port/0
}

// DataStorage is how a test reaches the DS service.
type DataStorage struct {
	URL        string // API base URL, e.g. http://127.0.0.1:port
	HealthURL  string // readiness URL on the health port
	MetricsURL string // Prometheus metrics URL
}

// Container names one container of the environment.
type Container struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// Outputs are the typed outputs of terraform/env (docs/interfaces.md).
type Outputs struct {
	ID          string // env_id: the environment id, also the name prefix of every Docker object (t-ab12cd34)
	Network     string
	Postgres    Postgres
	Redis       Redis
	DataStorage DataStorage
	Token       string
	// DeniedToken authenticates through the auth stand-in but is denied every access check:
	// the DS answers 403 to it (output denied_token).
	DeniedToken string
	Containers  map[string]Container
	// Raw holds every output's JSON value by name, for outputs without a field here.
	Raw map[string]json.RawMessage
}

// outputValues mirrors the root module's outputs; decoding into fixed types is what
// turns a port into an int and makes a renamed or retyped output an error here rather
// than a zero value in a test.
type outputValues struct {
	EnvID               string               `json:"env_id"`
	NetworkName         string               `json:"network_name"`
	PostgresHost        string               `json:"postgres_host"`
	PostgresPort        int                  `json:"postgres_port"`
	PostgresUser        string               `json:"postgres_user"`
	PostgresDB          string               `json:"postgres_db"`
	PostgresDSN         string               `json:"postgres_dsn"`
	PostgresDSNInternal string               `json:"postgres_dsn_internal"`
	RedisHost           string               `json:"redis_host"`
	RedisPort           int                  `json:"redis_port"`
	RedisAddr           string               `json:"redis_addr"`
	RedisPassword       string               `json:"redis_password"`
	RedisURL            string               `json:"redis_url"`
	DataStorageURL      string               `json:"datastorage_url"`
	DataStorageHealth   string               `json:"datastorage_health_url"`
	DataStorageMetrics  string               `json:"datastorage_metrics_url"`
	APIToken            string               `json:"api_token"`
	DeniedToken         string               `json:"denied_token"`
	Containers          map[string]Container `json:"containers"`
}

// requiredOutputs must be present: a test cannot do without them.
var requiredOutputs = []string{
	"env_id", "postgres_host", "postgres_port", "postgres_dsn", "redis_addr",
	"datastorage_url", "api_token",
}

// decodeOutputs turns the values of `terraform output -json` (name -> value) into Outputs.
func decodeOutputs(values map[string]json.RawMessage) (*Outputs, error) {
	var missing []string
	for _, name := range requiredOutputs {
		if _, ok := values[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("outputs: missing %s", strings.Join(missing, ", "))
	}
	var v outputValues
	for name, raw := range values {
		// Decode output by output, so an error names the output.
		one, _ := json.Marshal(map[string]json.RawMessage{name: raw})
		if err := json.Unmarshal(one, &v); err != nil {
			// No value in the message: the output may be a secret.
			return nil, fmt.Errorf("outputs: %s: %w", name, err)
		}
	}
	return &Outputs{
		ID:      v.EnvID,
		Network: v.NetworkName,
		Postgres: Postgres{
			Host: v.PostgresHost, Port: v.PostgresPort, User: v.PostgresUser, Database: v.PostgresDB,
			DSN: v.PostgresDSN, InternalDSN: v.PostgresDSNInternal,
		},
		Redis: Redis{
			Host: v.RedisHost, Port: v.RedisPort, Addr: v.RedisAddr, Password: v.RedisPassword, URL: v.RedisURL,
		},
		DataStorage: DataStorage{URL: v.DataStorageURL, HealthURL: v.DataStorageHealth, MetricsURL: v.DataStorageMetrics},
		Token:       v.APIToken,
		DeniedToken: v.DeniedToken,
		Containers:  v.Containers,
		Raw:         values,
	}, nil
}

// DecodeOutputsJSON decodes the whole document printed by `terraform output -json`
// ({"name": {"sensitive": ..., "type": ..., "value": ...}}), e.g. terratest's
// terraform.OutputJson(t, opts, "").
func DecodeOutputsJSON(doc []byte) (*Outputs, error) {
	var metas map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(doc, &metas); err != nil {
		return nil, fmt.Errorf("outputs: not `terraform output -json`: %w", err)
	}
	values := make(map[string]json.RawMessage, len(metas))
	for k, m := range metas {
		values[k] = m.Value
	}
	return decodeOutputs(values)
}

// readOutputs reads the outputs from the local state file the apply just wrote (format
// version 4, the one `terraform output -json` itself reads), which saves starting
// Terraform once more; anything else goes through `terraform output -json`.
func readOutputs(ctx context.Context, tf *tfexec.Terraform, statePath string) (*Outputs, error) {
	if b, err := os.ReadFile(statePath); err == nil {
		var st struct {
			Version int `json:"version"`
			Outputs map[string]struct {
				Value json.RawMessage `json:"value"`
			} `json:"outputs"`
		}
		if json.Unmarshal(b, &st) == nil && st.Version == 4 && len(st.Outputs) > 0 {
			values := make(map[string]json.RawMessage, len(st.Outputs))
			for k, m := range st.Outputs {
				values[k] = m.Value
			}
			return decodeOutputs(values)
		}
	}
	// The JSON on stdout holds secrets: it must not reach the captured Terraform log.
	tf.SetStdout(io.Discard)
	metas, err := tf.Output(ctx)
	if err != nil {
		return nil, err
	}
	values := make(map[string]json.RawMessage, len(metas))
	for k, m := range metas {
		values[k] = m.Value
	}
	return decodeOutputs(values)
}
