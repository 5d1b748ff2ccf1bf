-- An FTS5 table is searchable only by MATCH and rowid, so replacing one document (every
-- ticket created or replied to) by "kind = ? AND object_id = ?" scanned every document:
-- about 0.8 µs each, most of a second per ticket change at a million tickets. search_keys
-- gives each document's key its FTS rowid (search_fts.rowid = search_keys.id).
CREATE TABLE search_keys (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    UNIQUE (kind, object_id)
);
INSERT INTO search_keys (id, kind, object_id) SELECT rowid, kind, object_id FROM search_fts;
