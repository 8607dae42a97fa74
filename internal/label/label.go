// Package label names the labels every Docker object of a dsenv environment carries
// (docs/interfaces.md), shared by the harness, the CLI and the tests.
package label

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

const (
	Env        = "dsenv.env"        // environment id (= name_prefix)
	Owner      = "dsenv.owner"      // <pid>@<hostname>, or manual@<hostname>
	Created    = "dsenv.created"    // unix seconds of the first apply
	Persistent = "dsenv.persistent" // "true": sweep leaves it alone
	Shared     = "dsenv.shared"     // key of a shared environment (tfharness.Shared)
	Kind       = "dsenv.kind"       // "up" (make up) or "shared" (terraform/envs/shared); dsenv status shows it
)

// ValidEnvID is the root modules' rule for name_prefix, and so for environment ids.
var ValidEnvID = regexp.MustCompile(`^[a-z][a-z0-9-]{1,30}$`)

// ParseCreated parses a dsenv.created label (unix seconds).
func ParseCreated(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("created label %q: want unix seconds", s)
	}
	return time.Unix(n, 0), nil
}
