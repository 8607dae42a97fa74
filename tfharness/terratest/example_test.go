package terratest_test

import (
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/dsenv/dsenv/tfharness/terratest"
)

// Terratest users keep their API; the bridge prepares an isolated workspace.
func ExampleOptions() {
	var t *testing.T // the test's t

	opts := terratest.Options(t)
	defer terraform.Destroy(t, opts)
	terraform.InitAndApply(t, opts)
	out := terratest.Outputs(t, opts) // typed; terratest does not log the secrets
	_ = out.DataStorage.URL
}
