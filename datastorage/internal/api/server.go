package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dsenv/dsenv/datastorage/internal/audit"
	"github.com/dsenv/dsenv/datastorage/internal/metrics"
	"github.com/dsenv/dsenv/datastorage/internal/store"
)

// EventStore is where events are written and read.
type EventStore interface {
	InsertEvents(ctx context.Context, events []audit.Event) error
	QueryEvents(ctx context.Context, q audit.Query) ([]audit.Event, int64, error)
}

// DeadLetterQueue takes events PostgreSQL could not take.
type DeadLetterQueue interface {
	Enqueue(ctx context.Context, events []audit.Event, cause error) error
}

// Config is what the handlers need besides their dependencies.
type Config struct {
	MaxBodySize  int64
	MaxBatchSize int
	WriteTimeout time.Duration // bound of one PostgreSQL write before falling back to the queue
	QueryTimeout time.Duration
	BreakerOpen  time.Duration // how long writes skip PostgreSQL after a failure
}

// Server holds the API handlers.
type Server struct {
	cfg     Config
	store   EventStore
	dlq     DeadLetterQueue
	auth    Authorizer
	ready   http.Handler
	log     *slog.Logger
	metrics *metrics.DS
	breaker *breaker
	now     func() time.Time
}

// New builds the API. ready serves /readyz on the API port.
func New(cfg Config, st EventStore, q DeadLetterQueue, auth Authorizer, ready http.Handler, log *slog.Logger, m *metrics.DS) *Server {
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 3 * time.Second
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 10 * time.Second
	}
	if cfg.BreakerOpen <= 0 {
		cfg.BreakerOpen = time.Second
	}
	return &Server{cfg: cfg, store: st, dlq: q, auth: auth, ready: ready, log: log, metrics: m,
		breaker: newBreaker(cfg.BreakerOpen, nil), now: time.Now}
}

// PostgresRecovered closes the write breaker (the dead-letter worker calls it after a replay).
func (s *Server) PostgresRecovered() { s.breaker.Success() }

// Handler routes the API port.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	if s.ready != nil {
		mux.Handle("/readyz", s.ready)
	}
	api := http.NewServeMux()
	api.HandleFunc("/api/v1/audit/events", s.route("events", map[string]http.HandlerFunc{
		http.MethodPost: s.createEvent, http.MethodGet: s.queryEvents}))
	api.HandleFunc("/api/v1/audit/events/batch", s.route("batch", map[string]http.HandlerFunc{
		http.MethodPost: s.createBatch}))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	mux.Handle("/api/v1/", RequireBearer(s.auth, api))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	return s.instrument(mux)
}

func (s *Server) route(name string, byMethod map[string]http.HandlerFunc) http.HandlerFunc {
	methods := make([]string, 0, len(byMethod))
	for m := range byMethod {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		h, ok := byMethod[r.Method]
		if !ok {
			w.Header().Set("Allow", allow)
			WriteProblem(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
			return
		}
		h(w, r)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if s.metrics != nil {
			route := routeLabel(r.URL.Path)
			s.metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
			s.metrics.HTTPDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", time.Since(start).Milliseconds())
	})
}

func routeLabel(path string) string {
	switch path {
	case "/api/v1/audit/events", "/api/v1/audit/events/batch", "/readyz":
		return path
	}
	return "other"
}

// readBody reads the whole body within the size limit; it writes the problem itself on failure.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodySize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", mbe.Limit))
			return nil, false
		}
		WriteProblem(w, http.StatusBadRequest, "failed to read request body")
		return nil, false
	}
	return body, true
}

type createResponse struct {
	EventID        string `json:"event_id"`
	EventTimestamp string `json:"event_timestamp"`
	Message        string `json:"message"`
}

type acceptedResponse struct {
	Status   string   `json:"status"`
	EventID  string   `json:"event_id,omitempty"`
	EventIDs []string `json:"event_ids,omitempty"`
	Message  string   `json:"message"`
}

type batchResponse struct {
	EventIDs []string `json:"event_ids"`
	Message  string   `json:"message"`
}

func (s *Server) createEvent(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	ev, err := audit.DecodeEvent(body, s.now())
	if err != nil {
		WriteProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	events := []audit.Event{ev}
	queued, err := s.persist(r.Context(), events)
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	if queued {
		writeJSON(w, http.StatusAccepted, acceptedResponse{Status: "accepted", EventID: ev.EventID.String(),
			Message: "database unavailable: audit event queued for retry"})
		return
	}
	writeJSON(w, http.StatusCreated, createResponse{EventID: ev.EventID.String(),
		EventTimestamp: ev.EventTimestamp.Format(time.RFC3339Nano), Message: "audit event created successfully"})
}

func (s *Server) createBatch(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	events, err := audit.DecodeBatch(body, s.now(), s.cfg.MaxBatchSize)
	if err != nil {
		WriteProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	ids := make([]string, len(events))
	for i := range events {
		ids[i] = events[i].EventID.String()
	}
	queued, err := s.persist(r.Context(), events)
	if err != nil {
		s.writeFailure(w, err)
		return
	}
	if queued {
		writeJSON(w, http.StatusAccepted, acceptedResponse{Status: "accepted", EventIDs: ids,
			Message: fmt.Sprintf("database unavailable: %d audit events queued for retry", len(events))})
		return
	}
	writeJSON(w, http.StatusCreated, batchResponse{EventIDs: ids,
		Message: fmt.Sprintf("%d audit events created successfully", len(events))})
}

// dataError is PostgreSQL rejecting the events themselves: a client error, never queued.
type dataError struct{ err error }

func (e *dataError) Error() string { return e.err.Error() }
func (e *dataError) Unwrap() error { return e.err }

// persist writes events to PostgreSQL, or queues them when PostgreSQL fails (queued = true).
// The write does not follow the client's cancellation: once validated, events are kept.
func (s *Server) persist(rctx context.Context, events []audit.Event) (queued bool, err error) {
	ctx := context.WithoutCancel(rctx)
	var cause error
	if s.breaker.allow() {
		wctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
		err := s.store.InsertEvents(wctx, events)
		cancel()
		if err == nil {
			s.breaker.Success()
			s.metrics.Written(len(events))
			return false, nil
		}
		if store.IsDataError(err) {
			s.breaker.Success()
			return false, &dataError{err}
		}
		s.breaker.failure()
		s.metrics.WriteFailed()
		s.log.Warn("PostgreSQL write failed; queueing events", "events", len(events), "error", err.Error())
		cause = err
	} else {
		cause = errors.New("PostgreSQL unavailable (recent write failed)")
	}
	qctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	if err := s.dlq.Enqueue(qctx, events, cause); err != nil {
		s.log.Error("dead-letter queue unavailable; events rejected", "events", len(events), "error", err.Error(),
			"postgres_error", cause.Error())
		return false, fmt.Errorf("store events: %w; dead-letter queue: %w", cause, err)
	}
	s.metrics.Queued(len(events))
	return true, nil
}

func (s *Server) writeFailure(w http.ResponseWriter, err error) {
	var de *dataError
	if errors.As(err, &de) {
		WriteProblem(w, http.StatusBadRequest, "audit event rejected by the database: "+pgMessage(de.err))
		return
	}
	WriteProblem(w, http.StatusInternalServerError, "failed to store audit events: database and dead-letter queue unavailable")
}
