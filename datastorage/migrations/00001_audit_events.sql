-- The audit_events table of the Data Storage service, partitioned by month on event_date.
-- DS creates the monthly partitions at startup; rows outside them land in the default partition.

-- +goose Up
CREATE TABLE audit_events (
    event_id        UUID        NOT NULL,
    event_version   TEXT        NOT NULL DEFAULT '1.0',
    event_timestamp TIMESTAMPTZ NOT NULL,
    event_date      DATE        NOT NULL,
    event_type      TEXT        NOT NULL,
    event_category  TEXT        NOT NULL,
    event_action    TEXT        NOT NULL,
    event_outcome   TEXT        NOT NULL,
    actor_type      TEXT        NOT NULL DEFAULT 'service',
    actor_id        TEXT,
    resource_type   TEXT        NOT NULL,
    resource_id     TEXT        NOT NULL,
    correlation_id  TEXT        NOT NULL,
    namespace       TEXT,
    cluster_id      TEXT,
    event_data      JSONB       NOT NULL,
    severity        TEXT,
    duration_ms     BIGINT,
    retention_days  INTEGER     NOT NULL DEFAULT 2555,
    PRIMARY KEY (event_id, event_date),
    CONSTRAINT audit_events_outcome_check CHECK (event_outcome IN ('success', 'failure', 'pending')),
    CONSTRAINT audit_events_date_check CHECK (event_date = (event_timestamp AT TIME ZONE 'UTC')::date),
    CONSTRAINT audit_events_data_object_check CHECK (jsonb_typeof(event_data) = 'object'),
    CONSTRAINT audit_events_duration_check CHECK (duration_ms IS NULL OR duration_ms >= 0),
    CONSTRAINT audit_events_retention_check CHECK (retention_days > 0)
) PARTITION BY RANGE (event_date);

CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;

CREATE INDEX idx_audit_events_correlation ON audit_events (correlation_id, event_timestamp);
CREATE INDEX idx_audit_events_type ON audit_events (event_type, event_timestamp);

-- +goose Down
DROP TABLE audit_events;
