package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// validEvent is a gateway event as a map, so a case can change or delete one field.
func validEvent() map[string]any {
	return map[string]any{
		"version":         "1.0",
		"event_type":      "gateway.signal.received",
		"event_timestamp": testNow.Add(-time.Minute).Format(time.RFC3339),
		"event_category":  "gateway",
		"event_action":    "received",
		"event_outcome":   "success",
		"correlation_id":  "rr-abc123",
		"event_data": map[string]any{
			"event_type": "gateway.signal.received", "signal_type": "alert", "signal_name": "HighMemory",
			"namespace": "prod", "fingerprint": "sha256:abc", "labels": map[string]any{"app": "api"},
		},
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestDecodeEventAppliesServerDefaults(t *testing.T) {
	ev, err := DecodeEvent(mustJSON(t, validEvent()), testNow)
	require.NoError(t, err)
	assert.NotEqual(t, uuid.Nil, ev.EventID)
	assert.Equal(t, "service", ev.ActorType)
	assert.Equal(t, "gateway", ev.ResourceType, "resource_type defaults to the category")
	assert.Equal(t, "rr-abc123", ev.ResourceID, "resource_id defaults to the correlation id")
	assert.Equal(t, 2555, ev.RetentionDays)
	assert.Equal(t, "2026-11-27", ev.EventDate)
	assert.Nil(t, ev.ActorID)

	m := validEvent()
	m["actor_type"], m["actor_id"], m["resource_type"], m["resource_id"] = "controller", "gw-1", "Pod", "pod-1"
	m["namespace"], m["cluster_id"], m["severity"], m["duration_ms"] = "prod", "c1", "critical", 12
	ev, err = DecodeEvent(mustJSON(t, m), testNow)
	require.NoError(t, err)
	assert.Equal(t, "controller", ev.ActorType)
	assert.Equal(t, "gw-1", *ev.ActorID)
	assert.Equal(t, "Pod", ev.ResourceType)
	assert.Equal(t, "pod-1", ev.ResourceID)
	assert.Equal(t, int64(12), *ev.DurationMS)
}

func TestEventIDIsAlwaysNew(t *testing.T) {
	m := validEvent()
	m["event_id"] = "11111111-1111-1111-1111-111111111111"
	a, err := DecodeEvent(mustJSON(t, m), testNow)
	require.NoError(t, err)
	b, err := DecodeEvent(mustJSON(t, m), testNow)
	require.NoError(t, err)
	assert.NotEqual(t, a.EventID, b.EventID)
	assert.NotEqual(t, "11111111-1111-1111-1111-111111111111", a.EventID.String())
}

func TestEventDateIsTheUTCDate(t *testing.T) {
	m := validEvent()
	m["event_timestamp"] = "2026-11-27T01:30:00+05:00" // 2026-11-26T20:30Z
	ev, err := DecodeEvent(mustJSON(t, m), testNow)
	require.NoError(t, err)
	assert.Equal(t, "2026-11-26", ev.EventDate)
	assert.Equal(t, time.UTC, ev.EventTimestamp.Location())
}

// One failing case per rule; the error text is what the client sees.
func TestValidationRules(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		want   string
	}{
		{"version required", func(m map[string]any) { delete(m, "version") }, "version is required"},
		{"event_type required", func(m map[string]any) { m["event_type"] = "" }, "event_type is required"},
		{"event_timestamp required", func(m map[string]any) { delete(m, "event_timestamp") }, "event_timestamp is required"},
		{"event_category required", func(m map[string]any) { delete(m, "event_category") }, "event_category is required"},
		{"event_action required", func(m map[string]any) { delete(m, "event_action") }, "event_action is required"},
		{"event_outcome required", func(m map[string]any) { delete(m, "event_outcome") }, "event_outcome is required"},
		{"correlation_id required", func(m map[string]any) { delete(m, "correlation_id") }, "correlation_id is required"},
		{"event_data required", func(m map[string]any) { delete(m, "event_data") }, "event_data is required"},
		{"event_data null", func(m map[string]any) { m["event_data"] = nil }, "event_data must be a JSON object"},
		{"event_data array", func(m map[string]any) { m["event_data"] = []int{1} }, "event_data must be a JSON object"},
		{"event_data string", func(m map[string]any) { m["event_data"] = "x" }, "event_data must be a JSON object"},
		{"event_data too large", func(m map[string]any) { m["event_data"] = map[string]string{"x": long(MaxEventDataBytes)} },
			fmt.Sprintf("more than the maximum of %d", MaxEventDataBytes)},
		{"event_data NUL escape", func(m map[string]any) { m["event_data"] = map[string]string{"x": "a\x00b"} },
			`event_data must not contain \u0000`},
		{"timestamp not RFC3339", func(m map[string]any) { m["event_timestamp"] = "27/11/2026 12:00" },
			`event_timestamp must be an RFC3339 timestamp, got "27/11/2026 12:00"`},
		{"timestamp without zone", func(m map[string]any) { m["event_timestamp"] = "2026-11-27T11:00:00" },
			"event_timestamp must be an RFC3339 timestamp"},
		{"timestamp too far ahead", func(m map[string]any) { m["event_timestamp"] = testNow.Add(61 * time.Minute).Format(time.RFC3339) },
			"is more than 60 minutes in the future"},
		{"timestamp too old", func(m map[string]any) {
			m["event_timestamp"] = testNow.Add(-7*24*time.Hour - time.Minute).Format(time.RFC3339)
		},
			"is more than 7 days in the past"},
		{"outcome not in enum", func(m map[string]any) { m["event_outcome"] = "ok" },
			`event_outcome must be one of success, failure, pending; got "ok"`},
		{"duration negative", func(m map[string]any) { m["duration_ms"] = -1 }, "duration_ms must not be negative, got -1"},
		{"duration not integer", func(m map[string]any) { m["duration_ms"] = 1.5 }, "duration_ms must be of type integer"},
		{"event_type wrong type", func(m map[string]any) { m["event_type"] = 5 }, "event_type must be of type string, got number"},
		{"NUL in a string field", func(m map[string]any) { m["event_action"] = "a\x00" }, "event_action must not contain NUL characters"},
	}
	for field, n := range map[string]int{
		"version": 20, "event_type": 100, "event_category": 50, "event_action": 50, "correlation_id": 255,
		"actor_type": 50, "actor_id": 255, "resource_type": 100, "resource_id": 255, "namespace": 253,
		"cluster_id": 255, "severity": 20,
	} {
		cases = append(cases, struct {
			name   string
			mutate func(m map[string]any)
			want   string
		}{field + " too long", func(m map[string]any) { m[field] = long(n + 1) },
			fmt.Sprintf("%s must be at most %d characters, got %d", field, n, n+1)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := validEvent()
			tc.mutate(m)
			_, err := DecodeEvent(mustJSON(t, m), testNow)
			require.Error(t, err)
			assert.True(t, IsValidation(err))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestWindowEdgesAreAccepted(t *testing.T) {
	for _, ts := range []time.Time{testNow.Add(59 * time.Minute), testNow.Add(-7*24*time.Hour + time.Minute)} {
		m := validEvent()
		m["event_timestamp"] = ts.Format(time.RFC3339Nano)
		_, err := DecodeEvent(mustJSON(t, m), testNow)
		assert.NoError(t, err, ts)
	}
}

func TestEventDataEscapesPostgresRejects(t *testing.T) {
	for raw, ok := range map[string]bool{
		`{"a":"\u0000"}`:       false,
		`{"a":"\\u0000"}`:      true, // an escaped backslash followed by text "u0000"
		`{"a":"\ud83d\ude00"}`: true, // a surrogate pair
		`{"a":"\ud83d"}`:       false,
		`{"a":"\ude00x"}`:      false,
		`{"a":"\u00e9"}`:       true,
	} {
		err := checkEventData(json.RawMessage(raw))
		assert.Equal(t, ok, err == nil, "%s: %v", raw, err)
	}
	assert.Error(t, checkEventData(json.RawMessage("{\"a\":\"\xff\"}")), "invalid UTF-8")
}

func TestDecodeEventBodyShape(t *testing.T) {
	for body, want := range map[string]string{
		"":         "request body is empty",
		"[]":       "request body must be a JSON object",
		"{":        "invalid JSON",
		`{"a":1}x`: "invalid JSON",
	} {
		_, err := DecodeEvent([]byte(body), testNow)
		require.Error(t, err, body)
		assert.Contains(t, err.Error(), want, body)
	}
}

func TestDecodeBatch(t *testing.T) {
	good := validEvent()
	bad := validEvent()
	bad["event_outcome"] = "maybe"

	events, err := DecodeBatch(mustJSON(t, []any{good, good, good}), testNow, 500)
	require.NoError(t, err)
	require.Len(t, events, 3)
	assert.NotEqual(t, events[0].EventID, events[1].EventID)

	cases := []struct {
		name string
		body []byte
		max  int
		want string
	}{
		{"object instead of array", mustJSON(t, good), 500, "request body must be a JSON array of events"},
		{"empty array", []byte("[]"), 500, "batch must contain at least one event"},
		{"too many", mustJSON(t, []any{good, good, good}), 2, "batch size 3 exceeds maximum of 2"},
		{"bad element names its index", mustJSON(t, []any{good, good, bad}), 500,
			`event at index 2: event_outcome must be one of success, failure, pending; got "maybe"`},
		{"non-object element", []byte(`[` + string(mustJSON(t, good)) + `, 7]`), 500, "event at index 1: must be a JSON object"},
		{"type error names its index", []byte(`[` + string(mustJSON(t, good)) + `, {"version": 1}]`), 500,
			"event at index 1: version must be of type string"},
		{"not JSON", []byte("[{"), 500, "request body is not valid JSON"},
		{"empty", nil, 500, "request body is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBatch(tc.body, testNow, tc.max)
			require.Error(t, err)
			assert.True(t, IsValidation(err))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	ev, err := DecodeEvent(mustJSON(t, validEvent()), testNow)
	require.NoError(t, err)
	var back Event
	require.NoError(t, json.Unmarshal(mustJSON(t, ev), &back))
	assert.Equal(t, ev.EventID, back.EventID)
	assert.True(t, ev.EventTimestamp.Equal(back.EventTimestamp))
	assert.JSONEq(t, string(ev.EventData), string(back.EventData))
}
