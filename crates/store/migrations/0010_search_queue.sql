-- Objects whose search document must be rebuilt. A change enqueues its object in the same
-- transaction (one short insert); a background indexer rebuilds the documents in batches,
-- so a request never pays for the full-text index or its merges (drifta-bench measured
-- SQLite FTS5 merges inside a ticket's commit at up to 30 ms).
CREATE TABLE search_queue (
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    queued_at BIGINT NOT NULL,
    PRIMARY KEY (kind, object_id)
);
