package tfharness

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMarshalAttachRoundTripAndAttachedDownIsANoOp(t *testing.T) {
	out, err := DecodeOutputsJSON([]byte(strings.ReplaceAll(outputDoc, ":pw@", ":pw-secret-1@")))
	if err != nil {
		t.Fatal(err)
	}
	out.ID = "t-ab12cd34"
	e := &Env{Outputs: *out, Owner: "4242@host", Created: time.Unix(1700000000, 0)}
	p, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	a, err := Attach(p)
	if err != nil {
		t.Fatal(err)
	}
	got, want := a.Outputs, e.Outputs
	got.Raw, want.Raw = nil, nil // the same values, compacted by the round trip
	if len(a.Raw) != len(e.Raw) || !reflect.DeepEqual(got, want) || a.ID != e.ID || a.Owner != e.Owner || !a.Created.Equal(e.Created) {
		t.Errorf("attached env differs:\n got %+v\nwant %+v", got, want)
	}
	if !a.Attached() || e.Attached() {
		t.Errorf("Attached() = %v for the attached env, %v for the owner's", a.Attached(), e.Attached())
	}
	if a.Postgres.Port != 32768 || a.Token != "tok123" {
		t.Errorf("typed fields: port %d token %q", a.Postgres.Port, a.Token)
	}
	// Down of an attached env must not touch Docker (there is no such environment here).
	if err := a.Down(context.Background()); err != nil {
		t.Errorf("Down of an attached env: %v", err)
	}
	if got := a.redact("dsn " + a.Postgres.DSN); strings.Contains(got, "pw-secret-1") {
		t.Errorf("attached env does not redact its secrets: %s", got)
	}
}

func TestAttachRejectsOtherPayloads(t *testing.T) {
	for _, tc := range []struct{ payload, want string }{
		{`not json`, "not Marshal's JSON"},
		{`{"version":2,"id":"t-ab12cd34"}`, "payload version 2, this tfharness reads version 1"},
		{`{"version":1,"id":"../etc"}`, `env id "../etc" is not a dsenv environment id`},
		{`{"version":1,"id":"t-ab12cd34","outputs":{"env_id":"t-ab12cd34"}}`, "outputs: missing postgres_host"},
	} {
		_, err := Attach([]byte(tc.payload))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Attach(%s) = %v; want an error with %q", tc.payload, err, tc.want)
		}
	}
}

func TestSignalHandlingDefaultsAndOption(t *testing.T) {
	// This test binary does not link Ginkgo: the harness handles signals unless told not to.
	if frameworkHandlesSignals() {
		t.Fatal("Ginkgo detected in a binary without it")
	}
	if !wantSignals(newConfig(nil)) {
		t.Error("default: no signal handling outside Ginkgo")
	}
	if wantSignals(newConfig([]Option{WithSignalHandling(false)})) {
		t.Error("WithSignalHandling(false) still handles signals")
	}
}
