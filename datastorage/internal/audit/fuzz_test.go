package audit

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
)

// The fuzz targets run the request decoders on arbitrary bodies. Whatever the input, a decoder
// must not panic, every rejection must be a client (validation) error, and every accepted event
// must satisfy the invariants the store relies on. Seeds: testdata/fuzz/<target>/ plus f.Add.
// Run: go test ./datastorage/internal/audit -run '^$' -fuzz FuzzDecodeBatch -fuzztime 60s

func FuzzDecodeEvent(f *testing.F) {
	f.Add(mustJSON(f, validEvent()))
	f.Add([]byte(`{"version":"1.0","event_data":{"a":"\u0000"}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := DecodeEvent(body, testNow)
		if err != nil {
			if !IsValidation(err) {
				t.Fatalf("rejection is not a validation error: %T %v", err, err)
			}
			return
		}
		checkAccepted(t, ev)
	})
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(mustJSON(f, []any{validEvent(), validEvent()}))
	f.Add([]byte(`[{"version":"1.0"}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := DecodeBatch(body, testNow, 50)
		if err != nil {
			if !IsValidation(err) {
				t.Fatalf("rejection is not a validation error: %T %v", err, err)
			}
			return
		}
		if len(events) == 0 || len(events) > 50 {
			t.Fatalf("accepted a batch of %d events", len(events))
		}
		for _, ev := range events {
			checkAccepted(t, ev)
		}
	})
}

func checkAccepted(t *testing.T, ev Event) {
	t.Helper()
	if ev.EventID == uuid.Nil {
		t.Fatal("accepted event has no event_id")
	}
	for name, v := range map[string]string{"version": ev.Version, "event_type": ev.EventType,
		"event_category": ev.EventCategory, "event_action": ev.EventAction, "correlation_id": ev.CorrelationID,
		"actor_type": ev.ActorType, "resource_type": ev.ResourceType, "resource_id": ev.ResourceID} {
		if v == "" {
			t.Fatalf("accepted event has empty %s", name)
		}
		if bytes.IndexByte([]byte(v), 0) >= 0 {
			t.Fatalf("accepted %s with NUL", name)
		}
	}
	switch ev.EventOutcome {
	case OutcomeSuccess, OutcomeFailure, OutcomePending:
	default:
		t.Fatalf("accepted outcome %q", ev.EventOutcome)
	}
	if ev.EventDate != DateOf(ev.EventTimestamp) {
		t.Fatalf("event_date %s does not match timestamp %s", ev.EventDate, ev.EventTimestamp)
	}
	if ev.EventTimestamp.After(testNow.Add(MaxFutureSkew)) || ev.EventTimestamp.Before(testNow.Add(-MaxPastAge)) {
		t.Fatalf("accepted timestamp %s outside the window", ev.EventTimestamp)
	}
	d := bytes.TrimSpace(ev.EventData)
	if len(d) == 0 || d[0] != '{' || !json.Valid(d) || len(d) > MaxEventDataBytes {
		t.Fatalf("accepted event_data %q", truncate(string(d), 80))
	}
	if msg := checkEscapes(d); msg != "" {
		t.Fatalf("accepted event_data that PostgreSQL rejects: %s", msg)
	}
	if ev.DurationMS != nil && *ev.DurationMS < 0 {
		t.Fatal("accepted negative duration")
	}
	// The event survives the dead-letter queue's JSON round trip.
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("accepted event does not marshal: %v", err)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("accepted event does not round-trip: %v", err)
	}
	if back.EventID != ev.EventID || !back.EventTimestamp.Equal(ev.EventTimestamp) || back.CorrelationID != ev.CorrelationID {
		t.Fatal("round trip changed the event")
	}
}
