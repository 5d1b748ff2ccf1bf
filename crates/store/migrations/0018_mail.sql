-- The e-mail channel's intake: mailboxes polled over IMAP, and one row per message taken
-- from them, which is what makes the intake exactly-once.

-- A mailbox belongs to a municipality (all its mail opens tickets there) or to a provider
-- (a shared support address, routed by sender domain or address through mailbox_routes).
CREATE TABLE mailboxes (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    id               TEXT NOT NULL PRIMARY KEY,
    name             TEXT NOT NULL,
    -- The support address itself: mail from it is our own and never opens a ticket.
    address          TEXT NOT NULL DEFAULT '',
    host             TEXT NOT NULL,
    port             BIGINT NOT NULL,
    security         TEXT NOT NULL CHECK (security IN ('tls', 'starttls')),
    username         TEXT NOT NULL,
    -- Sealed with the installation's secret key (drifta_core::seal); it must be sent to the
    -- server, so it cannot be hashed.
    password_sealed  TEXT NOT NULL,
    folder           TEXT NOT NULL DEFAULT 'INBOX',
    poll_seconds     BIGINT NOT NULL DEFAULT 60,
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    -- One node polls a mailbox at a time: the one holding the lease.
    lease_owner      TEXT,
    lease_until      BIGINT,
    next_poll_at     BIGINT NOT NULL DEFAULT 0,
    last_poll_at     BIGINT,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL
);
CREATE INDEX mailboxes_tenant ON mailboxes (tenant_id);
CREATE INDEX mailboxes_due ON mailboxes (next_poll_at);

-- For a provider's shared mailbox: a sender domain ("fjordvik.kommune.no") or a whole
-- address routes mail to one municipality.
CREATE TABLE mailbox_routes (
    mailbox_id  TEXT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    pattern     TEXT NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    PRIMARY KEY (mailbox_id, pattern)
);

-- Every message taken from a mailbox, whatever became of it. The unique key is what keeps
-- a message that is fetched again (a crash between commit and marking it on the server)
-- from opening a second ticket.
CREATE TABLE inbound_mail (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL PRIMARY KEY,
    mailbox_id    TEXT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    -- The Message-ID, or sha256:<hex of the raw message> when it has none.
    dedup_key     TEXT NOT NULL,
    message_id    TEXT NOT NULL DEFAULT '',
    from_address  TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    received_at   BIGINT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('ticket', 'reply', 'ignored', 'kept_aside')),
    -- Why it was ignored or kept aside (auto-reply, bulk, bounce, own, rate-limited,
    -- unreadable, no-sender, too-large, unrouted, …); skipped attachments for tickets.
    reason        TEXT NOT NULL DEFAULT '',
    ticket_id     TEXT,
    -- Kept-aside and ignored mail keeps its raw bytes (in attachment_blobs) for inspection.
    raw_sha256    TEXT,
    size          BIGINT NOT NULL DEFAULT 0,
    UNIQUE (mailbox_id, dedup_key)
);
CREATE INDEX inbound_mail_tenant ON inbound_mail (tenant_id, received_at);
CREATE INDEX inbound_mail_message ON inbound_mail (message_id);
CREATE INDEX inbound_mail_sender ON inbound_mail (mailbox_id, from_address, received_at);
