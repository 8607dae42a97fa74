package audit

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestGatewayDataAsTheRealDSChecksIt: the cases are what the real DS answered (201 or 400)
// for that event_data, measured against kubernaut's DS, but for two marked below.
func TestGatewayDataAsTheRealDSChecksIt(t *testing.T) {
	valid := `"event_type":"gateway.signal.received","signal_type":"alert","signal_name":"X","namespace":"ns","fingerprint":"fp"`
	for _, c := range []struct {
		name, eventType, data, err string // err "": accepted
	}{
		{"valid", "", `{` + valid + `}`, ""},
		{"signal_type prometheus", "", strings.Replace(`{`+valid+`}`, `"alert"`, `"prometheus"`, 1), `event_data.signal_type must be "alert"`},
		{"no fingerprint", "", `{"event_type":"gateway.signal.received","signal_type":"alert","signal_name":"X","namespace":"ns"}`, "event_data.fingerprint is required"},
		{"no signal_type", "", `{"event_type":"gateway.signal.received","signal_name":"X","namespace":"ns","fingerprint":"fp"}`, "event_data.signal_type is required"},
		{"no inner event_type", "", `{"signal_type":"alert","signal_name":"X","namespace":"ns","fingerprint":"fp"}`, "event_data.event_type is required"},
		{"inner event_type differs", "", strings.Replace(`{`+valid+`}`, "gateway.signal.received", "gateway.crd.created", 1), ""},
		{"inner event_type unknown", "", strings.Replace(`{`+valid+`}`, "gateway.signal.received", "gateway.other", 1), "event_data.event_type must be one of"},
		{"empty fingerprint", "", strings.Replace(`{`+valid+`}`, `"fp"`, `""`, 1), ""},
		{"fingerprint number", "", strings.Replace(`{`+valid+`}`, `"fp"`, `5`, 1), "event_data.fingerprint must be a string"},
		{"signal_name null", "", strings.Replace(`{`+valid+`}`, `"X"`, `null`, 1), "event_data.signal_name must be a string"},
		{"extra field", "", `{` + valid + `,"zzz":1,"labels":{"a":"b"}}`, ""},
		{"dedup status bad", "", `{` + valid + `,"deduplication_status":"maybe"}`, "event_data.deduplication_status must be"},
		{"dedup status new", "", `{` + valid + `,"deduplication_status":"new"}`, ""}, // not measured: the schema's enum
		{"occurrence_count string", "", `{` + valid + `,"occurrence_count":"3"}`, "event_data.occurrence_count must be an integer"},
		{"occurrence_count 1.5", "", `{` + valid + `,"occurrence_count":1.5}`, "event_data.occurrence_count must be an integer"},
		{"occurrence_count null", "", `{` + valid + `,"occurrence_count":null}`, "event_data.occurrence_count must be an integer"},
		{"severity null", "", `{` + valid + `,"severity":null}`, "event_data.severity must be a string"},
		{"signal_labels number", "", `{` + valid + `,"signal_labels":{"a":1}}`, "event_data.signal_labels must be an object of strings"},
		{"original_payload string", "", `{` + valid + `,"original_payload":"x"}`, "event_data.original_payload must be an object"},
		// Not the real DS's answer: it types other services' payloads too (this one lacks their
		// namespace and event_type); the reference DS checks only the Gateway's.
		{"another service's event", "orchestrator.lifecycle.started", `{"rr_name":"x"}`, ""},
		{"another parent, a Gateway payload", "orchestrator.lifecycle.started", strings.Replace(`{`+valid+`}`, `"alert"`, `"prometheus"`, 1), `event_data.signal_type must be "alert"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			typ := c.eventType
			if typ == "" {
				typ = "gateway.signal.received"
			}
			err := checkGatewayData(typ, json.RawMessage(c.data))
			switch {
			case c.err == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.err != "" && err == nil:
				t.Errorf("accepted; the real DS answers 400")
			case c.err != "" && !strings.Contains(err.Error(), c.err):
				t.Errorf("error %q; want it to contain %q", err, c.err)
			}
		})
	}
}
