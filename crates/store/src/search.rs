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

impl Tx {
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

    /// Rebuilds a ticket's document from its title, description and public replies.
    /// Internal notes are left out: a requester must not find their ticket by words only
    /// staff can read.
    pub(crate) async fn index_ticket(
        &mut self,
        tenant: &TenantId,
        ticket_id: &str,
    ) -> Result<(), StoreError> {
        let row: Option<(String, String)> = self
            .fetch_optional(
                Sql::new("SELECT title, description FROM tickets WHERE tenant_id = $1 AND id = $2")
                    .arg(tenant.as_str())
                    .arg(ticket_id),
            )
            .await?;
        let Some((title, description)) = row else {
            return Ok(());
        };
        let replies: Vec<(String,)> = self
            .fetch_all(
                Sql::new("SELECT body FROM ticket_events WHERE tenant_id = $1 AND ticket_id = $2 AND kind = 'reply' ORDER BY at")
                    .arg(tenant.as_str())
                    .arg(ticket_id),
            )
            .await?;
        let mut body = description;
        for (reply,) in replies {
            body.push('\n');
            body.push_str(&reply);
        }
        self.index_document(tenant, "ticket", ticket_id, &title, &body)
            .await
    }
}

impl Store {
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
