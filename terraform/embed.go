// Package terraform ships dsenv's Terraform modules inside Go binaries, so that the
// harness (tfharness) works in suites of other repositories without a checkout of this one.
//
// Only Terraform sources and templates are embedded, by explicit patterns: a bare
// directory would also pick up state files or *.auto.tfvars with secrets.
package terraform

import "embed"

// FS holds env/ (the root module tfharness applies) and modules/*, with the datastorage
// module's templates/.
//
//go:embed env/*.tf modules/*/*.tf modules/*/templates/*.tftpl
var FS embed.FS
