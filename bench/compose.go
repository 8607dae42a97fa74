package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/testcontainers/testcontainers-go/modules/compose"
)

// composeStack runs bench/compose.yaml with docker compose v2, in process (the compose
// library that testcontainers-go's compose module embeds): `up` without --wait, then the
// same host-side /readyz poll as every stack. depends_on conditions order the services.
type composeStack struct {
	file           string
	healthInterval time.Duration
}

func (composeStack) Name() string  { return "compose" }
func (composeStack) Short() string { return "cp" }

type composeEnv struct {
	stack  *compose.DockerCompose
	health string
	api    string
	token  string
}

func (e *composeEnv) APIURL() string   { return e.api }
func (e *composeEnv) APIToken() string { return e.token }

func (e *composeEnv) HealthURL() string { return e.health }
func (e *composeEnv) Phases() []Phase   { return nil }

func (c composeStack) Up(ctx context.Context, s *Spec) (Env, error) {
	st, err := compose.NewDockerComposeWith(compose.WithStackFiles(c.file), compose.StackIdentifier(s.ID))
	if err != nil {
		return nil, err
	}
	e := &composeEnv{stack: st, token: s.Token}
	st.WithEnv(map[string]string{
		"BENCH_ENV":       s.ID,
		"BENCH_RUN":       s.RunID,
		"BENCH_OWNER":     owner(),
		"BENCH_CREATED":   strconv.FormatInt(s.Created.Unix(), 10),
		"BENCH_DIR":       s.Dir,
		"PG_IMAGE":        s.Images.Postgres,
		"REDIS_IMAGE":     s.Images.Redis,
		"MIGRATE_IMAGE":   s.Images.Migrate,
		"DS_IMAGE":        s.Images.DataStorage,
		"HEALTH_INTERVAL": c.healthInterval.String(),
	})
	if err := st.Up(ctx); err != nil {
		return e, err
	}
	dc, err := st.ServiceContainer(ctx, "datastorage")
	if err != nil {
		return e, err
	}
	p, err := dc.MappedPort(ctx, "8081/tcp")
	if err != nil {
		return e, err
	}
	e.health = fmt.Sprintf("http://127.0.0.1:%s/readyz", p.Port())
	ap, err := dc.MappedPort(ctx, "8080/tcp")
	if err != nil {
		return e, err
	}
	e.api = "http://127.0.0.1:" + ap.Port()
	return e, nil
}

func (e *composeEnv) Down(ctx context.Context) error {
	defer e.stack.Close()
	return e.stack.Down(ctx, compose.RemoveOrphans(true), compose.RemoveVolumes(true))
}
