package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for wait.ForSQL
	mnet "github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// tcStack starts the stack the way a testcontainers-go user would: a network, Postgres and
// Redis in parallel with wait strategies (a SQL query, the ready log line), then the migrate
// job (wait for exit, check the code), then DS (wait for HTTP /readyz). Ryuk is disabled
// (its image cannot be pulled); every image is local, so nothing is pulled.
type tcStack struct {
	poll time.Duration
}

func (tcStack) Name() string  { return "testcontainers" }
func (tcStack) Short() string { return "tc" }

type tcEnv struct {
	mu         sync.Mutex
	containers []*testcontainers.DockerContainer
	net        *testcontainers.DockerNetwork
	health     string
	api        string // DS API base URL on the host
	token      string
	pg         *postgres.PostgresContainer // with snapshot: the postgres module's container
	redisAddr  string                      // with snapshot: Redis on the host
	redisPW    string
}

func (e *tcEnv) APIURL() string   { return e.api }
func (e *tcEnv) APIToken() string { return e.token }

func (e *tcEnv) HealthURL() string { return e.health }
func (e *tcEnv) Phases() []Phase   { return nil }

func (e *tcEnv) add(c *testcontainers.DockerContainer) {
	if c == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.containers = append(e.containers, c)
}

func fileFrom(s *Spec, name, target string) testcontainers.ContainerFile {
	b, err := os.ReadFile(s.File(name))
	if err != nil {
		panic(err) // written by NewSpec a moment ago
	}
	return testcontainers.ContainerFile{Reader: bytes.NewReader(b), ContainerFilePath: target, FileMode: 0o444}
}

func (t tcStack) Up(ctx context.Context, s *Spec) (Env, error) {
	return t.up(ctx, s, false)
}

// up starts the stack; with snapshot, Postgres comes from testcontainers-go's postgres
// module (whose Snapshot/Restore the suite's snapshot way uses, with the password in the
// container's environment as that module sets it) and Redis publishes its port.
func (t tcStack) up(ctx context.Context, s *Spec, snapshot bool) (*tcEnv, error) {
	e := &tcEnv{token: s.Token, redisPW: s.RedisPW}
	nw, err := network.New(ctx, network.WithLabels(s.Labels()))
	if err != nil {
		return e, err
	}
	e.net = nw
	common := func(alias string) []testcontainers.ContainerCustomizer {
		return []testcontainers.ContainerCustomizer{
			network.WithNetwork([]string{alias}, nw),
			testcontainers.WithLabels(s.Labels()),
			testcontainers.WithName(s.ID + "-" + alias),
		}
	}
	var pg, redis *testcontainers.DockerContainer
	err = parallel(func() error {
		opts := append(common("postgres"),
			testcontainers.WithEnv(map[string]string{
				"POSTGRES_USER": pgUser, "POSTGRES_DB": pgDB, "POSTGRES_PASSWORD_FILE": pgPasswordPath}),
			testcontainers.WithFiles(fileFrom(s, "pg-password", pgPasswordPath)),
			testcontainers.WithTmpfs(map[string]string{pgDataDir: "rw"}),
			testcontainers.WithCmd(pgCommand...),
			testcontainers.WithExposedPorts("5432/tcp"),
			testcontainers.WithWaitStrategy(wait.ForSQL("5432/tcp", "pgx", func(host string, port mnet.Port) string {
				// A connection accepted by docker-proxy before Postgres listens can hang:
				// bound each attempt.
				return s.DSN(host, int(port.Num())) + "&connect_timeout=1"
			}).WithPollInterval(t.poll).WithStartupTimeout(60*time.Second)),
		)
		if snapshot {
			opts = append(common("postgres"),
				postgres.WithDatabase(pgDB), postgres.WithUsername(pgUser), postgres.WithPassword(s.PGPass),
				postgres.WithSQLDriver("pgx"),
				testcontainers.WithTmpfs(map[string]string{pgDataDir: "rw"}),
				testcontainers.WithCmd(pgCommand...),
				testcontainers.WithWaitStrategy(wait.ForSQL("5432/tcp", "pgx", func(host string, port mnet.Port) string {
					return s.DSN(host, int(port.Num())) + "&connect_timeout=1"
				}).WithPollInterval(t.poll).WithStartupTimeout(60*time.Second)),
			)
			c, err := postgres.Run(ctx, s.Images.Postgres, opts...)
			if c != nil {
				e.pg = c
				if dc, ok := c.Container.(*testcontainers.DockerContainer); ok {
					e.add(dc)
					pg = dc
				}
			}
			return err
		}
		c, err := testcontainers.Run(ctx, s.Images.Postgres, opts...)
		e.add(c)
		pg = c
		return err
	}, func() error {
		opts := append(common("redis"),
			testcontainers.WithEnv(map[string]string{"REDIS_PASSWORD_FILE": redisPasswordPath}),
			testcontainers.WithFiles(fileFrom(s, "redis-password", redisPasswordPath)),
			testcontainers.WithWaitStrategy(wait.ForLog("Ready to accept connections").
				WithPollInterval(t.poll).WithStartupTimeout(60*time.Second)),
		)
		if snapshot {
			opts = append(opts, testcontainers.WithExposedPorts("6379/tcp"))
		}
		c, err := testcontainers.Run(ctx, s.Images.Redis, opts...)
		e.add(c)
		redis = c
		return err
	})
	if err != nil {
		return e, err
	}
	_ = pg

	mig, err := testcontainers.Run(ctx, s.Images.Migrate, append(common("migrate"),
		testcontainers.WithEnv(map[string]string{"DSMIGRATE_DSN_FILE": dsnPath}),
		testcontainers.WithFiles(fileFrom(s, "dsn", dsnPath)),
		testcontainers.WithWaitStrategy(wait.ForExit().WithPollInterval(t.poll).WithExitTimeout(60*time.Second)),
	)...)
	e.add(mig)
	if err != nil {
		return e, err
	}
	st, err := mig.State(ctx)
	if err != nil {
		return e, err
	}
	if st.ExitCode != 0 {
		return e, fmt.Errorf("migrate exited %d", st.ExitCode)
	}
	if snapshot {
		// Before the DS connects: CREATE DATABASE ... WITH TEMPLATE needs the source
		// database without other sessions.
		if err := e.pg.Snapshot(ctx); err != nil {
			return e, fmt.Errorf("snapshot: %w", err)
		}
	}

	var files []testcontainers.ContainerFile
	for f, target := range dsFiles {
		files = append(files, fileFrom(s, f, target))
	}
	ds, err := testcontainers.Run(ctx, s.Images.DataStorage, append(common("datastorage"),
		testcontainers.WithEnv(map[string]string{"CONFIG_PATH": dsConfigDir + "/config.yaml"}),
		testcontainers.WithFiles(files...),
		testcontainers.WithExposedPorts("8080/tcp", "8081/tcp"),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/readyz").WithPort("8081/tcp").
			WithPollInterval(t.poll).WithStartupTimeout(60*time.Second)),
	)...)
	e.add(ds)
	if err != nil {
		return e, err
	}
	p, err := ds.MappedPort(ctx, "8081/tcp")
	if err != nil {
		return e, err
	}
	host, err := ds.Host(ctx)
	if err != nil {
		return e, err
	}
	e.health = fmt.Sprintf("http://%s:%s/readyz", host, p.Port())
	ap, err := ds.MappedPort(ctx, "8080/tcp")
	if err != nil {
		return e, err
	}
	e.api = fmt.Sprintf("http://%s:%s", host, ap.Port())
	if snapshot {
		rp, err := redis.MappedPort(ctx, "6379/tcp")
		if err != nil {
			return e, err
		}
		e.redisAddr = fmt.Sprintf("%s:%s", host, rp.Port())
	}
	return e, nil
}

// Down terminates the containers one by one, newest first, as the t.Cleanup functions that
// testcontainers.CleanupContainer registers would at test end; then removes the network.
func (e *tcEnv) Down(ctx context.Context) error {
	var err error
	for i := len(e.containers) - 1; i >= 0; i-- {
		err = errors.Join(err, e.containers[i].Terminate(ctx))
	}
	if e.net != nil {
		err = errors.Join(err, e.net.Remove(ctx))
	}
	return err
}
