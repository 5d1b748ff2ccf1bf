-- SLA mail: one row per (ticket, target, kind, due instant) that has been told, written in
-- the transaction that queues the mail. Its key is what keeps a warning or breach to one
-- mail however often and on however many nodes the sweep runs (INSERT … ON CONFLICT DO
-- NOTHING: only the insert that took queues mail). A due time that moves (a pause) is a
-- new key, so it is told again.
CREATE TABLE sla_notices (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    ticket_id   TEXT NOT NULL,
    target      TEXT NOT NULL CHECK (target IN ('response', 'resolution')),
    kind        TEXT NOT NULL CHECK (kind IN ('warning', 'breach')),
    due_at      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, ticket_id, target, kind, due_at),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);

-- How the sweep (Store::sla_notify_sweep) reaches its candidates among a million tickets
-- without reading them all. Each index holds only the tickets whose target is still open
-- (not resolved or closed, not paused, not met, with a due time): a few percent of all.
-- The *_warn indexes are on 4 × the warning instant (3 × due + created: the last quarter
-- of the span from opening to due begins there), so "warning began lately" is one range;
-- the *_due ones on the due instant, so "breached lately" is one range. The queries repeat
-- these WHERE clauses word for word: SQLite uses a partial index only then.
CREATE INDEX tickets_response_warn ON tickets ((3 * response_due_at + created_at))
WHERE status NOT IN ('resolved', 'closed', 'waiting_requester') AND first_response_at IS NULL AND response_due_at IS NOT NULL;
CREATE INDEX tickets_response_due ON tickets (response_due_at)
WHERE status NOT IN ('resolved', 'closed', 'waiting_requester') AND first_response_at IS NULL AND response_due_at IS NOT NULL;
CREATE INDEX tickets_resolution_warn ON tickets ((3 * resolution_due_at + created_at))
WHERE status NOT IN ('resolved', 'closed', 'waiting_requester') AND resolved_at IS NULL AND resolution_due_at IS NOT NULL;
CREATE INDEX tickets_resolution_due ON tickets (resolution_due_at)
WHERE status NOT IN ('resolved', 'closed', 'waiting_requester') AND resolved_at IS NULL AND resolution_due_at IS NOT NULL;

-- New tickets waiting for their "new ticket" mail (Store::send_new_ticket_mail): opening a
-- ticket writes this one row instead of a mail per technician, so the opening transaction
-- stays short; the alert sender turns it into mail within seconds.
CREATE TABLE ticket_mail_pending (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    ticket_id   TEXT NOT NULL PRIMARY KEY,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX ticket_mail_pending_age ON ticket_mail_pending (created_at);
