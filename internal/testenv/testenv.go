// Package testenv decides what a test does when a tool it needs is missing: outside CI
// it skips with the reason; under CI (CI set, as .ci/run runs) it fails, because a
// missing tool there is a broken machine, not a reason to pass.
package testenv

import (
	"fmt"
	"os"
)

// T is the part of testing.TB this package uses.
type T interface {
	Helper()
	Skip(args ...any)
	Fatal(args ...any)
}

// Missing skips t (outside CI) or fails it (under CI) with the reason.
func Missing(t T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal(msg + " (CI=" + ci + ": a missing tool fails the run)")
		return
	}
	t.Skip(msg)
}
