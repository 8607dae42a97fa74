package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ValidationError is a request the client must fix. Index is the element of a batch, or -1.
type ValidationError struct {
	Index int
	Msg   string
}

func (e *ValidationError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("event at index %d: %s", e.Index, e.Msg)
	}
	return e.Msg
}

func invalid(format string, args ...any) *ValidationError {
	return &ValidationError{Index: -1, Msg: fmt.Sprintf(format, args...)}
}

// IsValidation reports whether err is (or wraps) a *ValidationError.
func IsValidation(err error) bool {
	var v *ValidationError
	return errors.As(err, &v)
}

// field limits, in characters.
var maxLen = map[string]int{
	"version":         20,
	"event_timestamp": 64,
	"event_outcome":   20,
	"event_type":      100,
	"event_category":  50,
	"event_action":    50,
	"correlation_id":  255,
	"actor_type":      50,
	"actor_id":        255,
	"resource_type":   100,
	"resource_id":     255,
	"namespace":       253,
	"cluster_id":      255,
	"severity":        20,
}

// DecodeEvent decodes and validates one event request (a JSON object) and builds the event to
// store, with a new event_id. now anchors the timestamp window.
func DecodeEvent(body []byte, now time.Time) (Event, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return Event{}, invalid("request body is empty")
	}
	if trimmed[0] != '{' {
		return Event{}, invalid("request body must be a JSON object")
	}
	return decodeOne(trimmed, now)
}

// DecodeBatch decodes and validates a batch request (a JSON array of 1..maxBatch event objects).
// Every element is validated before any is returned; an error names the first bad index.
func DecodeBatch(body []byte, now time.Time, maxBatch int) ([]Event, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, invalid("request body is empty")
	}
	if trimmed[0] != '[' {
		return nil, invalid("request body must be a JSON array of events")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, invalid("request body is not valid JSON: %s", jsonErrText(err))
	}
	if len(raw) == 0 {
		return nil, invalid("batch must contain at least one event")
	}
	if len(raw) > maxBatch {
		return nil, invalid("batch size %d exceeds maximum of %d", len(raw), maxBatch)
	}
	events := make([]Event, len(raw))
	for i, r := range raw {
		if len(r) == 0 || r[0] != '{' {
			return nil, &ValidationError{Index: i, Msg: "must be a JSON object"}
		}
		ev, err := decodeOne(r, now)
		if err != nil {
			var v *ValidationError
			if errors.As(err, &v) {
				return nil, &ValidationError{Index: i, Msg: v.Msg}
			}
			return nil, fmt.Errorf("event at index %d: %w", i, err)
		}
		events[i] = ev
	}
	return events, nil
}

func decodeOne(obj []byte, now time.Time) (Event, error) {
	var req Request
	if err := json.Unmarshal(obj, &req); err != nil {
		return Event{}, invalid("%s", jsonErrText(err))
	}
	return req.Validate(now)
}

// jsonErrText turns a decoding error into a message naming the field.
func jsonErrText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s must be of type %s, got %s", te.Field, jsonType(te.Type.Kind().String()), te.Value)
		}
		return fmt.Sprintf("expected %s, got %s", jsonType(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at offset %d: %s", se.Offset, se.Error())
	}
	return "invalid JSON: " + err.Error()
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "int", "int64", "int32":
		return "integer"
	case "ptr":
		return "integer or string"
	case "struct", "map":
		return "object"
	case "slice":
		return "array"
	}
	return kind
}

// Validate applies every rule of the contract to the request and builds the event to store.
func (r *Request) Validate(now time.Time) (Event, error) {
	required := []struct{ name, val string }{
		{"version", r.Version},
		{"event_type", r.EventType},
		{"event_timestamp", r.EventTimestamp},
		{"event_category", r.EventCategory},
		{"event_action", r.EventAction},
		{"event_outcome", r.EventOutcome},
		{"correlation_id", r.CorrelationID},
	}
	for _, f := range required {
		if f.val == "" {
			return Event{}, invalid("%s is required", f.name)
		}
	}
	optional := []struct {
		name string
		val  *string
	}{
		{"actor_type", r.ActorType}, {"actor_id", r.ActorID}, {"resource_type", r.ResourceType},
		{"resource_id", r.ResourceID}, {"namespace", r.Namespace}, {"cluster_id", r.ClusterID},
		{"severity", r.Severity},
	}
	for _, f := range required {
		if err := checkString(f.name, f.val); err != nil {
			return Event{}, err
		}
	}
	for _, f := range optional {
		if f.val != nil {
			if err := checkString(f.name, *f.val); err != nil {
				return Event{}, err
			}
		}
	}

	ts, err := time.Parse(time.RFC3339Nano, r.EventTimestamp)
	if err != nil {
		return Event{}, invalid("event_timestamp must be an RFC3339 timestamp, got %q", truncate(r.EventTimestamp, 64))
	}
	ts = ts.UTC()
	if ts.After(now.Add(MaxFutureSkew)) {
		return Event{}, invalid("event_timestamp %s is more than 60 minutes in the future", ts.Format(time.RFC3339))
	}
	if ts.Before(now.Add(-MaxPastAge)) {
		return Event{}, invalid("event_timestamp %s is more than 7 days in the past", ts.Format(time.RFC3339))
	}
	switch r.EventOutcome {
	case OutcomeSuccess, OutcomeFailure, OutcomePending:
	default:
		return Event{}, invalid("event_outcome must be one of success, failure, pending; got %q", truncate(r.EventOutcome, 64))
	}
	if err := checkEventData(r.EventData); err != nil {
		return Event{}, err
	}
	if err := checkGatewayData(r.EventType, r.EventData); err != nil {
		return Event{}, err
	}
	if r.DurationMS != nil && *r.DurationMS < 0 {
		return Event{}, invalid("duration_ms must not be negative, got %d", *r.DurationMS)
	}

	ev := Event{
		EventID:        uuid.New(),
		Version:        r.Version,
		EventType:      r.EventType,
		EventTimestamp: ts,
		EventDate:      DateOf(ts),
		EventCategory:  r.EventCategory,
		EventAction:    r.EventAction,
		EventOutcome:   r.EventOutcome,
		ActorType:      DefaultActorType,
		ActorID:        nonEmpty(r.ActorID),
		ResourceType:   r.EventCategory,
		ResourceID:     r.CorrelationID,
		CorrelationID:  r.CorrelationID,
		Namespace:      nonEmpty(r.Namespace),
		ClusterID:      nonEmpty(r.ClusterID),
		EventData:      r.EventData,
		Severity:       nonEmpty(r.Severity),
		DurationMS:     r.DurationMS,
		RetentionDays:  DefaultRetentionDays,
	}
	if r.ActorType != nil && *r.ActorType != "" {
		ev.ActorType = *r.ActorType
	}
	if r.ResourceType != nil && *r.ResourceType != "" {
		ev.ResourceType = *r.ResourceType
	}
	if r.ResourceID != nil && *r.ResourceID != "" {
		ev.ResourceID = *r.ResourceID
	}
	return ev, nil
}

func checkString(name, v string) error {
	if n := utf8.RuneCountInString(v); n > maxLen[name] {
		return invalid("%s must be at most %d characters, got %d", name, maxLen[name], n)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return invalid("%s must not contain NUL characters", name)
	}
	return nil
}

// checkEventData: present, a JSON object, at most MaxEventDataBytes, and free of \u0000 (which
// PostgreSQL's jsonb rejects).
func checkEventData(d json.RawMessage) error {
	d = bytes.TrimSpace(d)
	if len(d) == 0 {
		return invalid("event_data is required")
	}
	if d[0] != '{' {
		return invalid("event_data must be a JSON object")
	}
	if len(d) > MaxEventDataBytes {
		return invalid("event_data is %d bytes, more than the maximum of %d", len(d), MaxEventDataBytes)
	}
	if !utf8.Valid(d) {
		return invalid("event_data must be valid UTF-8")
	}
	if msg := checkEscapes(d); msg != "" {
		return invalid("event_data %s", msg)
	}
	return nil
}

// checkEscapes finds the \u escapes that PostgreSQL's jsonb rejects in valid JSON text: \u0000
// and unpaired UTF-16 surrogates. It returns "" when there are none.
func checkEscapes(d []byte) string {
	for i := 0; i < len(d); i++ {
		if d[i] != '\\' {
			continue
		}
		if i+1 >= len(d) || d[i+1] != 'u' {
			i++ // skip the escaped character
			continue
		}
		cp, ok := hex4(d, i+2)
		if !ok {
			return "has an invalid \\u escape"
		}
		switch {
		case cp == 0:
			return "must not contain \\u0000"
		case cp >= 0xD800 && cp <= 0xDBFF:
			if i+11 < len(d) && d[i+6] == '\\' && d[i+7] == 'u' {
				if lo, ok := hex4(d, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11
					continue
				}
			}
			return "must not contain an unpaired UTF-16 surrogate escape"
		case cp >= 0xDC00 && cp <= 0xDFFF:
			return "must not contain an unpaired UTF-16 surrogate escape"
		}
		i += 5
	}
	return ""
}

func hex4(d []byte, at int) (rune, bool) {
	if at+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func nonEmpty(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	return p
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
