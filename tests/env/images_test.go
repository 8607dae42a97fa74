package env_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dsenv/dsenv/internal/label"
	"github.com/dsenv/dsenv/tests/internal/labelled"
	"github.com/dsenv/dsenv/tfharness"
)

// The harness resolves image names to ids before the apply (the modules then skip their
// docker_image lookups): a missing image fails Up at that step, naming the image and what
// to do, and nothing is created.
func TestMissingImageFailsBeforeTheApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := tfharness.Up(ctx, tfharness.WithLogger(t), tfharness.WithKeep(tfharness.KeepNever),
		tfharness.WithImage(tfharness.ServiceRedis, "dsenv/no-such-image:missing"))
	var he *tfharness.Error
	if !errors.As(err, &he) {
		t.Fatalf("Up with a missing image: %v; want a *tfharness.Error", err)
	}
	if he.Step != "images" || !strings.Contains(err.Error(), "dsenv/no-such-image:missing") || !strings.Contains(err.Error(), "make setup") {
		t.Fatalf("error %q (step %s): want step images naming the image and `make setup`", err, he.Step)
	}
	if objs := labelled.Objects(t, ctx, label.Env+"="+he.Env); len(objs) > 0 {
		t.Errorf("the failed Up left %v", objs)
	}
}
