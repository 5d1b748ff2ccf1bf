-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE search_documents (
    tenant_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (kind, object_id)
);
CREATE INDEX search_documents_trgm ON search_documents USING gin ((title || ' ' || body) gin_trgm_ops);
CREATE INDEX search_documents_tenant ON search_documents (tenant_id);
INSERT INTO search_documents (tenant_id, kind, object_id, title, body)
SELECT tenant_id, 'ticket', id, lower(title), lower(description) FROM tickets;
