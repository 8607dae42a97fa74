// Command datastorage is the reference Data Storage service of dsenv (see DS-CONTRACT.md).
//
//	datastorage              run the service (CONFIG_PATH names config.yaml)
//	datastorage healthcheck  exit 0 iff http://127.0.0.1:<health port>/readyz answers 200
//	datastorage preflight    run the startup checks (config, secrets, PostgreSQL, partitions,
//	                         Redis), print "preflight ok" and exit 0, or exit 1 after the
//	                         failure's log line; serves nothing
//
// The health port is HEALTH_PORT, else server.healthPort of CONFIG_PATH, else 8081. The
// healthcheck form exists because the image is FROM scratch: Docker's HEALTHCHECK runs it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dsenv/dsenv/datastorage/internal/dlq"
	"github.com/dsenv/dsenv/datastorage/internal/dsconfig"
	"github.com/dsenv/dsenv/datastorage/internal/health"
	"github.com/dsenv/dsenv/datastorage/internal/service"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, logOut io.Writer) int {
	mode := "serve"
	if len(args) > 0 {
		mode = args[0]
	}
	switch mode {
	case "healthcheck":
		return healthcheck(getenv, logOut)
	case "serve", "preflight":
	default:
		fmt.Fprintf(logOut, "usage: datastorage [healthcheck|preflight]\n")
		return 2
	}
	level := new(slog.LevelVar)
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level}))

	path := getenv("CONFIG_PATH")
	if path == "" {
		log.Error("CONFIG_PATH environment variable required")
		return 1
	}
	cfg, err := dsconfig.Load(path, getenv)
	if err != nil {
		log.Error(err.Error(), "config", path)
		return 1
	}
	lvl, _ := dsconfig.ParseLevel(cfg.Logging.Level) // validated by Load
	level.Set(lvl)
	redis.SetLogger(dlq.RedisLogger{Log: log})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if mode == "preflight" {
		if err := service.Preflight(ctx, cfg, log); err != nil {
			log.Error(err.Error())
			return 1
		}
		fmt.Fprintln(stdout, "preflight ok")
		return 0
	}
	if err := service.Run(ctx, cfg, log); err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			log.Info("stopped during startup", "reason", err.Error())
			return 0 // SIGTERM while still connecting is a stop, not a startup failure
		}
		log.Error(err.Error())
		return 1
	}
	return 0
}

func healthcheck(getenv func(string) string, out io.Writer) int {
	port := dsconfig.DefaultHealthPort
	if p := getenv("HEALTH_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			fmt.Fprintf(out, "healthcheck: invalid HEALTH_PORT %q\n", p)
			return 1
		}
		port = n
	} else if path := getenv("CONFIG_PATH"); path != "" {
		if cfg, err := dsconfig.Parse(path); err == nil {
			port = cfg.Server.HealthPort
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := health.Probe(ctx, fmt.Sprintf("http://127.0.0.1:%d/readyz", port)); err != nil {
		fmt.Fprintf(out, "healthcheck: %v\n", err)
		return 1
	}
	return 0
}
