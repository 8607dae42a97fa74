// Package c: see package a.
package c

import (
	"testing"

	"github.com/dsenv/dsenv/tests/sharedrun/testdata/fixture"
)

func TestSharedEnvironment(t *testing.T) { fixture.Run(t, "c") }
