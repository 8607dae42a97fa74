package audit

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseQuery(t *testing.T) {
	q, err := ParseQuery(url.Values{}, testNow)
	require.NoError(t, err)
	assert.Equal(t, DefaultLimit, q.Limit)
	assert.Equal(t, 0, q.Offset)

	q, err = ParseQuery(url.Values{
		"correlation_id": {"rr-1"}, "event_type": {"gateway.crd.created"}, "event_category": {"gateway"},
		"event_outcome": {"failure"}, "since": {"2026-11-27T10:00:00Z"}, "until": {"1h"}, "limit": {"1000"}, "offset": {"5"},
	}, testNow)
	require.NoError(t, err)
	assert.Equal(t, "rr-1", q.CorrelationID)
	assert.Equal(t, "gateway.crd.created", q.EventType)
	assert.Equal(t, "gateway", q.EventCategory)
	assert.Equal(t, "failure", q.EventOutcome)
	assert.Equal(t, time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), q.Since)
	assert.Equal(t, testNow.Add(-time.Hour), q.Until)
	assert.Equal(t, 1000, q.Limit)
	assert.Equal(t, 5, q.Offset)
}

func TestParseQueryRejects(t *testing.T) {
	for _, tc := range []struct {
		params url.Values
		want   string
	}{
		{url.Values{"limit": {"0"}}, "limit must be an integer between 1 and 1000"},
		{url.Values{"limit": {"1001"}}, "limit must be an integer between 1 and 1000"},
		{url.Values{"limit": {"ten"}}, "limit must be an integer between 1 and 1000"},
		{url.Values{"offset": {"-1"}}, "offset must be a non-negative integer"},
		{url.Values{"since": {"yesterday"}}, "since must be an RFC3339 timestamp or a duration"},
		{url.Values{"until": {"-1h"}}, "until must be an RFC3339 timestamp or a duration"},
		{url.Values{"since": {"2026-11-27T11:00:00Z"}, "until": {"2026-11-27T10:00:00Z"}}, "until must not be before since"},
		{url.Values{"event_outcome": {"done"}}, "event_outcome must be one of success, failure, pending"},
	} {
		_, err := ParseQuery(tc.params, testNow)
		require.Error(t, err, tc.params)
		assert.Contains(t, err.Error(), tc.want)
	}
}
