-- Service desk: tickets, their history, SLA policies and pauses, time spent.

-- Where a caller usually sits, so logging a call fills the location.
ALTER TABLE users ADD COLUMN location_id TEXT;
-- Lower-cased name, user name, e-mail and phone digits, written by drifta (SQLite's lower()
-- leaves Æ, Ø and Å alone), so "kjær" or "400 10" finds a caller while the phone rings.
ALTER TABLE users ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE users SET search_text = lower(display_name || ' ' || username || ' ' || email || ' ' || replace(replace(phone, ' ', ''), '+', ''));

-- Installation-wide ticket numbers (#1042): short enough to read out on the phone and to
-- carry in e-mail subjects, unique across municipalities so a number alone finds the ticket.
CREATE TABLE ticket_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    next  BIGINT NOT NULL
);
INSERT INTO ticket_counter (id, next) VALUES (1, 1001);

-- Per-provider settings; the priority matrix as "p1 p2 p3; p2 p3 p4; p3 p4 p4".
CREATE TABLE provider_settings (
    tenant_id        TEXT PRIMARY KEY REFERENCES tenants (id),
    priority_matrix  TEXT NOT NULL
);

CREATE TABLE tickets (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    id                 TEXT NOT NULL,
    number             BIGINT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('incident', 'service_request')),
    title              TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    requester_id       TEXT REFERENCES users (id),
    location_id        TEXT,
    category           TEXT NOT NULL DEFAULT '',
    impact             TEXT NOT NULL CHECK (impact IN ('high', 'medium', 'low')),
    urgency            TEXT NOT NULL CHECK (urgency IN ('high', 'medium', 'low')),
    priority           TEXT NOT NULL CHECK (priority IN ('p1', 'p2', 'p3', 'p4')),
    status             TEXT NOT NULL CHECK (status IN ('new', 'open', 'waiting_requester', 'waiting_supplier', 'resolved', 'closed')),
    assignee_id        TEXT REFERENCES users (id),
    channel            TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    first_response_at  BIGINT,
    resolved_at        BIGINT,
    closed_at          BIGINT,
    -- Due instants from the SLA policy and the municipality's business calendar; NULL while
    -- paused or without a target. Kept on the row so queues sort by them with an index.
    response_due_at    BIGINT,
    resolution_due_at  BIGINT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    UNIQUE (number)
);
CREATE INDEX tickets_queue ON tickets (tenant_id, status, resolution_due_at);
CREATE INDEX tickets_assignee ON tickets (assignee_id, status, resolution_due_at);
CREATE INDEX tickets_requester ON tickets (requester_id, created_at);

-- Everything that happened to a ticket, in order: replies, notes, status changes, assignments.
CREATE TABLE ticket_events (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    ticket_id   TEXT NOT NULL,
    at          BIGINT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('created', 'reply', 'note', 'status', 'assign', 'field', 'time')),
    public      BOOLEAN NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    data        TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, at);

-- Periods when the SLA clocks stood still (waiting for the requester).
CREATE TABLE ticket_pauses (
    tenant_id  TEXT NOT NULL,
    ticket_id  TEXT NOT NULL,
    from_at    BIGINT NOT NULL,
    until_at   BIGINT,
    PRIMARY KEY (tenant_id, ticket_id, from_at),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);

-- Business-time targets per municipality and priority, in minutes.
CREATE TABLE sla_policies (
    tenant_id                TEXT NOT NULL REFERENCES tenants (id),
    priority                 TEXT NOT NULL CHECK (priority IN ('p1', 'p2', 'p3', 'p4')),
    first_response_minutes   BIGINT,
    resolution_minutes       BIGINT,
    PRIMARY KEY (tenant_id, priority)
);

-- Minutes a technician spent, for the municipality's cost control.
CREATE TABLE time_entries (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    ticket_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    minutes     BIGINT NOT NULL CHECK (minutes > 0),
    billable    BOOLEAN NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    at          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX time_entries_month ON time_entries (tenant_id, at);
