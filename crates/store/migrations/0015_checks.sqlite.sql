-- SQLite cannot change a CHECK constraint in place: the kinds are widened by rebuilding
-- `monitors`. Its child `monitor_events` is rebuilt too, pointing at the new table before
-- the old one is dropped, so no foreign key is ever left dangling inside the transaction.
CREATE TABLE monitors_new (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    id                TEXT NOT NULL,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('heartbeat', 'http', 'tcp', 'icmp', 'dns', 'tls_expiry')),
    token_hash        TEXT UNIQUE,
    period_secs       BIGINT NOT NULL,
    grace_secs        BIGINT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('up', 'degraded', 'down', 'paused', 'maintenance')),
    state_since       BIGINT NOT NULL,
    reason            TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    last_start_at     BIGINT,
    last_success_at   BIGINT,
    last_fail_at      BIGINT,
    last_fail_reason  TEXT NOT NULL DEFAULT '',
    last_payload      TEXT NOT NULL DEFAULT '',
    ticket_id         TEXT,
    item_id           TEXT REFERENCES items (id),
    on_status_page    BOOLEAN NOT NULL DEFAULT FALSE,
    probe             TEXT NOT NULL DEFAULT '{}',
    timeout_secs      BIGINT NOT NULL DEFAULT 10,
    retries           BIGINT NOT NULL DEFAULT 2,
    degraded_above_ms BIGINT,
    location_id       TEXT,
    updated_at        BIGINT NOT NULL DEFAULT 0,
    bucket            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id)
);
INSERT INTO monitors_new (tenant_id, id, name, kind, token_hash, period_secs, grace_secs, state, state_since, reason, created_at, last_start_at, last_success_at, last_fail_at, last_fail_reason, last_payload, ticket_id, item_id, on_status_page, probe, timeout_secs, retries, degraded_above_ms, location_id, updated_at, bucket)
    SELECT tenant_id, id, name, kind, token_hash, period_secs, grace_secs, state, state_since, reason, created_at, last_start_at, last_success_at, last_fail_at, last_fail_reason, last_payload, ticket_id, item_id, on_status_page, probe, timeout_secs, retries, degraded_above_ms, location_id, updated_at, bucket FROM monitors;
CREATE TABLE monitor_events_new (
    tenant_id   TEXT NOT NULL,
    monitor_id  TEXT NOT NULL,
    at          BIGINT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (tenant_id, monitor_id) REFERENCES monitors_new (tenant_id, id)
);
INSERT INTO monitor_events_new SELECT tenant_id, monitor_id, at, from_state, to_state, reason FROM monitor_events;
DROP TABLE monitor_events;
DROP TABLE monitors;
ALTER TABLE monitors_new RENAME TO monitors;
ALTER TABLE monitor_events_new RENAME TO monitor_events;
CREATE INDEX monitor_events_monitor ON monitor_events (monitor_id, at);
