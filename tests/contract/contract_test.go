// Package contract_test is the DS contract (docs: ../../../shared/DS-CONTRACT.md in the
// design notes; README "Testing against the real DS"), written once and run against whichever
// DS the environment holds: the reference DS by default (CI), the real one with
// DSENV_DATASTORAGE_IMAGE and DSENV_MIGRATIONS_DIR set. Both check tokens through the auth
// stand-in. It asserts what the contract says (status codes, shapes, fields, ordering), not one
// implementation's wording, and never skips.
package contract_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/tests/internal/gateway"
	"github.com/dsenv/dsenv/tfharness"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestContract(t *testing.T) {
	env := tfharness.New(t)
	t.Logf("DS image under test: %s", datastorageImage(env))
	c := &client{base: env.DataStorage.URL, token: env.Token}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("readyz", func(t *testing.T) {
		for _, base := range []string{env.DataStorage.HealthURL, env.DataStorage.URL} {
			r := c.do(t, ctx, http.MethodGet, base+"/readyz", "", nil)
			assert.Equal(t, http.StatusOK, r.code, "GET %s/readyz: %s", base, r.body)
		}
	})

	t.Run("401_without_token", func(t *testing.T) {
		r := c.do(t, ctx, http.MethodGet, c.base+"/api/v1/audit/events", "", nil)
		assert.Equal(t, http.StatusUnauthorized, r.code, "%s", r.body)
	})

	t.Run("401_unknown_token", func(t *testing.T) {
		r := c.do(t, ctx, http.MethodGet, c.base+"/api/v1/audit/events", "unknown-token-0123456789abcdef", nil)
		assert.Equal(t, http.StatusUnauthorized, r.code, "%s", r.body)
		requireProblem(t, r, http.StatusUnauthorized)
	})

	t.Run("403_denied_token", func(t *testing.T) {
		require.NotEmpty(t, env.DeniedToken, "output denied_token")
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			var body any
			if m == http.MethodPost {
				body = []gateway.Event{gateway.NewEvent(gateway.SignalReceived, gateway.NewCorrelationID("rr-denied"), "Denied", "prod", 1)}
			}
			path := map[string]string{http.MethodGet: "/api/v1/audit/events", http.MethodPost: "/api/v1/audit/events/batch"}[m]
			r := c.do(t, ctx, m, c.base+path, env.DeniedToken, body)
			assert.Equal(t, http.StatusForbidden, r.code, "%s %s: %s", m, path, r.body)
			requireProblem(t, r, http.StatusForbidden)
		}
	})

	t.Run("gateway_batch_201_and_read_back", func(t *testing.T) {
		rr := gateway.NewCorrelationID("rr-contract")
		sent := []gateway.Event{
			gateway.NewEvent(gateway.SignalReceived, rr, "HighCPU", "payments", 1),
			gateway.NewEvent(gateway.CRDCreated, rr, "HighCPU", "payments", 1),
		}
		r := c.do(t, ctx, http.MethodPost, c.base+"/api/v1/audit/events/batch", c.token, sent)
		require.Equal(t, http.StatusCreated, r.code, "batch: %s", r.body)
		var created struct {
			EventIDs []string `json:"event_ids"`
		}
		require.NoError(t, json.Unmarshal(r.body, &created), "%s", r.body)
		require.Len(t, created.EventIDs, len(sent))
		for _, id := range created.EventIDs {
			assert.Regexp(t, uuidRE, id)
		}
		assert.NotEqual(t, created.EventIDs[0], created.EventIDs[1])

		page := c.query(t, ctx, url.Values{"correlation_id": {rr}})
		require.Len(t, page.Data, len(sent), "events of %s", rr)
		assert.Equal(t, len(sent), page.Pagination.Total)
		byType := map[string]stored{}
		for _, s := range page.Data {
			byType[s.EventType] = s
			assert.Contains(t, created.EventIDs, s.EventID)
		}
		for _, e := range sent {
			s, ok := byType[e.EventType]
			require.True(t, ok, "%s not read back", e.EventType)
			assert.Equal(t, rr, s.CorrelationID)
			assert.Equal(t, "gateway", s.EventCategory)
			assert.Equal(t, e.EventAction, s.EventAction)
			assert.Equal(t, e.EventOutcome, s.EventOutcome)
			assert.Equal(t, e.Namespace, s.Namespace)
			ts, err := time.Parse(time.RFC3339Nano, e.EventTimestamp)
			require.NoError(t, err)
			assert.WithinDuration(t, ts, s.EventTimestamp, time.Millisecond, "event_timestamp")
			assert.Equal(t, s.EventTimestamp.UTC().Format("2006-01-02"), s.EventDate[:10], "event_date")
			want, err := json.Marshal(e.EventData)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(s.EventData), "event_data of %s", e.EventType)
		}
	})

	t.Run("bad_batch_element_400_and_nothing_written", func(t *testing.T) {
		rr := gateway.NewCorrelationID("rr-bad")
		good := gateway.NewEvent(gateway.SignalReceived, rr, "Good", "prod", 1)
		bad := gateway.NewEvent(gateway.CRDCreated, rr, "Bad", "prod", 1)
		bad.EventOutcome = "not-an-outcome"
		r := c.do(t, ctx, http.MethodPost, c.base+"/api/v1/audit/events/batch", c.token, []gateway.Event{good, bad})
		require.Equal(t, http.StatusBadRequest, r.code, "%s", r.body)
		requireProblem(t, r, http.StatusBadRequest)
		assert.Empty(t, c.query(t, ctx, url.Values{"correlation_id": {rr}}).Data, "a batch with a bad element must write nothing")

		for name, body := range map[string]any{"object": good, "empty": []gateway.Event{}} {
			r := c.do(t, ctx, http.MethodPost, c.base+"/api/v1/audit/events/batch", c.token, body)
			assert.Equal(t, http.StatusBadRequest, r.code, "%s: %s", name, r.body)
			requireProblem(t, r, http.StatusBadRequest)
		}
	})

	// The Gateway's event_data as the real DS's schema types it: both DSs refuse what it refuses
	// (a suite that passes against the reference DS must not get 400 from the real one).
	t.Run("gateway_payload_schema_400", func(t *testing.T) {
		rr := gateway.NewCorrelationID("rr-schema")
		for name, spoil := range map[string]func(*gateway.Event){
			"signal_type other than alert": func(e *gateway.Event) { e.EventData.SignalType = "prometheus" },
			"no fingerprint":               nil, // below: a field missing, which a struct cannot say
			"unknown inner event_type":     func(e *gateway.Event) { e.EventData.EventType = "gateway.unknown" },
		} {
			ev := gateway.NewEvent(gateway.SignalReceived, rr, "Schema", "prod", 1)
			var body any = []gateway.Event{ev}
			if spoil != nil {
				spoil(&ev)
				body = []gateway.Event{ev}
			} else {
				b, err := json.Marshal(ev)
				require.NoError(t, err)
				var m map[string]any
				require.NoError(t, json.Unmarshal(b, &m))
				delete(m["event_data"].(map[string]any), "fingerprint")
				body = []map[string]any{m}
			}
			r := c.do(t, ctx, http.MethodPost, c.base+"/api/v1/audit/events/batch", c.token, body)
			assert.Equal(t, http.StatusBadRequest, r.code, "%s: %s", name, r.body)
			requireProblem(t, r, http.StatusBadRequest)
		}
		assert.Empty(t, c.query(t, ctx, url.Values{"correlation_id": {rr}}).Data, "nothing refused is written")
	})

	t.Run("pagination_newest_first", func(t *testing.T) {
		rr := gateway.NewCorrelationID("rr-page")
		var batch []gateway.Event
		base := time.Now().UTC().Add(-10 * time.Minute)
		for i := range 3 {
			e := gateway.NewEvent(gateway.SignalDeduplicated, rr, "Flapping", "prod", i+2)
			e.EventTimestamp = base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339Nano)
			batch = append(batch, e)
		}
		r := c.do(t, ctx, http.MethodPost, c.base+"/api/v1/audit/events/batch", c.token, batch)
		require.Equal(t, http.StatusCreated, r.code, "%s", r.body)

		first := c.query(t, ctx, url.Values{"correlation_id": {rr}, "limit": {"2"}})
		require.Len(t, first.Data, 2)
		assert.Equal(t, pagination{Limit: 2, Offset: 0, Total: 3, HasMore: true}, first.Pagination)
		assert.True(t, !first.Data[0].EventTimestamp.Before(first.Data[1].EventTimestamp), "newest first")
		assert.WithinDuration(t, base.Add(2*time.Minute), first.Data[0].EventTimestamp, time.Millisecond)

		rest := c.query(t, ctx, url.Values{"correlation_id": {rr}, "limit": {"2"}, "offset": {"2"}})
		require.Len(t, rest.Data, 1)
		assert.Equal(t, pagination{Limit: 2, Offset: 2, Total: 3, HasMore: false}, rest.Pagination)
		assert.WithinDuration(t, base, rest.Data[0].EventTimestamp, time.Millisecond)
	})

	t.Run("query_filters", func(t *testing.T) {
		rr := gateway.NewCorrelationID("rr-filter")
		now := time.Now().UTC()
		received := gateway.NewEvent(gateway.SignalReceived, rr, "DiskFull", "prod", 1)
		received.EventTimestamp = now.Add(-30 * time.Minute).Format(time.RFC3339Nano)
		failed := gateway.NewEvent(gateway.CRDFailed, rr, "DiskFull", "prod", 1)
		failed.EventTimestamp = now.Add(-5 * time.Minute).Format(time.RFC3339Nano)
		r := c.do(t, ctx, http.MethodPost, c.base+"/api/v1/audit/events/batch", c.token, []gateway.Event{received, failed})
		require.Equal(t, http.StatusCreated, r.code, "%s", r.body)

		for name, c2 := range map[string]struct {
			q    url.Values
			want []string
		}{
			"event_type":     {url.Values{"event_type": {gateway.CRDFailed}}, []string{gateway.CRDFailed}},
			"event_outcome":  {url.Values{"event_outcome": {"failure"}}, []string{gateway.CRDFailed}},
			"event_category": {url.Values{"event_category": {"gateway"}}, []string{gateway.CRDFailed, gateway.SignalReceived}},
			"since":          {url.Values{"since": {now.Add(-10 * time.Minute).Format(time.RFC3339)}}, []string{gateway.CRDFailed}},
			"until":          {url.Values{"until": {now.Add(-10 * time.Minute).Format(time.RFC3339)}}, []string{gateway.SignalReceived}},
		} {
			t.Run(name, func(t *testing.T) {
				c2.q.Set("correlation_id", rr)
				var got []string
				for _, s := range c.query(t, ctx, c2.q).Data {
					assert.Equal(t, rr, s.CorrelationID)
					got = append(got, s.EventType)
				}
				assert.Equal(t, c2.want, got, "newest first")
			})
		}
	})
}

// datastorageImage is the image of the DS container, for the log.
func datastorageImage(env *tfharness.Env) string {
	if v, ok := env.Raw["containers"]; ok {
		var m map[string]struct{ Name string }
		if json.Unmarshal(v, &m) == nil {
			return m["datastorage"].Name + " (" + strconv.Quote(envOr("DSENV_DATASTORAGE_IMAGE", "dsenv/datastorage:latest")) + ")"
		}
	}
	return envOr("DSENV_DATASTORAGE_IMAGE", "dsenv/datastorage:latest")
}
