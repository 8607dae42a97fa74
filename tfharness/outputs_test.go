package tfharness

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// outputDoc is what `terraform output -json` prints for terraform/env.
const outputDoc = `{
  "api_token": {"sensitive": true, "type": "string", "value": "tok123"},
  "denied_token": {"sensitive": true, "type": "string", "value": "denied456"},
  "containers": {"sensitive": false, "type": ["map", ["object", {"id": "string", "name": "string"}]],
    "value": {"postgres": {"id": "abc", "name": "t-ab12cd34-postgres"}, "datastorage": {"id": "def", "name": "t-ab12cd34-datastorage"}}},
  "datastorage_health_url": {"sensitive": false, "type": "string", "value": "http://127.0.0.1:32771"},
  "datastorage_metrics_url": {"sensitive": false, "type": "string", "value": "http://127.0.0.1:32772/metrics"},
  "datastorage_url": {"sensitive": false, "type": "string", "value": "http://127.0.0.1:32770"},
  "env_id": {"sensitive": false, "type": "string", "value": "t-ab12cd34"},
  "network_name": {"sensitive": false, "type": "string", "value": "t-ab12cd34-net"},
  "postgres_db": {"sensitive": false, "type": "string", "value": "datastorage"},
  "postgres_dsn": {"sensitive": true, "type": "string", "value": "postgres://datastorage:pw@127.0.0.1:32768/datastorage?sslmode=disable"},
  "postgres_dsn_internal": {"sensitive": true, "type": "string", "value": "postgres://datastorage:pw@postgres:5432/datastorage?sslmode=disable"},
  "postgres_host": {"sensitive": false, "type": "string", "value": "127.0.0.1"},
  "postgres_port": {"sensitive": false, "type": "number", "value": 32768},
  "postgres_user": {"sensitive": false, "type": "string", "value": "datastorage"},
  "redis_addr": {"sensitive": false, "type": "string", "value": "127.0.0.1:32769"},
  "redis_host": {"sensitive": false, "type": "string", "value": "127.0.0.1"},
  "redis_password": {"sensitive": true, "type": "string", "value": "rpw"},
  "redis_port": {"sensitive": false, "type": "number", "value": 32769},
  "redis_url": {"sensitive": true, "type": "string", "value": "redis://:rpw@127.0.0.1:32769/0"},
  "extra": {"sensitive": false, "type": "string", "value": "kept raw"}
}`

func TestDecodeOutputsJSONGivesTypedFields(t *testing.T) {
	out, err := DecodeOutputsJSON([]byte(outputDoc))
	if err != nil {
		t.Fatal(err)
	}
	if out.Postgres.Port != 32768 || out.Redis.Port != 32769 {
		t.Errorf("ports = %d, %d; want 32768, 32769", out.Postgres.Port, out.Redis.Port)
	}
	if out.ID != "t-ab12cd34" || out.Network != "t-ab12cd34-net" || out.Token != "tok123" || out.DeniedToken != "denied456" {
		t.Errorf("env_id/network/token = %q %q %q", out.ID, out.Network, out.Token)
	}
	if out.Redis.Addr != "127.0.0.1:32769" || out.Redis.Password != "rpw" || out.DataStorage.URL != "http://127.0.0.1:32770" {
		t.Errorf("redis/ds = %+v %+v", out.Redis, out.DataStorage)
	}
	if c := out.Containers["postgres"]; c.Name != "t-ab12cd34-postgres" || c.ID != "abc" {
		t.Errorf("containers[postgres] = %+v", c)
	}
	if string(out.Raw["extra"]) != `"kept raw"` {
		t.Errorf("Raw[extra] = %s", out.Raw["extra"])
	}
	cfg, err := pgx.ParseConfig(out.Postgres.DSN)
	if err != nil {
		t.Fatalf("DSN does not parse with pgx: %v", err)
	}
	if cfg.Port != uint16(out.Postgres.Port) || cfg.Host != out.Postgres.Host || cfg.User != "datastorage" {
		t.Errorf("pgx config %s:%d user %s disagrees with outputs", cfg.Host, cfg.Port, cfg.User)
	}
}

func TestDecodeOutputsRejectsWrongTypesAndMissingOutputsWithoutValues(t *testing.T) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(outputDoc), &doc); err != nil {
		t.Fatal(err)
	}
	values := func(mut func(map[string]json.RawMessage)) map[string]json.RawMessage {
		v := map[string]json.RawMessage{}
		for k, raw := range doc {
			var m struct{ Value json.RawMessage }
			_ = json.Unmarshal(raw, &m)
			v[k] = m.Value
		}
		mut(v)
		return v
	}
	tests := []struct {
		name    string
		mut     func(map[string]json.RawMessage)
		wantErr string
	}{
		{"port as string", func(v map[string]json.RawMessage) { v["postgres_port"] = json.RawMessage(`"32768"`) }, "postgres_port"},
		{"missing dsn", func(v map[string]json.RawMessage) { delete(v, "postgres_dsn") }, "missing postgres_dsn"},
		{"token as number", func(v map[string]json.RawMessage) { v["api_token"] = json.RawMessage(`12345678`) }, "api_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeOutputs(values(tt.mut))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v; want it to mention %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "12345678") || strings.Contains(err.Error(), "pw@") {
				t.Errorf("error leaks a value: %v", err)
			}
		})
	}
}

func TestReadOutputsFromTheStateFile(t *testing.T) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(outputDoc), &doc); err != nil {
		t.Fatal(err)
	}
	state, _ := json.Marshal(map[string]any{"version": 4, "terraform_version": "1.11.4", "outputs": doc})
	path := filepath.Join(t.TempDir(), "terraform.tfstate")
	if err := os.WriteFile(path, state, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := readOutputs(context.Background(), nil, path)
	if err != nil {
		t.Fatal(err)
	}
	if out.Postgres.Port != 32768 || out.Token != "tok123" {
		t.Errorf("outputs from state: %+v", out)
	}
}
