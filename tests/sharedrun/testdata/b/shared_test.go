// Package b: see package a.
package b

import (
	"testing"

	"github.com/dsenv/dsenv/tests/sharedrun/testdata/fixture"
)

func TestSharedEnvironment(t *testing.T) { fixture.Run(t, "b") }
