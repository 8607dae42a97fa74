// Package gateway_test is the Gateway team's audit-trail suite as it would live in the
// Gateway's own repository: a real Data Storage, Postgres and Redis per test from dsenv.
package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/dsenv/dsenv/tfharness"
)

// event is one audit event as the Gateway sends it.
type event struct {
	Version        string         `json:"version"`
	EventType      string         `json:"event_type"`
	EventTimestamp string         `json:"event_timestamp"`
	EventCategory  string         `json:"event_category"`
	EventAction    string         `json:"event_action"`
	EventOutcome   string         `json:"event_outcome"`
	CorrelationID  string         `json:"correlation_id"`
	Namespace      string         `json:"namespace,omitempty"`
	EventData      map[string]any `json:"event_data"`
}

func gatewayEvent(eventType, rr, signal string) event {
	return event{
		Version: "1.0", EventType: eventType, EventCategory: "gateway", EventAction: "process",
		EventOutcome: "success", CorrelationID: rr, Namespace: "payments",
		EventTimestamp: time.Now().UTC().Format(time.RFC3339Nano),
		EventData: map[string]any{
			"event_type": eventType, "signal_type": "alert", "signal_name": signal,
			"namespace": "payments", "fingerprint": "fp-" + rr,
		},
	}
}

func TestAlertIsAuditedAndReadBack(t *testing.T) {
	env := tfharness.New(t) // applied, ready, torn down when the test ends
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	rr := fmt.Sprintf("rr-highcpu-%d", time.Now().UnixNano())
	batch := []event{
		gatewayEvent("gateway.signal.received", rr, "HighCPU"),
		gatewayEvent("gateway.crd.created", rr, "HighCPU"),
	}
	body, _ := json.Marshal(batch)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.DataStorage.URL+"/api/v1/audit/events/batch", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+env.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		EventIDs []string `json:"event_ids"`
	}
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || err != nil || len(created.EventIDs) != 2 {
		t.Fatalf("POST batch: %d %v, ids %v", resp.StatusCode, err, created.EventIDs)
	}

	q := url.Values{"correlation_id": {rr}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, env.DataStorage.URL+"/api/v1/audit/events?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+env.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Data []struct {
			EventID   string `json:"event_id"`
			EventType string `json:"event_type"`
			EventData struct {
				SignalName string `json:"signal_name"`
			} `json:"event_data"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET events: %d %v", resp.StatusCode, err)
	}
	types := map[string]bool{}
	for _, e := range page.Data {
		types[e.EventType] = true
		if e.EventData.SignalName != "HighCPU" {
			t.Errorf("event %s: signal_name %q", e.EventID, e.EventData.SignalName)
		}
	}
	if len(page.Data) != 2 || !types["gateway.signal.received"] || !types["gateway.crd.created"] {
		t.Fatalf("read back %d events %v, want the batch's two", len(page.Data), types)
	}
}

// An unknown token is not authenticated (401); the environment's second token is, but no
// access check lets it through (403), as RBAC would refuse a ServiceAccount without a binding.
func TestUnknownTokenIsRejectedAndTheDeniedOneForbidden(t *testing.T) {
	env := tfharness.New(t)
	for token, want := range map[string]int{"not-a-token": http.StatusUnauthorized, env.DeniedToken: http.StatusForbidden} {
		req, _ := http.NewRequest(http.MethodGet, env.DataStorage.URL+"/api/v1/audit/events", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token %s: %d, want %d", map[bool]string{true: "denied", false: "unknown"}[token == env.DeniedToken], resp.StatusCode, want)
		}
	}
}
