package tfharness

import (
	"testing"

	"github.com/dsenv/dsenv/internal/label"
)

func TestNewIDIsAValidNamePrefix(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id, err := newID("t")
		if err != nil {
			t.Fatal(err)
		}
		if !label.ValidEnvID.MatchString(id) || len(id) != 10 {
			t.Fatalf("id %q is not a valid name_prefix", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
}
