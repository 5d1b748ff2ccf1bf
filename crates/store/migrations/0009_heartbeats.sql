-- Monitors; for now heartbeats: jobs (backups, e-mail flows, alarm gateways) that report in.
-- The last ping of each kind is enough to decide the state, so pings are not stored one by one.
CREATE TABLE monitors (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    id               TEXT NOT NULL,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('heartbeat')),
    token_hash       TEXT UNIQUE,
    period_secs      BIGINT NOT NULL,
    grace_secs       BIGINT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('up', 'degraded', 'down', 'paused', 'maintenance')),
    state_since      BIGINT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    last_start_at    BIGINT,
    last_success_at  BIGINT,
    last_fail_at     BIGINT,
    last_fail_reason TEXT NOT NULL DEFAULT '',
    last_payload     TEXT NOT NULL DEFAULT '',
    ticket_id        TEXT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id)
);

-- State changes, kept for years (uptime reports are built from them).
CREATE TABLE monitor_events (
    tenant_id   TEXT NOT NULL,
    monitor_id  TEXT NOT NULL,
    at          BIGINT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (tenant_id, monitor_id) REFERENCES monitors (tenant_id, id)
);
CREATE INDEX monitor_events_monitor ON monitor_events (monitor_id, at);
