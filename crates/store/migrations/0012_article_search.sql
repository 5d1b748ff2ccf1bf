-- Knowledge-base articles join the full-text index (kind 'article'): every existing article
-- is queued, and the indexer builds their documents on its next round.
INSERT INTO search_queue (kind, object_id, tenant_id, queued_at)
SELECT 'article', id, tenant_id, 0 FROM kb_articles;
