// Package gateway talks to a DS the way kubernaut's Gateway does: batches of
// gateway.* audit events posted with a bearer token, read back by correlation id.
package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Gateway event types (DS-CONTRACT.md).
const (
	SignalReceived     = "gateway.signal.received"
	SignalDeduplicated = "gateway.signal.deduplicated"
	CRDCreated         = "gateway.crd.created"
	CRDFailed          = "gateway.crd.failed"
)

// EventData is the Gateway's event_data payload (the real DS's GatewayAuditPayload: labels and
// annotations are signal_labels and signal_annotations; it drops keys it does not know).
type EventData struct {
	EventType       string            `json:"event_type"`
	SignalType      string            `json:"signal_type"`
	SignalName      string            `json:"signal_name"`
	Namespace       string            `json:"namespace"`
	Fingerprint     string            `json:"fingerprint"`
	Labels          map[string]string `json:"signal_labels,omitempty"`
	Annotations     map[string]string `json:"signal_annotations,omitempty"`
	OccurrenceCount int               `json:"occurrence_count,omitempty"`
}

// Event is an audit event request as the Gateway sends it.
type Event struct {
	Version        string    `json:"version"`
	EventType      string    `json:"event_type"`
	EventTimestamp string    `json:"event_timestamp"`
	EventCategory  string    `json:"event_category"`
	EventAction    string    `json:"event_action"`
	EventOutcome   string    `json:"event_outcome"`
	CorrelationID  string    `json:"correlation_id"`
	ActorType      string    `json:"actor_type,omitempty"`
	ActorID        string    `json:"actor_id,omitempty"`
	ResourceType   string    `json:"resource_type,omitempty"`
	ResourceID     string    `json:"resource_id,omitempty"`
	Namespace      string    `json:"namespace,omitempty"`
	EventData      EventData `json:"event_data"`
}

// Stored is an event as DS returns it.
type Stored struct {
	EventID        string          `json:"event_id"`
	EventType      string          `json:"event_type"`
	EventDate      string          `json:"event_date"`
	EventCategory  string          `json:"event_category"`
	EventOutcome   string          `json:"event_outcome"`
	CorrelationID  string          `json:"correlation_id"`
	ResourceID     string          `json:"resource_id"`
	EventData      json.RawMessage `json:"event_data"`
	EventTimestamp time.Time       `json:"event_timestamp"`
}

// Data decodes the stored event_data.
func (s Stored) Data() (EventData, error) {
	var d EventData
	err := json.Unmarshal(s.EventData, &d)
	return d, err
}

// NewEvent builds a Gateway event for the RemediationRequest rr (the correlation id).
func NewEvent(eventType, rr, signal, namespace string, occurrences int) Event {
	fp := "fp-" + rr
	action, outcome := "received", "success"
	switch eventType {
	case CRDCreated:
		action = "created"
	case CRDFailed:
		action, outcome = "created", "failure"
	case SignalDeduplicated:
		action = "deduplicated"
	}
	return Event{
		Version: "1.0", EventType: eventType, EventTimestamp: time.Now().UTC().Format(time.RFC3339Nano),
		EventCategory: "gateway", EventAction: action, EventOutcome: outcome, CorrelationID: rr,
		ActorType: "service", ActorID: "gateway", ResourceType: "Signal", ResourceID: fp, Namespace: namespace,
		EventData: EventData{
			EventType: eventType, SignalType: "alert", SignalName: signal, Namespace: namespace,
			Fingerprint:     fp,
			Labels:          map[string]string{"alertname": signal, "severity": "critical", "team": "payments"},
			Annotations:     map[string]string{"summary": signal + " firing", "runbook_url": "https://runbooks.example/" + signal},
			OccurrenceCount: occurrences,
		},
	}
}

// NewCorrelationID returns a RemediationRequest-style name unique to a test.
func NewCorrelationID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Client is a Gateway-like DS client.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// New returns a client for the DS at baseURL.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: baseURL, Token: token, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// PostBatch posts events on the batch route and returns the event ids (201 expected).
func (c *Client) PostBatch(ctx context.Context, events []Event) ([]string, error) {
	body, err := json.Marshal(events)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/api/v1/audit/events/batch", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("POST batch: %s: %s", resp.Status, b)
	}
	var out struct {
		EventIDs []string `json:"event_ids"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("POST batch: %w: %s", err, b)
	}
	return out.EventIDs, nil
}

// ByCorrelationID returns the events of one correlation id, newest first.
func (c *Client) ByCorrelationID(ctx context.Context, id string) ([]Stored, error) {
	return c.query(ctx, url.Values{"correlation_id": {id}, "limit": {"1000"}})
}

// ByType returns up to 1000 events of one type, newest first.
func (c *Client) ByType(ctx context.Context, eventType string) ([]Stored, error) {
	return c.query(ctx, url.Values{"event_type": {eventType}, "limit": {"1000"}})
}

func (c *Client) query(ctx context.Context, q url.Values) ([]Stored, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/api/v1/audit/events?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET events: %s: %s", resp.Status, b)
	}
	var out struct {
		Data []Stored `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("GET events: %w", err)
	}
	return out.Data, nil
}

// Status does an authenticated GET and returns the status code (for 401/403 checks).
func (c *Client) Status(ctx context.Context, path, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
