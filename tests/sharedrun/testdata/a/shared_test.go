// Package a is one of three packages that share one environment in a `go test` run
// (tests/sharedrun starts the run); b and c are copies of it.
package a

import (
	"testing"

	"github.com/dsenv/dsenv/tests/sharedrun/testdata/fixture"
)

func TestSharedEnvironment(t *testing.T) { fixture.Run(t, "a") }
