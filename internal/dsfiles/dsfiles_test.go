package dsfiles

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestDefaultsRenderEveryKeyOfTheModulesTemplate(t *testing.T) {
	c := Defaults()
	c.Database.Host, c.Database.Port, c.Redis.Addr = "127.0.0.1", 15432, "127.0.0.1:16379"
	b, err := c.YAML()
	require.NoError(t, err)
	assert.NotContains(t, string(b), "${")

	var doc map[string]map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc))
	assert.Equal(t, 15432, doc["database"]["port"])
	assert.Equal(t, "127.0.0.1", doc["database"]["host"])
	assert.Equal(t, "127.0.0.1:16379", doc["redis"]["addr"])
	assert.Equal(t, "5m", doc["database"]["connMaxLifetime"]) // the real DS requires it
	assert.Equal(t, "3s", doc["database"]["writeTimeout"])
	assert.Equal(t, "/etc/datastorage/secrets/api-tokens.yaml", doc["auth"]["tokensFile"])
	assert.Equal(t, "/etc/datastorage/secrets/store-secrets.yaml", doc["database"]["secretsFile"])
	assert.Equal(t, doc["database"]["secretsFile"], doc["redis"]["secretsFile"])
	assert.Equal(t, "db_password", doc["database"]["passwordKey"])
	assert.Equal(t, "redis_password", doc["redis"]["passwordKey"])
	assert.Equal(t, "info", doc["logging"]["level"])
}

func TestJSONEncodedValuesSurviveYAMLSpecialCharacters(t *testing.T) {
	c := Defaults()
	c.Database.Name = `db: "x" #1`
	b, err := c.YAML()
	require.NoError(t, err)
	var doc map[string]map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc))
	assert.Equal(t, `db: "x" #1`, doc["database"]["name"])
}

func TestRenderRejectsWhatItCannotRenderFaithfully(t *testing.T) {
	for tmpl, want := range map[string]string{
		"a: ${upper(server.host)}\n":        "unsupported expression ${upper(server.host)}",
		"a: ${server.nope}\n":               "unknown value server.nope",
		"%{ if true }x%{ endif }\n":         "template directives",
		"a: ${jsonencode(files.missing)}\n": "unknown value files.missing",
	} {
		_, err := render("test", tmpl, Defaults().values())
		if assert.Error(t, err, tmpl) {
			assert.True(t, strings.Contains(err.Error(), want), "%q: %v", tmpl, err)
		}
	}
}

func TestStoreSecretsHoldBothStoresUnderTheKeysTheConfigNames(t *testing.T) {
	b, err := StoreSecretsYAML("ds", `p@ss: "w"`, "")
	require.NoError(t, err)
	var doc map[string]string
	require.NoError(t, yaml.Unmarshal(b, &doc))
	assert.Equal(t, map[string]string{"db_username": "ds", "db_password": `p@ss: "w"`, "redis_password": ""}, doc)
}
