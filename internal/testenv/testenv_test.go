package testenv

import (
	"strings"
	"testing"
)

type recorder struct{ skipped, failed string }

func (r *recorder) Helper()           {}
func (r *recorder) Skip(args ...any)  { r.skipped = args[0].(string) }
func (r *recorder) Fatal(args ...any) { r.failed = args[0].(string) }

func TestMissingFailsUnderCIAndSkipsElsewhere(t *testing.T) {
	for _, tt := range []struct{ ci, wantFail bool }{{true, true}, {false, false}} {
		if tt.ci {
			t.Setenv("CI", "true")
		} else {
			t.Setenv("CI", "")
		}
		var r recorder
		Missing(&r, "terraform not on PATH: %s", "x")
		if tt.wantFail {
			if !strings.Contains(r.failed, "terraform not on PATH: x") || r.skipped != "" {
				t.Errorf("CI: failed %q skipped %q; want a failure", r.failed, r.skipped)
			}
		} else if r.skipped != "terraform not on PATH: x" || r.failed != "" {
			t.Errorf("no CI: failed %q skipped %q; want a skip", r.failed, r.skipped)
		}
	}
}
