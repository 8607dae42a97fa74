package gateway_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/dsenv/dsenv/tfharness"
)

// The native tests share one environment for the package, as a suite that shares one
// would (TestMain, or Ginkgo's BeforeSuite). It comes up on first use, so `go test -list`
// or a -run that selects none of them applies nothing; TestMain removes it.
var (
	sharedOnce sync.Once
	sharedEnv  *tfharness.Env
	sharedErr  error
)

func shared(t *testing.T) *tfharness.Env {
	t.Helper()
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		sharedEnv, sharedErr = tfharness.Up(ctx, tfharness.WithTestName("gateway-shared"))
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedEnv
}

func TestMain(m *testing.M) {
	code := m.Run()
	if env := sharedEnv; env != nil {
		if code != 0 {
			env.DumpLogs(context.Background(), "tests failed")
		}
		if err := env.Down(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
		fmt.Fprintf(os.Stderr, "dsenv: env %s: %s\n", env.ID, env.Timings)
	}
	os.Exit(code)
}

func TestGatewayAuditTrailNative(t *testing.T) {
	env := shared(t)
	runGatewaySuite(t, env.DataStorage.URL, env.Token)
}

func TestOutputsAreTypedAndWork(t *testing.T) {
	env := shared(t)
	if env.Postgres.Port <= 0 || env.Postgres.Port > 65535 || env.Redis.Port <= 0 {
		t.Fatalf("ports %d, %d", env.Postgres.Port, env.Redis.Port)
	}
	cfg, err := pgx.ParseConfig(env.Postgres.DSN)
	if err != nil {
		t.Fatalf("postgres DSN does not parse with pgx: %v", err)
	}
	if int(cfg.Port) != env.Postgres.Port || cfg.Host != env.Postgres.Host || cfg.User != env.Postgres.User || cfg.Database != env.Postgres.Database {
		t.Errorf("DSN %s:%d %s/%s disagrees with outputs %+v", cfg.Host, cfg.Port, cfg.User, cfg.Database, env.Postgres)
	}
	if _, err := pgx.ParseConfig(env.Postgres.InternalDSN); err != nil {
		t.Errorf("internal DSN does not parse: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var table *string
	if err := conn.QueryRow(ctx, "SELECT to_regclass('audit_events')::text").Scan(&table); err != nil || table == nil {
		t.Errorf("audit_events missing (%v): migrations did not run", err)
	}
	opt, err := redis.ParseURL(env.Redis.URL)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Addr != env.Redis.Addr || opt.Password != env.Redis.Password {
		t.Errorf("redis URL disagrees with addr/password outputs")
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Errorf("redis PING: %v", err)
	}
	if env.Containers["datastorage"].ID == "" || env.Network == "" || env.ID == "" {
		t.Errorf("containers %v network %q env_id %q", env.Containers, env.Network, env.ID)
	}
}
