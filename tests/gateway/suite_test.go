// Package gateway_test posts audit events to a real DS as kubernaut's Gateway does and
// reads them back: once through terratest's API (via tfharness's bridge), once through
// tfharness's native API with one environment shared by the package (TestMain).
package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/dsenv/dsenv/tests/internal/gateway"
)

// runGatewaySuite is the Gateway's audit flow against the DS at url.
func runGatewaySuite(t *testing.T, url, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := gateway.New(url, token)

	if code, err := c.Status(ctx, "/api/v1/audit/events", ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("no token: status %d, %v; want 401", code, err)
	}
	if code, err := c.Status(ctx, "/api/v1/audit/events", "not-a-token"); err != nil || code != http.StatusUnauthorized {
		t.Errorf("unknown token: status %d, %v; want 401", code, err)
	}

	// Three RemediationRequests; for each, the Gateway audits the signal and the CRD it
	// created, in one batch, then a repeat of the signal with occurrence_count 2.
	rrs := []string{gateway.NewCorrelationID("rr-cpu"), gateway.NewCorrelationID("rr-mem"), gateway.NewCorrelationID("rr-disk")}
	sent := map[string][]gateway.Event{}
	var first []gateway.Event
	for i, rr := range rrs {
		signal := []string{"HighCPU", "HighMemory", "DiskFull"}[i]
		for _, e := range []gateway.Event{
			gateway.NewEvent(gateway.SignalReceived, rr, signal, "payments", 1),
			gateway.NewEvent(gateway.CRDCreated, rr, signal, "payments", 1),
		} {
			first = append(first, e)
			sent[rr] = append(sent[rr], e)
		}
	}
	ids, err := c.PostBatch(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(first) {
		t.Fatalf("batch of %d returned %d event ids", len(first), len(ids))
	}
	var second []gateway.Event
	for _, rr := range rrs {
		e := gateway.NewEvent(gateway.SignalReceived, rr, sent[rr][0].EventData.SignalName, "payments", 2)
		second = append(second, e)
		sent[rr] = append(sent[rr], e)
	}
	more, err := c.PostBatch(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, more...)

	for _, rr := range rrs {
		got, err := c.ByCorrelationID(ctx, rr)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(sent[rr]) {
			t.Errorf("%s: found %d events; want %d", rr, len(got), len(sent[rr]))
			continue
		}
		var counts []int
		for _, s := range got {
			if !slices.Contains(ids, s.EventID) {
				t.Errorf("%s: event %s was not returned by the batch route", rr, s.EventID)
			}
			if s.CorrelationID != rr || s.EventCategory != "gateway" || s.EventDate == "" {
				t.Errorf("%s: stored event %+v", rr, s)
			}
			d, err := s.Data()
			if err != nil {
				t.Fatalf("%s: event_data: %v", rr, err)
			}
			want := sent[rr][0].EventData
			if !maps.Equal(d.Labels, want.Labels) || !maps.Equal(d.Annotations, want.Annotations) {
				t.Errorf("%s: labels/annotations changed: %v %v", rr, d.Labels, d.Annotations)
			}
			if d.Fingerprint != want.Fingerprint || d.SignalName != want.SignalName || d.EventType != s.EventType {
				t.Errorf("%s: event_data %+v", rr, d)
			}
			if s.EventType == gateway.SignalReceived {
				counts = append(counts, d.OccurrenceCount)
			}
		}
		slices.Sort(counts)
		if fmt.Sprint(counts) != "[1 2]" {
			t.Errorf("%s: occurrence_count of signal events = %v; want [1 2]", rr, counts)
		}
		// event_data comes back byte for byte as stored: the same JSON object.
		var a, b map[string]any
		sentJSON, _ := json.Marshal(sent[rr][1].EventData)
		_ = json.Unmarshal(sentJSON, &a)
		for _, s := range got {
			if s.EventType == gateway.CRDCreated {
				_ = json.Unmarshal(s.EventData, &b)
			}
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: crd.created event_data\n got %v\nwant %v", rr, b, a)
		}
	}
}
