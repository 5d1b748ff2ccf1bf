-- Alerts: where each municipality's monitoring alerts go (routes, with escalation
-- delays), and the outbox every alert and ticket mail passes through, so an SMTP or
-- gateway outage delays them instead of losing them.

CREATE TABLE alert_routes (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             TEXT NOT NULL,
    channel        TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'sms')),
    -- An e-mail address, a webhook URL or a phone number in international form.
    target         TEXT NOT NULL,
    format         TEXT NOT NULL DEFAULT 'generic' CHECK (format IN ('generic', 'slack', 'teams')),
    threshold      TEXT NOT NULL CHECK (threshold IN ('degraded', 'down')),
    -- 0: at once. Otherwise an escalation step, dropped if the incident is over or its
    -- ticket has been taken before the delay has passed.
    delay_minutes  BIGINT NOT NULL DEFAULT 0,
    lang           TEXT NOT NULL DEFAULT 'nb',
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id)
);

-- One row per message to send. `dedup_key` makes an alert for the same route, monitor,
-- incident and kind a no-op, which is what "one alert per incident" means in storage.
-- A sender claims due rows by setting status 'sending' with a lease; a node that dies
-- mid-delivery leaves rows whose lease runs out and another node sends them again.
CREATE TABLE outbox (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    id             TEXT NOT NULL PRIMARY KEY,
    route_id       TEXT,
    channel        TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'sms')),
    target         TEXT NOT NULL,
    format         TEXT NOT NULL DEFAULT 'generic',
    lang           TEXT NOT NULL DEFAULT 'nb',
    -- What happened (drifta_core::alert::AlertEvent or drifta_core::notify::TicketMail as
    -- JSON, by kind), rendered into the recipient's language when sent.
    event          TEXT NOT NULL,
    dedup_key      TEXT NOT NULL UNIQUE,
    monitor_id     TEXT,
    incident_at    BIGINT,
    -- For mail about a ticket (assigned, replies): shown on the ticket with its state.
    ticket_id      TEXT,
    -- Dropped at send time when the incident is over or its ticket is taken.
    escalation     BOOLEAN NOT NULL DEFAULT FALSE,
    -- problem, recovery or test (alerts); ticket_assigned or ticket_reply (mail).
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
    attempts       BIGINT NOT NULL DEFAULT 0,
    not_before     BIGINT NOT NULL,
    claimed_by     TEXT,
    claimed_until  BIGINT,
    last_error     TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    sent_at        BIGINT
);
CREATE INDEX outbox_due ON outbox (status, not_before);
CREATE INDEX outbox_tenant ON outbox (tenant_id, created_at);
CREATE INDEX outbox_incident ON outbox (monitor_id, incident_at);
CREATE INDEX outbox_ticket ON outbox (ticket_id);

-- When the monitor's current incident started (NULL while healthy): the key that keeps
-- alerts to one per incident across problem-to-problem changes.
ALTER TABLE monitors ADD COLUMN incident_at BIGINT;
