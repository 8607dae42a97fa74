package setup

import (
	"context"

	"github.com/dsenv/dsenv/internal/cache"
	"github.com/dsenv/dsenv/internal/tfbin"
)

// findTerraform finds Terraform >= 1.6 (or OpenTofu with DSENV_TF_BINARY=tofu); where
// Terraform is missing and the internet is reachable, hc-install puts it in the cache dir.
func findTerraform(ctx context.Context, cacheDir string) (result, error) {
	bin, err := tfbin.FromEnv()
	if err != nil {
		return result{}, err
	}
	path, v, err := tfbin.Find(ctx, bin, cache.BinDir(cacheDir))
	if err != nil {
		return result{}, err
	}
	return result{detail: string(bin) + " " + v.String() + " at " + path}, nil
}
