// Command datastorage is the reference Data Storage service of dsenv (see DS-CONTRACT.md).
//
//	datastorage              run the service (CONFIG_PATH names config.yaml)
//	datastorage healthcheck  exit 0 iff http://127.0.0.1:<health port>/readyz answers 200
//
// The health port is HEALTH_PORT, else server.healthPort of CONFIG_PATH, else 8081. The
// healthcheck form exists because the image is FROM scratch: Docker's HEALTHCHECK runs it.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/dsenv/dsenv/internal/dsconfig"
	"github.com/dsenv/dsenv/internal/health"
	"github.com/dsenv/dsenv/internal/service"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

func run(args []string, getenv func(string) string, logOut io.Writer) int {
	if len(args) > 0 && args[0] == "healthcheck" {
		return healthcheck(getenv, logOut)
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

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := service.Run(ctx, cfg, log); err != nil {
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
