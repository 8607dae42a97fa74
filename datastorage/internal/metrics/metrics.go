// Package metrics defines the DS Prometheus metrics on a registry of their own.
package metrics

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// DS holds the service's collectors. A nil *DS records nothing, so packages can be used
// without metrics in tests.
type DS struct {
	Registry        *prometheus.Registry
	HTTPRequests    *prometheus.CounterVec
	HTTPDuration    *prometheus.HistogramVec
	EventsWritten   prometheus.Counter
	EventsQueued    prometheus.Counter
	EventsReplayed  prometheus.Counter
	EventsDeadLeter prometheus.Counter
	WriteFailures   prometheus.Counter
}

// New registers the DS collectors plus the Go and process collectors on a new registry.
func New() *DS {
	m := &DS{
		Registry: prometheus.NewRegistry(),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "datastorage_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "datastorage_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		EventsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datastorage_audit_events_written_total", Help: "Audit events written to PostgreSQL by the API.",
		}),
		EventsQueued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datastorage_dlq_events_enqueued_total", Help: "Audit events appended to the dead-letter queue.",
		}),
		EventsReplayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datastorage_dlq_events_replayed_total", Help: "Audit events written to PostgreSQL from the dead-letter queue.",
		}),
		EventsDeadLeter: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datastorage_dlq_events_dead_lettered_total", Help: "Audit events moved to audit:dead-letter:events.",
		}),
		WriteFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "datastorage_postgres_write_failures_total", Help: "Failed PostgreSQL writes of the API.",
		}),
	}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.HTTPRequests, m.HTTPDuration, m.EventsWritten, m.EventsQueued, m.EventsReplayed, m.EventsDeadLeter, m.WriteFailures)
	return m
}

// DLQDepth registers a gauge of the dead-letter stream's length, read at scrape time (NaN when
// Redis does not answer).
func (m *DS) DLQDepth(length func(ctx context.Context) (int64, error)) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "datastorage_dlq_depth", Help: "Entries waiting in audit:dlq:events.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		n, err := length(ctx)
		if err != nil {
			return math.NaN()
		}
		return float64(n)
	}))
}

// Written counts events the API wrote to PostgreSQL.
func (m *DS) Written(n int) {
	m.add(m.counter(func() prometheus.Counter { return m.EventsWritten }), n)
}

// Queued counts events appended to the dead-letter queue.
func (m *DS) Queued(n int) { m.add(m.counter(func() prometheus.Counter { return m.EventsQueued }), n) }

// Replayed counts events the dead-letter worker wrote to PostgreSQL.
func (m *DS) Replayed(n int) {
	m.add(m.counter(func() prometheus.Counter { return m.EventsReplayed }), n)
}

// DeadLettered counts events moved to the dead-letter stream.
func (m *DS) DeadLettered(n int) {
	m.add(m.counter(func() prometheus.Counter { return m.EventsDeadLeter }), n)
}

// WriteFailed counts a failed API write.
func (m *DS) WriteFailed() { m.add(m.counter(func() prometheus.Counter { return m.WriteFailures }), 1) }

func (m *DS) counter(get func() prometheus.Counter) prometheus.Counter {
	if m == nil {
		return nil
	}
	return get()
}

func (m *DS) add(c prometheus.Counter, n int) {
	if c != nil && n > 0 {
		c.Add(float64(n))
	}
}
