package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dsenv/dsenv/datastorage/internal/dsconfig"
)

func TestPoolConfig(t *testing.T) {
	cfg, err := PoolConfig(dsconfig.Database{
		Host: "postgres", Port: 5432, Name: "data storage", User: `o'brien\x`, Password: "p w'd",
		SSLMode: "disable", MaxOpenConns: 7, MaxIdleConns: 20, ConnMaxLifetime: 5 * time.Minute,
		ConnMaxIdleTime: 10 * time.Minute, StatementTimeout: 30 * time.Second, LockTimeout: 10 * time.Second,
	})
	require.NoError(t, err)
	c := cfg.ConnConfig
	assert.Equal(t, "postgres", c.Host)
	assert.Equal(t, uint16(5432), c.Port)
	assert.Equal(t, "data storage", c.Database)
	assert.Equal(t, `o'brien\x`, c.User, "quoting keeps the value intact")
	assert.Equal(t, "p w'd", c.Password)
	assert.Nil(t, c.TLSConfig)
	assert.Equal(t, int32(7), cfg.MaxConns)
	assert.Equal(t, int32(7), cfg.MinIdleConns, "idle connections capped at the maximum")
	assert.Equal(t, 5*time.Minute, cfg.MaxConnLifetime)
	assert.Equal(t, 10*time.Minute, cfg.MaxConnIdleTime)
	assert.Equal(t, "30000", c.RuntimeParams["statement_timeout"])
	assert.Equal(t, "10000", c.RuntimeParams["lock_timeout"])
	assert.Equal(t, "UTC", c.RuntimeParams["timezone"])
	assert.NotContains(t, cfg.ConnString(), "p w'd", "the password is never in the connection string")
}

func TestIsDataError(t *testing.T) {
	for code, want := range map[string]bool{"22P02": true, "23514": true, "23505": true, "08006": false, "57P01": false, "53300": false, "": false} {
		err := fmt.Errorf("insert: %w", &pgconn.PgError{Code: code})
		assert.Equal(t, want, IsDataError(err), code)
	}
	assert.False(t, IsDataError(errors.New("timeout")))
}

func TestPartitionNames(t *testing.T) {
	assert.Equal(t, "audit_events_y2026m02", PartitionName(time.Date(2026, 2, 17, 0, 0, 0, 0, time.UTC)))
	loc := time.FixedZone("east", 5*3600)
	assert.Equal(t, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), MonthStart(time.Date(2026, 3, 1, 2, 0, 0, 0, loc)),
		"months are UTC months")
}
