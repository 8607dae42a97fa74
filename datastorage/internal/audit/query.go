package audit

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Query limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Query is a parsed GET /api/v1/audit/events request. Empty strings and zero times mean "any".
type Query struct {
	CorrelationID string
	EventType     string
	EventCategory string
	EventOutcome  string
	Since         time.Time
	Until         time.Time
	Limit         int
	Offset        int
}

// ParseQuery reads the query parameters. since/until are RFC3339 timestamps or a duration such
// as "24h" meaning that long before now.
func ParseQuery(v url.Values, now time.Time) (Query, error) {
	q := Query{
		CorrelationID: v.Get("correlation_id"),
		EventType:     v.Get("event_type"),
		EventCategory: v.Get("event_category"),
		EventOutcome:  v.Get("event_outcome"),
		Limit:         DefaultLimit,
	}
	if q.EventOutcome != "" {
		switch q.EventOutcome {
		case OutcomeSuccess, OutcomeFailure, OutcomePending:
		default:
			return Query{}, invalid("event_outcome must be one of success, failure, pending; got %q", truncate(q.EventOutcome, 64))
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		s := strings.TrimSpace(v.Get(p.name))
		if s == "" {
			continue
		}
		t, err := parseTimeParam(s, now)
		if err != nil {
			return Query{}, invalid("%s must be an RFC3339 timestamp or a duration like 24h, got %q", p.name, truncate(s, 64))
		}
		*p.dst = t
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return Query{}, invalid("until must not be before since")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return Query{}, invalid("limit must be an integer between 1 and %d, got %q", MaxLimit, truncate(s, 32))
		}
		q.Limit = n
	}
	if s := v.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return Query{}, invalid("offset must be a non-negative integer, got %q", truncate(s, 32))
		}
		q.Offset = n
	}
	return q, nil
}

func parseTimeParam(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Time{}, err
	}
	if d < 0 {
		return time.Time{}, errors.New("negative duration")
	}
	return now.Add(-d).UTC(), nil
}
