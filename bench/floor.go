package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// floorStack is the floor: plain `docker run`s, as parallel as the dependencies allow.
// Postgres, Redis and the migrate job start together (dsmigrate waits for Postgres itself);
// DS starts when the job has exited 0. No healthchecks: the host-side /readyz poll is the
// only wait.
type floorStack struct{}

func (floorStack) Name() string  { return "floor" }
func (floorStack) Short() string { return "fl" }

type floorEnv struct {
	spec   *Spec
	net    string
	health string
}

func (e *floorEnv) HealthURL() string { return e.health }

func (floorStack) Up(ctx context.Context, s *Spec) (Env, error) {
	e := &floorEnv{spec: s, net: s.ID}
	labels := labelArgs(s.Labels())
	if _, err := docker(ctx, nil, append(append([]string{"network", "create"}, labels...), e.net)...); err != nil {
		return e, err
	}
	ro := func(file, target string) []string { return []string{"-v", s.File(file) + ":" + target + ":ro"} }
	run := func(name string, detach bool, args ...string) func() error {
		return func() error {
			a := []string{"run", "--name", s.ID + "-" + name, "--network", e.net, "--network-alias", name}
			if detach {
				a = append(a, "-d")
			}
			a = append(append(a, labels...), args...)
			_, err := docker(ctx, nil, a...)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		}
	}
	pgArgs := append([]string{"--tmpfs", pgDataDir,
		"-e", "POSTGRES_USER=" + pgUser, "-e", "POSTGRES_DB=" + pgDB,
		"-e", "POSTGRES_PASSWORD_FILE=" + pgPasswordPath}, ro("pg-password", pgPasswordPath)...)
	pgArgs = append(append(pgArgs, s.Images.Postgres), pgCommand...)
	redisArgs := append([]string{"-e", "REDIS_PASSWORD_FILE=" + redisPasswordPath},
		ro("redis-password", redisPasswordPath)...)
	redisArgs = append(redisArgs, s.Images.Redis)
	migArgs := append([]string{"-e", "DSMIGRATE_DSN_FILE=" + dsnPath}, ro("dsn", dsnPath)...)
	migArgs = append(migArgs, s.Images.Migrate)

	if err := parallel(run("postgres", true, pgArgs...), run("redis", true, redisArgs...),
		run("migrate", false, migArgs...)); err != nil {
		return e, err
	}
	dsArgs := []string{"-e", "CONFIG_PATH=" + dsConfigDir + "/config.yaml", "-p", "127.0.0.1::8081"}
	for f, target := range dsFiles {
		dsArgs = append(dsArgs, ro(f, target)...)
	}
	dsArgs = append(dsArgs, s.Images.DataStorage)
	if err := run("datastorage", true, dsArgs...)(); err != nil {
		return e, err
	}
	port, err := docker(ctx, nil, "port", s.ID+"-datastorage", "8081/tcp")
	if err != nil {
		return e, err
	}
	// "127.0.0.1:49153"
	e.health = "http://" + strings.TrimSpace(strings.Split(port, "\n")[0]) + "/readyz"
	return e, nil
}

func (e *floorEnv) Down(ctx context.Context) error {
	ids, err := containersByLabel(ctx, "dsenv.bench.env", e.spec.ID)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		if _, err := docker(ctx, nil, append([]string{"rm", "-f", "-v"}, ids...)...); err != nil {
			return err
		}
	}
	_, err = docker(ctx, nil, "network", "rm", e.net)
	return err
}

func (e *floorEnv) Phases() []Phase { return nil }

// parallel runs fns at once and joins their errors.
func parallel(fns ...func() error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(fns))
	for i, f := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
