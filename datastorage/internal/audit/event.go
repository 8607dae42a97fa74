// Package audit holds the audit event model and the validation of event requests: the rules of
// the DS contract, with error texts a client can act on.
package audit

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Server-side defaults and limits from the DS contract.
const (
	DefaultActorType     = "service"
	DefaultRetentionDays = 2555
	MaxEventDataBytes    = 256 << 10
	MaxFutureSkew        = 60 * time.Minute
	MaxPastAge           = 7 * 24 * time.Hour
	DateLayout           = "2006-01-02"
)

// Event outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomePending = "pending"
)

// Event is a validated audit event with the server's defaults filled in; it is what is stored,
// queued in the dead-letter queue and returned by queries.
type Event struct {
	EventID        uuid.UUID       `json:"event_id"`
	Version        string          `json:"version"`
	EventType      string          `json:"event_type"`
	EventTimestamp time.Time       `json:"event_timestamp"`
	EventDate      string          `json:"event_date"`
	EventCategory  string          `json:"event_category"`
	EventAction    string          `json:"event_action"`
	EventOutcome   string          `json:"event_outcome"`
	ActorType      string          `json:"actor_type"`
	ActorID        *string         `json:"actor_id,omitempty"`
	ResourceType   string          `json:"resource_type"`
	ResourceID     string          `json:"resource_id"`
	CorrelationID  string          `json:"correlation_id"`
	Namespace      *string         `json:"namespace,omitempty"`
	ClusterID      *string         `json:"cluster_id,omitempty"`
	EventData      json.RawMessage `json:"event_data"`
	Severity       *string         `json:"severity,omitempty"`
	DurationMS     *int64          `json:"duration_ms,omitempty"`
	RetentionDays  int             `json:"retention_days"`
}

// Request is one event as a client sends it.
type Request struct {
	Version        string          `json:"version"`
	EventType      string          `json:"event_type"`
	EventTimestamp string          `json:"event_timestamp"`
	EventCategory  string          `json:"event_category"`
	EventAction    string          `json:"event_action"`
	EventOutcome   string          `json:"event_outcome"`
	CorrelationID  string          `json:"correlation_id"`
	EventData      json.RawMessage `json:"event_data"`
	ActorType      *string         `json:"actor_type"`
	ActorID        *string         `json:"actor_id"`
	ResourceType   *string         `json:"resource_type"`
	ResourceID     *string         `json:"resource_id"`
	Namespace      *string         `json:"namespace"`
	ClusterID      *string         `json:"cluster_id"`
	Severity       *string         `json:"severity"`
	DurationMS     *int64          `json:"duration_ms"`
}

// DateOf is the event_date of a timestamp: its UTC calendar date.
func DateOf(ts time.Time) string {
	return ts.UTC().Format(DateLayout)
}
