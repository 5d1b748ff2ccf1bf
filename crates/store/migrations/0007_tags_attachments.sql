-- Tags on tickets (e.g. "pc-utskifting-2026" for a replacement weekend's after-care).
CREATE TABLE ticket_tags (
    tenant_id  TEXT NOT NULL,
    ticket_id  TEXT NOT NULL,
    tag        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, ticket_id, tag),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX ticket_tags_tag ON ticket_tags (tenant_id, tag);

-- Attachments: metadata here, bytes in attachment_blobs keyed by their SHA-256, so the same
-- screenshot sent twice is stored once and ticket rows stay small.
CREATE TABLE attachments (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    ticket_id     TEXT NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    uploaded_at   BIGINT NOT NULL,
    uploaded_by   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX attachments_ticket ON attachments (ticket_id);
