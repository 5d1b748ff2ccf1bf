-- Active checks (HTTP, TCP, ICMP, DNS, TLS expiry) beside heartbeats, their history as
-- hourly rows with the hour's minutes packed inside, maintenance windows, and the leases
-- that spread checks over nodes.

-- What to probe, as the engine's JSON (kind-tagged); '{}' for heartbeats.
ALTER TABLE monitors ADD COLUMN probe TEXT NOT NULL DEFAULT '{}';
ALTER TABLE monitors ADD COLUMN timeout_secs BIGINT NOT NULL DEFAULT 10;
ALTER TABLE monitors ADD COLUMN retries BIGINT NOT NULL DEFAULT 2;
ALTER TABLE monitors ADD COLUMN degraded_above_ms BIGINT;
-- Where the monitored service is, so a location's maintenance silences it.
ALTER TABLE monitors ADD COLUMN location_id TEXT;
-- Bumped by every change of settings or pause, so engines reload only what changed.
ALTER TABLE monitors ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
-- Which lease bucket (0..63) carries this monitor's checks.
ALTER TABLE monitors ADD COLUMN bucket BIGINT NOT NULL DEFAULT 0;

-- One row per monitor and hour: the hour's totals and latency percentiles, plus its sixty
-- minutes packed in `minutes` (10 bytes each, see drifta_core::monitor::PackedMinutes).
-- A row per check would grow by hundreds of megabytes a day at 1,000 monitors; this grows
-- by about 24 rows per monitor a day.
CREATE TABLE monitor_hours (
    tenant_id         TEXT NOT NULL,
    monitor_id        TEXT NOT NULL,
    hour              BIGINT NOT NULL,
    up_secs           BIGINT NOT NULL,
    degraded_secs     BIGINT NOT NULL,
    down_secs         BIGINT NOT NULL,
    maintenance_secs  BIGINT NOT NULL,
    checks            BIGINT NOT NULL,
    latency_p50       BIGINT,
    latency_p95       BIGINT,
    minutes           BYTEA NOT NULL,
    PRIMARY KEY (monitor_id, hour)
);
CREATE INDEX monitor_hours_tenant ON monitor_hours (tenant_id, hour);

-- Maintenance windows: one-off (starts_at..ends_at) or weekly (weekdays as a bit set,
-- Monday = 1, local start time and a duration, in the municipality's zone), applied to a
-- whole municipality, one location or one monitor.
CREATE TABLE maintenance_windows (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             TEXT NOT NULL,
    title          TEXT NOT NULL,
    applies_to     TEXT NOT NULL CHECK (applies_to IN ('tenant', 'location', 'monitor')),
    target_id      TEXT,
    schedule       TEXT NOT NULL CHECK (schedule IN ('once', 'weekly')),
    starts_at      BIGINT,
    ends_at        BIGINT,
    weekdays       BIGINT NOT NULL DEFAULT 0,
    start_minute   BIGINT NOT NULL DEFAULT 0,
    duration_mins  BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id)
);

-- Engines that are alive, and which of the 64 check buckets each one holds. A node that
-- stops renewing loses its buckets when `expires_at` passes; another takes them over.
CREATE TABLE engine_nodes (
    node_id   TEXT NOT NULL PRIMARY KEY,
    seen_at   BIGINT NOT NULL
);
CREATE TABLE engine_leases (
    bucket      BIGINT NOT NULL PRIMARY KEY,
    holder      TEXT NOT NULL DEFAULT '',
    expires_at  BIGINT NOT NULL DEFAULT 0
);

INSERT INTO engine_leases (bucket) VALUES (0);
INSERT INTO engine_leases (bucket) VALUES (1);
INSERT INTO engine_leases (bucket) VALUES (2);
INSERT INTO engine_leases (bucket) VALUES (3);
INSERT INTO engine_leases (bucket) VALUES (4);
INSERT INTO engine_leases (bucket) VALUES (5);
INSERT INTO engine_leases (bucket) VALUES (6);
INSERT INTO engine_leases (bucket) VALUES (7);
INSERT INTO engine_leases (bucket) VALUES (8);
INSERT INTO engine_leases (bucket) VALUES (9);
INSERT INTO engine_leases (bucket) VALUES (10);
INSERT INTO engine_leases (bucket) VALUES (11);
INSERT INTO engine_leases (bucket) VALUES (12);
INSERT INTO engine_leases (bucket) VALUES (13);
INSERT INTO engine_leases (bucket) VALUES (14);
INSERT INTO engine_leases (bucket) VALUES (15);
INSERT INTO engine_leases (bucket) VALUES (16);
INSERT INTO engine_leases (bucket) VALUES (17);
INSERT INTO engine_leases (bucket) VALUES (18);
INSERT INTO engine_leases (bucket) VALUES (19);
INSERT INTO engine_leases (bucket) VALUES (20);
INSERT INTO engine_leases (bucket) VALUES (21);
INSERT INTO engine_leases (bucket) VALUES (22);
INSERT INTO engine_leases (bucket) VALUES (23);
INSERT INTO engine_leases (bucket) VALUES (24);
INSERT INTO engine_leases (bucket) VALUES (25);
INSERT INTO engine_leases (bucket) VALUES (26);
INSERT INTO engine_leases (bucket) VALUES (27);
INSERT INTO engine_leases (bucket) VALUES (28);
INSERT INTO engine_leases (bucket) VALUES (29);
INSERT INTO engine_leases (bucket) VALUES (30);
INSERT INTO engine_leases (bucket) VALUES (31);
INSERT INTO engine_leases (bucket) VALUES (32);
INSERT INTO engine_leases (bucket) VALUES (33);
INSERT INTO engine_leases (bucket) VALUES (34);
INSERT INTO engine_leases (bucket) VALUES (35);
INSERT INTO engine_leases (bucket) VALUES (36);
INSERT INTO engine_leases (bucket) VALUES (37);
INSERT INTO engine_leases (bucket) VALUES (38);
INSERT INTO engine_leases (bucket) VALUES (39);
INSERT INTO engine_leases (bucket) VALUES (40);
INSERT INTO engine_leases (bucket) VALUES (41);
INSERT INTO engine_leases (bucket) VALUES (42);
INSERT INTO engine_leases (bucket) VALUES (43);
INSERT INTO engine_leases (bucket) VALUES (44);
INSERT INTO engine_leases (bucket) VALUES (45);
INSERT INTO engine_leases (bucket) VALUES (46);
INSERT INTO engine_leases (bucket) VALUES (47);
INSERT INTO engine_leases (bucket) VALUES (48);
INSERT INTO engine_leases (bucket) VALUES (49);
INSERT INTO engine_leases (bucket) VALUES (50);
INSERT INTO engine_leases (bucket) VALUES (51);
INSERT INTO engine_leases (bucket) VALUES (52);
INSERT INTO engine_leases (bucket) VALUES (53);
INSERT INTO engine_leases (bucket) VALUES (54);
INSERT INTO engine_leases (bucket) VALUES (55);
INSERT INTO engine_leases (bucket) VALUES (56);
INSERT INTO engine_leases (bucket) VALUES (57);
INSERT INTO engine_leases (bucket) VALUES (58);
INSERT INTO engine_leases (bucket) VALUES (59);
INSERT INTO engine_leases (bucket) VALUES (60);
INSERT INTO engine_leases (bucket) VALUES (61);
INSERT INTO engine_leases (bucket) VALUES (62);
INSERT INTO engine_leases (bucket) VALUES (63);
