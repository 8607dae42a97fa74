// Package images ships the recipes `dsenv setup` builds the images from (Dockerfiles,
// entrypoints, the base image's package and strip lists) inside the dsenv binary, so that
// `go run github.com/dsenv/dsenv/cmd/dsenv@<version> setup` works in any directory.
//
// A module zip keeps no file modes, so neither does this FS: a recipe file is executable
// exactly when Executable says so (images/tests checks the checkout agrees).
package images

import (
	"embed"
	"strings"
)

// FS holds one directory per image: base, postgres, redis, datastorage, migrate, authstandin,
// and etcd, kube-apiserver (built with `dsenv setup --with-kube`).
//
//go:embed base postgres redis datastorage migrate authstandin etcd kube-apiserver
var FS embed.FS

// Executable reports whether the recipe file name is installed with its exec bit set.
func Executable(name string) bool { return strings.HasSuffix(name, ".sh") }
