//! Full-text search over tickets, behind one interface for both backends.
//!
//! Documents are stored lower-cased by drifta (so case folding of æ, ø, å does not depend on
//! the database), and matched by substrings: SQLite FTS5's trigram tokenizer, PostgreSQL's
//! pg_trgm index. Typed text is never passed to a query language: it is split into words,
//! each matched literally, all required.

use crate::db::{Backend, Store, Tx};
use crate::error::StoreError;
use crate::sql::Sql;
use crate::tickets::{QueueFilter, Ticket};
use drifta_core::{Permission, Scope, TenantId};

/// At most this many words of a query are used; the rest is ignored.
const MAX_WORDS: usize = 8;

/// The words of a query: runs of letters and digits, lower-cased, deduplicated.
pub fn query_words(query: &str) -> Vec<String> {
    let mut words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.dedup();
    words.truncate(MAX_WORDS);
    words
}

pub(crate) fn like_pattern(word: &str) -> String {
    format!(
        "%{}%",
        word.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// Documents rebuilt per indexer transaction. Small, because on SQLite the transaction
/// holds the only write lock: about 0.2 ms per document, so a request waits at most a few
/// milliseconds behind a batch.
const INDEX_BATCH: i64 = 16;

/// Indexing transactions between merge attempts: FTS5 merges once `usermerge` (16,
/// migration 10) segments share a level.
const MERGE_AFTER_SEGMENTS: i64 = 8;

/// Pages written per merge step of the SQLite full-text index (see `merge_search_index`).
const MERGE_PAGES: i64 = 32;

impl Tx {
    /// Asks the indexer to rebuild an object's search document from its current state.
    /// Queuing the same object twice keeps one entry, and always changes its `queued_at`:
    /// the indexer removes an entry only if that is unchanged since it read the object.
    pub(crate) async fn queue_search(
        &mut self,
        tenant: &TenantId,
        kind: &str,
        object_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.queue_search_many(tenant, kind, &[object_id], now)
            .await
    }

    /// [`Tx::queue_search`] for many objects of one tenant, 500 per statement.
    pub(crate) async fn queue_search_many(
        &mut self,
        tenant: &TenantId,
        kind: &str,
        object_ids: &[impl AsRef<str>],
        now: i64,
    ) -> Result<(), StoreError> {
        for chunk in object_ids.chunks(500) {
            let mut sql = Sql::new(
                "INSERT INTO search_queue (kind, object_id, tenant_id, queued_at) VALUES ",
            );
            for (i, id) in chunk.iter().enumerate() {
                sql = sql
                    .push(if i == 0 { "(" } else { ", (" })
                    .push_arg(kind)
                    .push(", ")
                    .push_arg(id.as_ref())
                    .push(", ")
                    .push_arg(tenant.as_str())
                    .push(", ")
                    .push_arg(now)
                    .push(")");
            }
            self.execute(sql.push(
                " ON CONFLICT (kind, object_id) DO UPDATE SET queued_at = CASE \
                 WHEN EXCLUDED.queued_at > search_queue.queued_at THEN EXCLUDED.queued_at \
                 ELSE search_queue.queued_at + 1 END",
            ))
            .await?;
        }
        Ok(())
    }

    /// Replaces the search document of one object.
    pub(crate) async fn index_document(
        &mut self,
        tenant: &TenantId,
        kind: &str,
        object_id: &str,
        title: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        let (title, body) = (title.to_lowercase(), body.to_lowercase());
        match self.backend() {
            Backend::Sqlite => {
                // The document's FTS rowid comes from search_keys (migration 6): FTS5 finds
                // rows only by rowid or MATCH, and a delete by key scanned every document.
                self.execute(
                    Sql::new("INSERT INTO search_keys (kind, object_id) VALUES ($1, $2) ON CONFLICT (kind, object_id) DO NOTHING")
                        .arg(kind)
                        .arg(object_id),
                )
                .await?;
                let (rowid,): (i64,) = self
                    .fetch_optional(
                        Sql::new("SELECT id FROM search_keys WHERE kind = $1 AND object_id = $2")
                            .arg(kind)
                            .arg(object_id),
                    )
                    .await?
                    .ok_or(StoreError::NotFound)?;
                self.execute(Sql::new("DELETE FROM search_fts WHERE rowid = $1").arg(rowid))
                    .await?;
                self.execute(
                    Sql::new("INSERT INTO search_fts (rowid, tenant_id, kind, object_id, title, body) VALUES ($1, $2, $3, $4, $5, $6)")
                        .arg(rowid)
                        .arg(tenant.as_str())
                        .arg(kind)
                        .arg(object_id)
                        .arg(title)
                        .arg(body),
                )
                .await?;
            }
            Backend::Postgres => {
                self.execute(
                    Sql::new(
                        "INSERT INTO search_documents (tenant_id, kind, object_id, title, body) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (kind, object_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, title = EXCLUDED.title, body = EXCLUDED.body",
                    )
                    .arg(tenant.as_str())
                    .arg(kind)
                    .arg(object_id)
                    .arg(title)
                    .arg(body),
                )
                .await?;
            }
        }
        Ok(())
    }
}

impl Store {
    /// A ticket's document: its title, description and public replies. Internal notes are
    /// left out: a requester must not find their ticket by words only staff can read.
    async fn ticket_document(
        &self,
        tenant: &str,
        ticket_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row: Option<(String, String)> = self
            .fetch_optional(
                Sql::new("SELECT title, description FROM tickets WHERE tenant_id = $1 AND id = $2")
                    .arg(tenant)
                    .arg(ticket_id),
            )
            .await?;
        let Some((title, description)) = row else {
            return Ok(None);
        };
        let replies: Vec<(String,)> = self
            .fetch_all(
                Sql::new("SELECT body FROM ticket_events WHERE tenant_id = $1 AND ticket_id = $2 AND kind = 'reply' ORDER BY at")
                    .arg(tenant)
                    .arg(ticket_id),
            )
            .await?;
        let mut body = description;
        for (reply,) in replies {
            body.push('\n');
            body.push_str(&reply);
        }
        Ok(Some((title, body)))
    }

    /// Rebuilds up to `limit` queued documents in one transaction and returns how many.
    /// Two nodes indexing the same entry write the same document; that is harmless.
    pub async fn index_search_queue(&self, limit: i64) -> Result<usize, StoreError> {
        let queued: Vec<(String, String, String, i64)> = self
            .fetch_all(
                Sql::new(
                    "SELECT kind, object_id, tenant_id, queued_at FROM search_queue ORDER BY queued_at LIMIT $1",
                )
                .arg(limit.max(1)),
            )
            .await?;
        if queued.is_empty() {
            return Ok(0);
        }
        // Documents are read before the write transaction, so SQLite's writer is held
        // only for the index writes. A change committed meanwhile bumps its entry's
        // queued_at, which keeps the entry for the next round.
        let mut documents = Vec::with_capacity(queued.len());
        for (kind, object_id, tenant, _) in &queued {
            // An unknown kind is dropped from the queue rather than blocking it.
            let document = match kind.as_str() {
                "ticket" => self.ticket_document(tenant, object_id).await?,
                "item" => self.item_document(object_id).await?,
                "article" => self.article_document(object_id).await?,
                _ => None,
            };
            documents.push(document);
        }
        let mut tx = self.begin().await?;
        for ((kind, object_id, tenant, queued_at), document) in queued.iter().zip(documents) {
            if let Some((title, body)) = document {
                tx.index_document(
                    &TenantId::from_db(tenant.clone()),
                    kind,
                    object_id,
                    &title,
                    &body,
                )
                .await?;
            }
            tx.execute(
                Sql::new(
                    "DELETE FROM search_queue WHERE kind = $1 AND object_id = $2 AND queued_at = $3",
                )
                .arg(kind.as_str())
                .arg(object_id.as_str())
                .arg(*queued_at),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(queued.len())
    }

    /// Indexes everything queued, so a search sees every committed change. Cheap when the
    /// queue is empty: one read.
    pub async fn flush_search_queue(&self) -> Result<(), StoreError> {
        loop {
            let pending: Option<(String,)> = self
                .fetch_optional(Sql::new("SELECT object_id FROM search_queue LIMIT 1"))
                .await?;
            if pending.is_none() || self.index_search_queue(INDEX_BATCH * 4).await? == 0 {
                return Ok(());
            }
        }
    }

    /// One bounded step of merging SQLite's full-text segments, in its own short
    /// transaction; true when there was work. Automatic merging is off (migration 10)
    /// because it ran inside whichever commit crossed its threshold. PostgreSQL has
    /// nothing to merge here.
    pub async fn merge_search_index(&self) -> Result<bool, StoreError> {
        if self.backend() == Backend::Postgres {
            return Ok(false);
        }
        let mut tx = self.begin().await?;
        let total_changes = Sql::new("SELECT total_changes()");
        let (before,): (i64,) = tx
            .fetch_optional(total_changes.clone())
            .await?
            .unwrap_or((0,));
        tx.execute(
            Sql::new("INSERT INTO search_fts (search_fts, rank) VALUES ('merge', $1)")
                .arg(MERGE_PAGES),
        )
        .await?;
        let (after,): (i64,) = tx.fetch_optional(total_changes).await?.unwrap_or((0,));
        tx.commit().await?;
        // FTS5 documents this test: a merge that did work changed two rows or more.
        Ok(after - before >= 2)
    }

    /// Runs the search indexer until the returned task is aborted: it indexes what was
    /// queued and merges index segments, in small transactions so requests get the writer
    /// in between; every 100 ms while there is work, every second when idle. A search
    /// indexes what is still queued before it looks, so the interval costs no freshness;
    /// polling every 100 ms while idle cost a tenth of the whole process's CPU at 1,000
    /// monitors.
    pub fn spawn_search_indexer(&self) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            // Idle, a look once a second costs next to nothing. Busy, every 100 ms: a round
            // then finds ~20 documents, one or two short writes, where a round a second
            // found 200 and held SQLite's writer for ~200 ms in one go, which made ticket
            // creates at 200/s wait behind it (create p95 10.9 → 6.6 ms in drifta-bench).
            const IDLE: std::time::Duration = std::time::Duration::from_secs(1);
            const BUSY: std::time::Duration = std::time::Duration::from_millis(100);
            let mut wait = IDLE;
            // Merging is skipped until enough new segments (one per indexing transaction)
            // may have collected, since even an idle merge step takes the writer.
            let mut segments_since_merge = 0;
            loop {
                tokio::time::sleep(wait).await;
                wait = IDLE;
                // A bounded round, so a backlog is worked off over several ticks.
                for _ in 0..64 {
                    // Requests go first: wait (briefly) for a moment when nobody writes.
                    for _ in 0..20 {
                        if store.writer_idle() {
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                    let indexed = match store.index_search_queue(INDEX_BATCH).await {
                        Ok(n) => n as i64,
                        Err(e) => {
                            tracing::warn!(error = %e, "search indexing failed; retrying");
                            break;
                        }
                    };
                    if indexed > 0 {
                        segments_since_merge += 1;
                        wait = BUSY;
                    }
                    let mut merged = false;
                    if segments_since_merge >= MERGE_AFTER_SEGMENTS {
                        match store.merge_search_index().await {
                            Ok(true) => merged = true,
                            Ok(false) => segments_since_merge = 0,
                            Err(e) => {
                                tracing::warn!(error = %e, "search index merge failed; retrying");
                                break;
                            }
                        }
                    }
                    if indexed < INDEX_BATCH && !merged {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }
        })
    }

    /// Tickets in scope whose title, description or public replies contain every word of
    /// `query` (as substrings), newest first.
    pub async fn search_tickets(
        &self,
        scope: &Scope,
        query: &str,
        limit: i64,
    ) -> Result<Vec<Ticket>, StoreError> {
        let words = query_words(query);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        self.flush_search_queue().await?;
        let limit = limit.clamp(1, 200);
        let mut sql = match self.backend() {
            Backend::Sqlite => {
                Sql::new("SELECT object_id FROM search_fts WHERE kind = 'ticket' AND ")
            }
            Backend::Postgres => {
                Sql::new("SELECT object_id FROM search_documents WHERE kind = 'ticket' AND ")
            }
        };
        // Tenants where the actor may read tickets at all; the per-ticket rule (requesters
        // see only their own) is applied when the tickets are loaded.
        let tenants: Vec<String> = scope
            .tenant_ids()
            .filter(|t| scope.can(t, Permission::ReadAll) || scope.can(t, Permission::Request))
            .map(|t| t.to_string())
            .collect();
        sql = sql.push_in("tenant_id", tenants);
        for word in &words {
            sql = match self.backend() {
                // Three letters make a trigram the index can use; shorter words scan.
                Backend::Sqlite if word.chars().count() >= 3 => sql
                    .push(" AND search_fts MATCH ")
                    .push_arg(format!("\"{}\"", word.replace('"', "\"\""))),
                Backend::Sqlite => sql
                    .push(" AND (title LIKE ")
                    .push_arg(like_pattern(word))
                    .push(" ESCAPE '\\' OR body LIKE ")
                    .push_arg(like_pattern(word))
                    .push(" ESCAPE '\\')"),
                Backend::Postgres => sql
                    .push(" AND (title || ' ' || body) LIKE ")
                    .push_arg(like_pattern(word))
                    .push(" ESCAPE '\\'"),
            };
        }
        sql = sql.push(" LIMIT ").push_arg(limit * 4);
        let ids: Vec<(String,)> = self.fetch_all(sql).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut tickets = self
            .tickets_by_ids(
                scope,
                ids.into_iter().map(|(id,)| id).collect(),
                &QueueFilter::default(),
            )
            .await?;
        tickets.sort_by_key(|t| std::cmp::Reverse(t.updated_at));
        tickets.truncate(limit as usize);
        Ok(tickets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_literal_and_lower_case() {
        assert_eq!(
            query_words("Skriver \"OR\" NEAR(x*) -foo"),
            vec!["skriver", "or", "near", "x", "foo"]
        );
        assert_eq!(
            query_words("Ærlig ØL på Åsen"),
            vec!["ærlig", "øl", "på", "åsen"]
        );
        assert_eq!(query_words("  \"\" ** ()  "), Vec::<String>::new());
        assert_eq!(query_words(&"a ".repeat(50)).len(), 1);
        assert_eq!(query_words("a b c d e f g h i j k").len(), MAX_WORDS);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
    }
}
