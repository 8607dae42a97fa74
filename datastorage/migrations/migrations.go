// Package migrations embeds the goose SQL migrations of the DS schema; cmd/dsmigrate applies them.
package migrations

import "embed"

// FS holds the migration files (NNNNN_name.sql) at its root.
//
//go:embed *.sql
var FS embed.FS
