// Package opentofu_test proves that OpenTofu applies the same modules as Terraform, through
// the same harness: `dsenv setup --with-tofu` (run by `make test`) builds it from source.
package opentofu_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/tests/internal/gateway"
	"github.com/dsenv/dsenv/tfharness"
)

func TestOpenTofuAppliesTheEnvironment(t *testing.T) {
	env := tfharness.New(t, tfharness.WithBinary(tfharness.OpenTofu))

	// The state says which binary wrote it: OpenTofu addresses providers on its own registry host.
	b, err := os.ReadFile(filepath.Join(env.Dir, "terraform.tfstate"))
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	var st struct {
		Resources []struct {
			Provider string `json:"provider"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("decode state: %v", err)
	}
	if len(st.Resources) == 0 {
		t.Fatal("state holds no resources")
	}
	for _, r := range st.Resources {
		if !strings.Contains(r.Provider, "opentofu.org/kreuzwerker/docker") {
			t.Fatalf("resource provider %q: the state was not written by OpenTofu", r.Provider)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := gateway.New(env.DataStorage.URL, env.Token)
	rr := gateway.NewCorrelationID("rr-tofu")
	ids, err := c.PostBatch(ctx, []gateway.Event{
		gateway.NewEvent(gateway.SignalReceived, rr, "HighLatency", "payments", 1),
		gateway.NewEvent(gateway.CRDCreated, rr, "HighLatency", "payments", 3),
	})
	if err != nil {
		t.Fatalf("post batch: %v", err)
	}
	if len(ids) != 2 {
		t.Fatalf("got %d event ids, want 2", len(ids))
	}
	got, err := c.ByCorrelationID(ctx, rr)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("found %d events for %s, want 2", len(got), rr)
	}
	counts := map[int]bool{}
	for _, s := range got {
		d, err := s.Data()
		if err != nil {
			t.Fatalf("event_data: %v", err)
		}
		counts[d.OccurrenceCount] = true
	}
	if !counts[1] || !counts[3] {
		t.Errorf("occurrence counts %v, want 1 and 3", counts)
	}
}
