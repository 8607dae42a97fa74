package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// The Gateway's event_data, checked as the real DS checks it: its OpenAPI schema
// (GatewayAuditPayload) picks the payload by event_data.event_type, requires five string
// fields, fixes signal_type to "alert" and types the optional fields; it allows other fields
// and empty strings, and does not require event_data.event_type to equal the event's.
// Without these checks a suite could pass against the reference DS and get 400 from the
// real one.

// GatewayEventTypes are the Gateway's event types (DS-CONTRACT.md).
var GatewayEventTypes = []string{
	"gateway.signal.received", "gateway.signal.deduplicated", "gateway.crd.created", "gateway.crd.failed",
}

func isGatewayType(t string) bool {
	for _, g := range GatewayEventTypes {
		if t == g {
			return true
		}
	}
	return false
}

// gatewayStrings are the required string fields; gatewayOptional the typed optional ones.
var (
	gatewayStrings  = []string{"event_type", "signal_type", "signal_name", "namespace", "fingerprint"}
	gatewayOptional = map[string]string{
		"severity": "a string", "resource_kind": "a string", "resource_name": "a string",
		"remediation_request": "a string", "original_payload": "an object",
		"signal_labels": "an object of strings", "signal_annotations": "an object of strings",
		"deduplication_status": "a string", "occurrence_count": "an integer",
	}
)

// checkGatewayData applies the Gateway payload's schema to data (a JSON object) of an event
// of eventType; events that are not the Gateway's pass unchecked.
func checkGatewayData(eventType string, data json.RawMessage) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return invalid("event_data: %v", err)
	}
	inner, hasInner := jsonString(fields["event_type"])
	if !isGatewayType(eventType) && !(hasInner && strings.HasPrefix(inner, "gateway.")) {
		return nil
	}
	for _, name := range gatewayStrings {
		raw, ok := fields[name]
		if !ok {
			return invalid("event_data.%s is required for a Gateway event", name)
		}
		if _, isString := jsonString(raw); !isString {
			return invalid("event_data.%s must be a string", name)
		}
	}
	if !isGatewayType(inner) {
		return invalid("event_data.event_type must be one of %s; got %q", strings.Join(GatewayEventTypes, ", "), truncate(inner, 64))
	}
	if st, _ := jsonString(fields["signal_type"]); st != "alert" {
		return invalid(`event_data.signal_type must be "alert" (every Gateway adapter normalises to it); got %q`, truncate(st, 64))
	}
	for name, kind := range gatewayOptional {
		raw, ok := fields[name]
		if !ok {
			continue
		}
		if !hasKind(raw, kind) { // null included: the schema allows none
			return invalid("event_data.%s must be %s", name, kind)
		}
	}
	if raw, ok := fields["deduplication_status"]; ok {
		if s, _ := jsonString(raw); s != "new" && s != "duplicate" {
			return invalid(`event_data.deduplication_status must be "new" or "duplicate"; got %s`, truncate(string(raw), 64))
		}
	}
	return nil
}

// isNull: encoding/json decodes null into anything without an error.
func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// jsonString decodes raw as a JSON string (not null).
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// hasKind reports whether raw is a JSON value of kind (null is none).
func hasKind(raw json.RawMessage, kind string) bool {
	if isNull(raw) {
		return false
	}
	switch kind {
	case "a string":
		_, ok := jsonString(raw)
		return ok
	case "an object":
		var m map[string]json.RawMessage
		return json.Unmarshal(raw, &m) == nil
	case "an object of strings":
		var m map[string]string
		return json.Unmarshal(raw, &m) == nil
	case "an integer":
		var n int32
		return json.Unmarshal(raw, &n) == nil
	}
	panic(fmt.Sprintf("hasKind: unknown kind %q", kind))
}
