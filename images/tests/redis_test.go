package images

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const redisImage = "dsenv/redis:7"

func startRedis(t *testing.T, env []string, args ...string) (*container, string) {
	t.Helper()
	c := run(t, redisImage, env, append(append([]string{"-p", "127.0.0.1::6379"}, args...), redisImage)...)
	return c, "127.0.0.1:" + c.hostPort(6379)
}

// waitRedis polls until the server answers at all (NOAUTH counts: it is up), then returns
// a client with the given password.
func waitRedis(t *testing.T, c *container, addr, password string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: password, MaxRetries: -1, DialTimeout: 2 * time.Second})
	t.Cleanup(func() { rdb.Close() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return rdb
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis not ready: %v\n%s", err, c.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisRequiresThePassword(t *testing.T) {
	t.Parallel()
	pw := secret()
	c, addr := startRedis(t, []string{"REDIS_PASSWORD=" + pw})
	rdb := waitRedis(t, c, addr, pw)
	ctx := context.Background()
	assert.Equal(t, "PONG", rdb.Ping(ctx).Val())

	anon := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer anon.Close()
	err := anon.Ping(ctx).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "NOAUTH")

	wrong := redis.NewClient(&redis.Options{Addr: addr, Password: "not-" + pw, MaxRetries: -1})
	defer wrong.Close()
	assert.Error(t, wrong.Ping(ctx).Err())

	t.Run("no persistence by default, runs as redis, redis-cli on PATH", func(t *testing.T) {
		assert.Equal(t, map[string]string{"appendonly": "no"}, rdb.ConfigGet(ctx, "appendonly").Val())
		assert.Equal(t, map[string]string{"save": ""}, rdb.ConfigGet(ctx, "save").Val())
		out, err := docker(ctx, nil, "exec", c.id, "awk", "/^Uid:/{print $2}", "/proc/1/status")
		require.NoError(t, err)
		assert.NotEqual(t, "0", out)
		out, err = docker(ctx, []string{"REDISCLI_AUTH=" + pw}, "exec", "-e", "REDISCLI_AUTH", c.id, "redis-cli", "ping")
		require.NoError(t, err)
		assert.Equal(t, "PONG", out)
	})
}

func TestRedisPasswordFileAndConfigFile(t *testing.T) {
	t.Parallel()
	pw := secret()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pw"), []byte(pw+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "extra.conf"), []byte("appendonly yes\n"), 0o644))
	c, addr := startRedis(t, []string{"REDIS_PASSWORD_FILE=/run/secrets/pw", "REDIS_CONFIG_FILE=/etc/dsenv/extra.conf"},
		"-v", filepath.Join(dir, "pw")+":/run/secrets/pw:ro",
		"-v", filepath.Join(dir, "extra.conf")+":/etc/dsenv/extra.conf:ro")
	rdb := waitRedis(t, c, addr, pw)
	assert.Equal(t, map[string]string{"appendonly": "yes"}, rdb.ConfigGet(context.Background(), "appendonly").Val())
}
