package tfharness

import (
	"testing"
)

func TestDefaultStringReadsTheRootModulesVariableDefault(t *testing.T) {
	tr, err := embeddedTree()
	if err != nil {
		t.Fatal(err)
	}
	tm := &template{root: "env", tree: tr}
	for name, want := range map[string]string{
		"postgres_image":    "dsenv/postgres:15",
		"redis_image":       "dsenv/redis:7",
		"datastorage_image": "dsenv/datastorage:latest",
		"migrate_image":     "dsenv/migrate:latest",
		"no_such_variable":  "",
	} {
		if got := tm.defaultString(name); got != want {
			t.Errorf("default of %s = %q, want %q", name, got, want)
		}
	}
}
