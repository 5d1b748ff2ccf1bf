CREATE VIRTUAL TABLE search_fts USING fts5(
    tenant_id UNINDEXED,
    kind UNINDEXED,
    object_id UNINDEXED,
    title,
    body,
    tokenize = 'trigram'
);
INSERT INTO search_fts (tenant_id, kind, object_id, title, body)
SELECT tenant_id, 'ticket', id, lower(title), lower(description) FROM tickets;
