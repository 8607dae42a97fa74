// Command authstandin answers the two Kubernetes review calls of a Data Storage service
// (TokenReview, SubjectAccessReview) from a tokens file; see authstandin/README.md.
//
//	authstandin              serve (plain HTTP)
//	authstandin healthcheck  exit 0 iff http://127.0.0.1:<port>/healthz answers 200
//
// Settings (a flag wins over its environment variable):
//
//	-addr         AUTHSTANDIN_ADDR         listen address, default ":8080"
//	-tokens-file  AUTHSTANDIN_TOKENS_FILE  default /etc/authstandin/tokens.json (YAML or JSON)
//	-log-level    AUTHSTANDIN_LOG_LEVEL    debug|info|warn|error, default info
//
// The healthcheck form exists because the image is FROM scratch (no shell, no curl).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dsenv/dsenv/authstandin/review"
)

const (
	defaultAddr       = ":8080"
	defaultTokensFile = "/etc/authstandin/tokens.json"
	shutdownTimeout   = 5 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil))
}

type settings struct {
	addr, tokensFile string
	level            slog.Level
}

func parse(args []string, getenv func(string) string, out io.Writer) (settings, []string, error) {
	fs := flag.NewFlagSet("authstandin", flag.ContinueOnError)
	fs.SetOutput(out)
	or := func(env, def string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	var s settings
	var level string
	fs.StringVar(&s.addr, "addr", or("AUTHSTANDIN_ADDR", defaultAddr), "listen address (host:port)")
	fs.StringVar(&s.tokensFile, "tokens-file", or("AUTHSTANDIN_TOKENS_FILE", defaultTokensFile), "tokens file (YAML or JSON)")
	fs.StringVar(&level, "log-level", or("AUTHSTANDIN_LOG_LEVEL", "info"), "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return s, nil, err
	}
	if err := s.level.UnmarshalText([]byte(level)); err != nil {
		return s, nil, fmt.Errorf("invalid log level %q: use debug, info, warn or error", level)
	}
	if _, _, err := net.SplitHostPort(s.addr); err != nil {
		return s, nil, fmt.Errorf("invalid listen address %q: %w", s.addr, err)
	}
	return s, fs.Args(), nil
}

// run serves until ctx ends. ready, when not nil, receives the bound address (tests).
func run(ctx context.Context, args []string, getenv func(string) string, logOut io.Writer, ready chan<- string) int {
	s, rest, err := parse(args, getenv, logOut)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(logOut, "authstandin: %v\n", err)
		return 2
	}
	switch {
	case len(rest) == 1 && rest[0] == "healthcheck":
		return healthcheck(ctx, s.addr, logOut)
	case len(rest) > 0:
		fmt.Fprintf(logOut, "usage: authstandin [flags] [healthcheck]\n")
		return 2
	}

	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: s.level}))
	policy, err := review.LoadFile(s.tokensFile)
	if err != nil {
		log.Error(err.Error())
		return 1
	}
	srv, err := review.NewServer(policy, log)
	if err != nil {
		log.Error(err.Error())
		return 1
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		log.Error("listen failed", "addr", s.addr, "error", err.Error())
		return 1
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving", "addr", ln.Addr().String(), "tokens", s.tokensFile,
		"namespace", policy.Namespace(), "service", policy.Service())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		log.Error("server stopped", "error", err.Error())
		return 1
	case <-ctx.Done():
	}
	srv.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "error", err.Error())
	}
	log.Info("stopped")
	return 0
}

func healthcheck(ctx context.Context, addr string, out io.Writer) int {
	_, port, _ := net.SplitHostPort(addr) // validated by parse
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort("127.0.0.1", port) + review.HealthzPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(out, "healthcheck: %v\n", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(out, "healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(out, "healthcheck: %s answered %s\n", url, strings.TrimSpace(resp.Status))
		return 1
	}
	return 0
}
