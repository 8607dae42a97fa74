package tfharness

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/engine"
)

// TestStoppedStandInFailsTheAuthenticatedRequestAtOnce: with the auth stand-in stopped the DS
// answers 500 while /readyz stays 200; the readiness check's authenticated request then fails
// at once (no wait for authTimeout), naming the stand-in's container and its state. Against a
// real environment: the harness's own check, run after Up.
func TestStoppedStandInFailsTheAuthenticatedRequestAtOnce(t *testing.T) {
	env := New(t)
	standIn, ok := env.Containers["kube_auth"]
	if !ok {
		t.Fatalf("outputs: containers has no kube_auth: %v", env.Containers)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := env.waitAuthenticated(ctx); err != nil {
		t.Fatalf("with the stand-in running: %v", err)
	}
	d, err := engine.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(ctx, standIn.ID); err != nil {
		t.Fatal(err)
	}
	if err := waitReady(ctx, readyURL(env.DataStorage)); err != nil {
		t.Fatalf("/readyz must stay 200 without the stand-in: %v", err)
	}
	err = env.waitAuthenticated(ctx)
	if err == nil {
		t.Fatal("the authenticated request succeeded with the stand-in stopped")
	}
	t.Logf("%v", err)
	for _, want := range []string{"the auth stand-in container " + standIn.Name + " is exited", "500", "last log lines of " + standIn.Name} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if strings.Contains(err.Error(), "did not answer 2xx within") {
		t.Error("a stopped stand-in must fail at once, not after authTimeout")
	}
}
