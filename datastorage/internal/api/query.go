package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dsenv/dsenv/datastorage/internal/audit"
)

type pagination struct {
	Limit   int   `json:"limit"`
	Offset  int   `json:"offset"`
	Total   int64 `json:"total"`
	HasMore bool  `json:"has_more"`
}

func (s *Server) queryEvents(w http.ResponseWriter, r *http.Request) {
	q, err := audit.ParseQuery(r.URL.Query(), s.now())
	if err != nil {
		WriteProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.QueryTimeout)
	defer cancel()
	events, total, err := s.store.QueryEvents(ctx, q)
	if err != nil {
		s.log.Error("audit event query failed", "error", err.Error())
		WriteProblem(w, http.StatusServiceUnavailable, "failed to query audit events: database unavailable")
		return
	}
	body, err := EncodeQueryResponse(events, pagination{Limit: q.Limit, Offset: q.Offset, Total: total,
		HasMore: int64(q.Offset+len(events)) < total})
	if err != nil {
		WriteProblem(w, http.StatusInternalServerError, "failed to encode audit events")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// EncodeQueryResponse writes {"data":[...],"pagination":{...}}. Each event's event_data is
// copied byte for byte as PostgreSQL returned it (encoding/json would compact and re-escape it).
func EncodeQueryResponse(events []audit.Event, p pagination) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"data":[`)
	for i := range events {
		if i > 0 {
			buf.WriteByte(',')
		}
		e := events[i]
		data := e.EventData
		e.EventData = nil
		b, err := json.Marshal(storedEvent{Event: e, Timestamp: e.EventTimestamp.UTC().Format(time.RFC3339Nano)})
		if err != nil {
			return nil, err
		}
		// storedEvent omits event_data: drop the closing brace and splice the raw bytes in.
		buf.Write(b[:len(b)-1])
		buf.WriteString(`,"event_data":`)
		if len(data) == 0 {
			buf.WriteString("null")
		} else {
			buf.Write(data)
		}
		buf.WriteByte('}')
	}
	buf.WriteString(`],"pagination":`)
	pb, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	buf.Write(pb)
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

// storedEvent is an event as a query returns it, without event_data (spliced in raw).
type storedEvent struct {
	audit.Event
	Timestamp string          `json:"event_timestamp"`
	EventData json.RawMessage `json:"event_data,omitempty"`
}

func pgMessage(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message + " (SQLSTATE " + pe.Code + ")"
	}
	return err.Error()
}
