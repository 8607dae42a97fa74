package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dsenv/dsenv/datastorage/internal/audit"
)

// insertSQL writes a whole batch in one statement (so one transaction) from parallel arrays.
// ON CONFLICT DO NOTHING makes a replay of an already stored event a no-op, so the dead-letter
// worker can retry without creating duplicates.
const insertSQL = `INSERT INTO audit_events (
	event_id, event_version, event_timestamp, event_date, event_type, event_category, event_action,
	event_outcome, actor_type, actor_id, resource_type, resource_id, correlation_id, namespace,
	cluster_id, event_data, severity, duration_ms, retention_days)
SELECT u.event_id, u.event_version, u.event_timestamp, u.event_date, u.event_type, u.event_category,
	u.event_action, u.event_outcome, u.actor_type, u.actor_id, u.resource_type, u.resource_id,
	u.correlation_id, u.namespace, u.cluster_id, u.event_data::jsonb, u.severity, u.duration_ms,
	u.retention_days
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::date[], $5::text[], $6::text[], $7::text[],
	$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
	$15::text[], $16::text[], $17::text[], $18::int8[], $19::int4[])
	AS u(event_id, event_version, event_timestamp, event_date, event_type, event_category, event_action,
	event_outcome, actor_type, actor_id, resource_type, resource_id, correlation_id, namespace,
	cluster_id, event_data, severity, duration_ms, retention_days)
ON CONFLICT (event_id, event_date) DO NOTHING`

// InsertEvents writes all events atomically: either every one is stored or none is.
func (s *Store) InsertEvents(ctx context.Context, events []audit.Event) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	var (
		ids       = make([]uuid.UUID, n)
		versions  = make([]string, n)
		stamps    = make([]time.Time, n)
		dates     = make([]string, n)
		types     = make([]string, n)
		cats      = make([]string, n)
		actions   = make([]string, n)
		outcomes  = make([]string, n)
		actorT    = make([]string, n)
		actorID   = make([]*string, n)
		resT      = make([]string, n)
		resID     = make([]string, n)
		corr      = make([]string, n)
		ns        = make([]*string, n)
		cluster   = make([]*string, n)
		data      = make([]string, n)
		sev       = make([]*string, n)
		durations = make([]*int64, n)
		retention = make([]int32, n)
	)
	for i := range events {
		e := &events[i]
		ids[i], versions[i], stamps[i] = e.EventID, e.Version, e.EventTimestamp
		dates[i] = e.EventDate
		if dates[i] == "" {
			dates[i] = audit.DateOf(e.EventTimestamp)
		}
		types[i], cats[i], actions[i], outcomes[i] = e.EventType, e.EventCategory, e.EventAction, e.EventOutcome
		actorT[i], actorID[i], resT[i], resID[i] = e.ActorType, e.ActorID, e.ResourceType, e.ResourceID
		corr[i], ns[i], cluster[i] = e.CorrelationID, e.Namespace, e.ClusterID
		data[i], sev[i], durations[i] = string(e.EventData), e.Severity, e.DurationMS
		retention[i] = int32(e.RetentionDays)
	}
	_, err := s.pool.Exec(ctx, insertSQL, ids, versions, stamps, dates, types, cats, actions, outcomes,
		actorT, actorID, resT, resID, corr, ns, cluster, data, sev, durations, retention)
	if err != nil {
		return fmt.Errorf("insert %d audit events: %w", n, err)
	}
	return nil
}

const selectColumns = `event_id, event_version, event_timestamp, event_date, event_type, event_category,
	event_action, event_outcome, actor_type, actor_id, resource_type, resource_id, correlation_id,
	namespace, cluster_id, event_data, severity, duration_ms, retention_days`

// QueryEvents returns one page of the events matching q, newest first, and the total count.
// event_data is returned exactly as PostgreSQL outputs the stored jsonb.
func (s *Store) QueryEvents(ctx context.Context, q audit.Query) ([]audit.Event, int64, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	if q.CorrelationID != "" {
		add("correlation_id = ?", q.CorrelationID)
	}
	if q.EventType != "" {
		add("event_type = ?", q.EventType)
	}
	if q.EventCategory != "" {
		add("event_category = ?", q.EventCategory)
	}
	if q.EventOutcome != "" {
		add("event_outcome = ?", q.EventOutcome)
	}
	if !q.Since.IsZero() {
		add("event_timestamp >= ?", q.Since)
	}
	if !q.Until.IsZero() {
		add("event_timestamp <= ?", q.Until)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}

	var total int64
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM audit_events"+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit events: %w", err)
	}
	limit, offset := q.Limit, q.Offset
	if limit <= 0 {
		limit = audit.DefaultLimit
	}
	sql := "SELECT " + selectColumns + " FROM audit_events" + cond +
		" ORDER BY event_timestamp DESC, event_id DESC LIMIT " + strconv.Itoa(limit) + " OFFSET " + strconv.Itoa(offset)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("query audit events: %w", err)
	}
	events, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, 0, fmt.Errorf("read audit events: %w", err)
	}
	return events, total, nil
}

func scanEvent(row pgx.CollectableRow) (audit.Event, error) {
	var (
		e    audit.Event
		date time.Time
		data []byte
		ret  int32
	)
	err := row.Scan(&e.EventID, &e.Version, &e.EventTimestamp, &date, &e.EventType, &e.EventCategory,
		&e.EventAction, &e.EventOutcome, &e.ActorType, &e.ActorID, &e.ResourceType, &e.ResourceID,
		&e.CorrelationID, &e.Namespace, &e.ClusterID, &data, &e.Severity, &e.DurationMS, &ret)
	if err != nil {
		return e, err
	}
	e.EventTimestamp = e.EventTimestamp.UTC()
	e.EventDate = date.Format(audit.DateLayout)
	e.EventData = json.RawMessage(data)
	e.RetentionDays = int(ret)
	return e, nil
}
