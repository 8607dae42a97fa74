// Package service runs the Data Storage service: it connects its dependencies in the contract's
// order, serves the API, health and metrics ports, and shuts down gracefully.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dsenv/dsenv/datastorage/internal/api"
	"github.com/dsenv/dsenv/datastorage/internal/dlq"
	"github.com/dsenv/dsenv/datastorage/internal/dsconfig"
	"github.com/dsenv/dsenv/datastorage/internal/health"
	"github.com/dsenv/dsenv/datastorage/internal/metrics"
	"github.com/dsenv/dsenv/datastorage/internal/retry"
	"github.com/dsenv/dsenv/datastorage/internal/store"
)

// PartitionMonthsAhead is how many months after the current one get a partition.
const PartitionMonthsAhead = 3

// PartitionCheckInterval is how often a long-running DS ensures its partitions again, so a shared
// environment that runs for months keeps getting monthly partitions.
const PartitionCheckInterval = 12 * time.Hour

// Run starts DS and blocks until ctx is cancelled (SIGTERM), then shuts down: readiness turns
// 503, in-flight requests finish, the dead-letter queue is drained to PostgreSQL, connections
// close. A returned error is a startup failure (or a server that died); a clean shutdown is nil.
func Run(ctx context.Context, cfg *dsconfig.Config, log *slog.Logger) error {
	start := time.Now()
	st, q, err := connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	defer q.Close()

	m := metrics.New()
	m.DLQDepth(q.Len)
	checker := health.NewChecker(time.Second,
		health.Check{Name: "postgresql", Fn: st.Ping},
		health.Check{Name: "redis", Fn: q.Ping})
	auth, err := authorizer(cfg, log)
	if err != nil {
		return err
	}
	apiSrv := api.New(api.Config{
		MaxBodySize:  int64(cfg.Server.MaxBodySize),
		MaxBatchSize: cfg.Server.MaxBatchSize,
		WriteTimeout: cfg.Database.WriteTimeout,
		BreakerOpen:  cfg.DLQ.RetryInterval,
	}, st, q, auth, checker.ReadyHandler(), log, m)
	worker := &dlq.Worker{
		Queue: q, Writer: st, RetryInterval: cfg.DLQ.RetryInterval, MaxRetries: cfg.DLQ.MaxRetries,
		WriteTimeout: cfg.Database.WriteTimeout, Log: log, Metrics: m, OnReplayed: apiSrv.PostgresRecovered,
	}

	servers := []*server{
		{name: "api", port: cfg.Server.Port, handler: apiSrv.Handler()},
		{name: "health", port: cfg.Server.HealthPort, handler: health.Mux(checker)},
		{name: "metrics", port: cfg.Server.MetricsPort, handler: promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})},
	}
	for _, s := range servers {
		if err := s.listen(cfg.Server); err != nil {
			closeAll(servers)
			return err
		}
	}
	serveErr := make(chan error, len(servers))
	for _, s := range servers {
		go func() { serveErr <- s.serve() }()
	}

	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		worker.Run(wctx)
	}()
	go func() {
		defer wg.Done()
		maintainPartitions(wctx, st, PartitionCheckInterval, log)
	}()
	log.Info("datastorage started", "api_port", cfg.Server.Port, "health_port", cfg.Server.HealthPort,
		"metrics_port", cfg.Server.MetricsPort, "startup_ms", time.Since(start).Milliseconds())

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutdown requested")
	case err := <-serveErr:
		runErr = fmt.Errorf("server failed: %w", err)
		log.Error("server failed; shutting down", "error", err.Error())
	}

	// Graceful shutdown, bounded by shutdownTimeout.
	checker.SetShuttingDown()
	sctx, cancelShutdown := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancelShutdown()
	if err := servers[0].srv.Shutdown(sctx); err != nil {
		log.Warn("API requests still in flight at shutdown deadline", "error", err.Error())
	}
	stopWorker()
	wg.Wait()
	n, err := worker.Drain(sctx)
	if err != nil {
		log.Warn("dead-letter queue not fully drained; remaining events stay in Redis", "drained", n, "error", err.Error())
	} else {
		log.Info("dead-letter queue drained", "events", n)
	}
	for _, s := range servers[1:] {
		_ = s.srv.Shutdown(sctx)
	}
	log.Info("datastorage stopped")
	return runErr
}

// Preflight runs the startup up to and including the Redis PING (config is already loaded):
// PostgreSQL ping, monthly partitions, Redis PING and consumer group, then closes everything.
// Its errors are the server's startup errors.
func Preflight(ctx context.Context, cfg *dsconfig.Config, log *slog.Logger) error {
	st, q, err := connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	st.Close()
	_ = q.Close()
	_, err = authorizer(cfg, log)
	return err
}

// connect is the contract's startup order: PostgreSQL (ping, retried), the partitions of
// audit_events, then Redis (PING, retried).
func connect(ctx context.Context, cfg *dsconfig.Config, log *slog.Logger) (*store.Store, *dlq.Queue, error) {
	budget := retry.Budget{Attempts: cfg.Startup.ConnectAttempts, Interval: cfg.Startup.ConnectInterval}
	st, err := store.Connect(ctx, cfg.Database, budget, log)
	if err != nil {
		return nil, nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	created, err := st.EnsurePartitions(pctx, time.Now(), PartitionMonthsAhead)
	cancel()
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("failed to ensure audit_events partitions: %w", err)
	}
	if len(created) > 0 {
		log.Info("created audit_events partitions", "partitions", created)
	}
	q, err := dlq.Connect(ctx, cfg.Redis, budget, log)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, q, nil
}

func maintainPartitions(ctx context.Context, st *store.Store, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		created, err := st.EnsurePartitions(pctx, time.Now(), PartitionMonthsAhead)
		cancel()
		if err != nil {
			log.Warn("failed to ensure audit_events partitions; events go to the default partition", "error", err.Error())
		} else if len(created) > 0 {
			log.Info("created audit_events partitions", "partitions", created)
		}
	}
}

type server struct {
	name    string
	port    int
	handler http.Handler
	ln      net.Listener
	srv     *http.Server
}

func (s *server) listen(cfg dsconfig.Server) error {
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(s.port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("failed to listen on %s port %s: %w", s.name, addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadTimeout:       cfg.ReadTimeout,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
	}
	return nil
}

func (s *server) serve() error {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s server: %w", s.name, err)
	}
	return nil
}

func closeAll(servers []*server) {
	for _, s := range servers {
		if s.ln != nil {
			_ = s.ln.Close()
		}
	}
}

// authorizer is how the API checks bearer tokens. With KUBECONFIG set (what dsenv gives every
// DS, and what the real DS requires) tokens are checked with that Kubernetes API, the auth
// stand-in in dsenv, in POD_NAMESPACE: the same path as the real DS, so 401 (not
// authenticated), 403 (denied) and 500 (API unreachable) mean the same for both. Without it,
// the fixed set of auth.tokensFile, each allowed everything.
func authorizer(cfg *dsconfig.Config, log *slog.Logger) (api.Authorizer, error) {
	path := os.Getenv("KUBECONFIG")
	if path == "" {
		log.Info("tokens checked against auth.tokensFile", "tokens", len(cfg.Auth.Tokens))
		return api.NewTokens(cfg.Auth.Tokens), nil
	}
	k, err := api.NewKubeFromKubeconfig(path, os.Getenv("POD_NAMESPACE"))
	if err != nil {
		return nil, err
	}
	log.Info("tokens checked with the Kubernetes API (TokenReview, SubjectAccessReview)", "server", k.Server, "namespace", k.Namespace)
	return k, nil
}
