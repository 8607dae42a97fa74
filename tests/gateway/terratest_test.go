package gateway_test

import (
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/dsenv/dsenv/tfharness/terratest"
)

// TestGatewayAuditTrailTerratest is the same suite written the terratest way: options
// from the bridge, InitAndApply, outputs, Destroy. Secrets reach Terraform as TF_VAR_*
// in EnvVars, never in argv; tfharness.TerratestOutputs reads the outputs without
// terratest logging them.
func TestGatewayAuditTrailTerratest(t *testing.T) {
	t.Parallel()
	opts := terratest.Options(t)
	defer terraform.Destroy(t, opts)
	terraform.InitAndApply(t, opts)

	out := terratest.Outputs(t, opts)
	if url := terraform.Output(t, opts, "datastorage_url"); url != out.DataStorage.URL {
		t.Fatalf("terraform.Output(datastorage_url) = %q; TerratestOutputs has %q", url, out.DataStorage.URL)
	}
	runGatewaySuite(t, out.DataStorage.URL, out.Token)
}
