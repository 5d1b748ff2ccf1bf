//! The knowledge base: articles written by a provider (shared with every municipality under
//! it) or by one municipality (for it alone), drafts and published, and links from tickets.
//!
//! Who reads what:
//! - staff (`ReadAll` on the article's own tenant) read its drafts and published articles;
//! - anyone who sees a municipality reads the *published* articles of that municipality and
//!   of its provider (the provider's articles are shared with all its municipalities).
//!
//! So a requester reads published articles only, a technician of one municipality reads the
//! provider's published articles but not its drafts, and nobody reads another provider's
//! or another municipality's articles. Writing needs `Operate` on the article's tenant: for a
//! provider-wide article that means provider-level technicians and administrators.

use crate::audit::Change;
use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::validate::{FieldError, display_name};
use drifta_core::{Permission, Scope, TenantId, TenantKind, UserId};
use serde::Serialize;

/// Markdown bodies are documents, not novels; the cap keeps pages and audit entries sane.
pub const MAX_BODY_CHARS: usize = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Article {
    pub id: String,
    /// The provider (shared with all its municipalities) or one municipality.
    pub tenant_id: TenantId,
    pub tenant_name: String,
    /// True when the article belongs to a provider and so is shared with its municipalities.
    pub shared: bool,
    pub title: String,
    /// The text as written; render it only through the web shell's sanitising renderer.
    pub body_markdown: String,
    pub published: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub author_id: Option<UserId>,
    pub author_name: String,
    /// The owning tenant's zone, for showing times as its people read them.
    pub time_zone: String,
}

#[derive(Clone, Debug)]
pub struct NewArticle {
    /// A provider for a provider-wide article, or a municipality.
    pub tenant_id: TenantId,
    pub title: String,
    pub body_markdown: String,
    pub published: bool,
}

/// The fields an edit changes; the tenant stays, publishing has its own calls.
#[derive(Clone, Debug)]
pub struct ArticleUpdate {
    pub title: String,
    pub body_markdown: String,
}

#[derive(Clone, Debug, Default)]
pub struct ArticleFilter {
    /// Only articles that apply to this tenant: its own and, for a municipality, its
    /// provider's shared ones.
    pub tenant: Option<TenantId>,
    /// Leave drafts out even where the scope could read them.
    pub published_only: bool,
    /// Case-insensitive words to find in the title or body.
    pub text: String,
    pub limit: i64,
}

const ARTICLE_SELECT: &str = "SELECT a.id, a.tenant_id, tn.name, tn.kind, a.title, a.body_markdown, a.published, \
     a.created_at, a.updated_at, a.author_id, a.author_name, tn.time_zone \
     FROM kb_articles a JOIN tenants tn ON tn.id = a.tenant_id ";

type ArticleRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
    i64,
    i64,
    Option<String>,
    String,
    String,
);

fn article_from_row(r: ArticleRow) -> Article {
    Article {
        id: r.0,
        tenant_id: TenantId::from_db(r.1),
        tenant_name: r.2,
        shared: TenantKind::parse(&r.3) == Some(TenantKind::Provider),
        title: r.4,
        body_markdown: r.5,
        published: r.6,
        created_at: r.7,
        updated_at: r.8,
        author_id: r.9.map(UserId::from_db),
        author_name: r.10,
        time_zone: r.11,
    }
}

/// Rows a scope may read: everything of the tenants where it reads everything, and the
/// published articles of the tenants it sees and of their providers.
fn visible(sql: Sql, scope: &Scope) -> Sql {
    sql.push("(")
        .in_scope(scope, Permission::ReadAll, "a.tenant_id")
        .push(" OR (a.published = ")
        .push_arg(true)
        .push(" AND (")
        .in_scope(scope, Permission::View, "a.tenant_id")
        .push(" OR a.tenant_id IN (SELECT parent_id FROM tenants WHERE ")
        .in_scope(scope, Permission::View, "id")
        .push("))))")
}

fn validate(title: &str, body: &str) -> Result<(String, String), FieldError> {
    let title = display_name("title", title)?;
    let body = body.trim_end().to_string();
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(FieldError::new(
            "body",
            "body-too-long",
            "must be at most 100,000 characters",
        ));
    }
    Ok((title, body))
}

/// What the search column holds: title and body, lower-cased by Rust so æ, ø and å fold too.
fn search_text(title: &str, body: &str) -> String {
    format!("{title}\n{body}").to_lowercase()
}

impl Store {
    /// An article's search document: its title and Markdown text.
    pub(crate) async fn article_document(
        &self,
        id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        self.fetch_optional(
            Sql::new("SELECT title, body_markdown FROM kb_articles WHERE id = $1").arg(id),
        )
        .await
    }

    /// Writes a new article (a draft unless `published`). Needs `Operate` on its tenant.
    pub async fn create_article(
        &self,
        scope: &Scope,
        new: NewArticle,
    ) -> Result<Article, StoreError> {
        scope.require(&new.tenant_id, Permission::Operate)?;
        let (title, body) = validate(&new.title, &new.body_markdown)?;
        let id = UserId::generate().to_string();
        let now = self.now_ms();
        let actor = scope.actor();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO kb_articles (tenant_id, id, title, body_markdown, published, created_at, updated_at, author_id, author_name, search_text) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)")
                .arg(new.tenant_id.as_str())
                .arg(id.as_str())
                .arg(title.as_str())
                .arg(body.as_str())
                .arg(new.published)
                .arg(now)
                .arg(actor.user_id.as_ref().map(|u| u.to_string()))
                .arg(actor.name.as_str())
                .arg(search_text(&title, &body)),
        )
        .await?;
        tx.queue_search(&new.tenant_id, "article", &id, now).await?;
        tx.audit(
            actor,
            now,
            Change {
                tenant: Some(&new.tenant_id),
                action: "create",
                object_type: "kb_article",
                object_id: &id,
                before: None,
                after: Some(serde_json::json!({
                    "title": title,
                    "body_markdown": body,
                    "published": new.published,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_article(scope, &id).await
    }

    /// One article, or `NotFound` when it does not exist or the scope may not read it
    /// (another municipality's, another provider's, or a draft for a requester).
    pub async fn get_article(&self, scope: &Scope, id: &str) -> Result<Article, StoreError> {
        let sql = visible(
            Sql::new(ARTICLE_SELECT)
                .push("WHERE a.id = ")
                .push_arg(id)
                .push(" AND "),
            scope,
        );
        self.fetch_optional::<ArticleRow>(sql)
            .await?
            .map(article_from_row)
            .ok_or(StoreError::NotFound)
    }

    /// Articles the scope may read, most recently changed first.
    pub async fn list_articles(
        &self,
        scope: &Scope,
        filter: &ArticleFilter,
    ) -> Result<Vec<Article>, StoreError> {
        let mut sql = visible(Sql::new(ARTICLE_SELECT).push("WHERE "), scope);
        if let Some(t) = &filter.tenant {
            sql = sql
                .push(" AND (a.tenant_id = ")
                .push_arg(t.as_str())
                .push(" OR a.tenant_id IN (SELECT parent_id FROM tenants WHERE id = ")
                .push_arg(t.as_str())
                .push("))");
        }
        if filter.published_only {
            sql = sql.push(" AND a.published = ").push_arg(true);
        }
        // Every word must occur, found through the same full-text index as tickets.
        let words = crate::search::query_words(&filter.text);
        if !words.is_empty() {
            self.flush_search_queue().await?;
            sql = self
                .search_match(sql.push(" AND a.id IN ("), "article", &words)
                .push(")");
        }
        sql = sql
            .push(" ORDER BY a.updated_at DESC, a.id DESC LIMIT ")
            .push_arg(filter.limit.clamp(1, 500));
        Ok(self
            .fetch_all::<ArticleRow>(sql)
            .await?
            .into_iter()
            .map(article_from_row)
            .collect())
    }

    /// Changes title and body. Needs `Operate` on the article's tenant.
    pub async fn update_article(
        &self,
        scope: &Scope,
        id: &str,
        update: ArticleUpdate,
    ) -> Result<Article, StoreError> {
        let before = self.get_article(scope, id).await?;
        scope.require(&before.tenant_id, Permission::Operate)?;
        let (title, body) = validate(&update.title, &update.body_markdown)?;
        if title == before.title && body == before.body_markdown {
            return Ok(before);
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("UPDATE kb_articles SET title = $1, body_markdown = $2, search_text = $3, updated_at = $4 WHERE tenant_id = $5 AND id = $6")
                .arg(title.as_str())
                .arg(body.as_str())
                .arg(search_text(&title, &body))
                .arg(now)
                .arg(before.tenant_id.as_str())
                .arg(before.id.as_str()),
        )
        .await?;
        tx.queue_search(&before.tenant_id, "article", &before.id, now)
            .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&before.tenant_id),
                action: "update",
                object_type: "kb_article",
                object_id: &before.id,
                before: Some(
                    serde_json::json!({"title": before.title, "body_markdown": before.body_markdown}),
                ),
                after: Some(serde_json::json!({"title": title, "body_markdown": body})),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_article(scope, &before.id).await
    }

    /// Makes an article readable by everyone who sees its tenant (and, for a provider's
    /// article, by everyone in its municipalities).
    pub async fn publish_article(&self, scope: &Scope, id: &str) -> Result<Article, StoreError> {
        self.set_published(scope, id, true).await
    }

    /// Takes an article back to a draft that only staff of its tenant read.
    pub async fn unpublish_article(&self, scope: &Scope, id: &str) -> Result<Article, StoreError> {
        self.set_published(scope, id, false).await
    }

    async fn set_published(
        &self,
        scope: &Scope,
        id: &str,
        published: bool,
    ) -> Result<Article, StoreError> {
        let before = self.get_article(scope, id).await?;
        scope.require(&before.tenant_id, Permission::Operate)?;
        if before.published == published {
            return Ok(before);
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("UPDATE kb_articles SET published = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
                .arg(published)
                .arg(now)
                .arg(before.tenant_id.as_str())
                .arg(before.id.as_str()),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&before.tenant_id),
                action: if published { "publish" } else { "unpublish" },
                object_type: "kb_article",
                object_id: &before.id,
                before: Some(serde_json::json!({"published": before.published})),
                after: Some(serde_json::json!({"published": published})),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_article(scope, &before.id).await
    }

    /// Points a ticket to an article of its municipality or of its provider. Needs
    /// `Operate` on the ticket's municipality; an article the scope cannot read, or one
    /// that belongs to another municipality, answers `NotFound`. Linking twice is a no-op.
    pub async fn link_article(
        &self,
        scope: &Scope,
        ticket_id: &str,
        article_id: &str,
    ) -> Result<(), StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        scope.require(&ticket.tenant_id, Permission::Operate)?;
        let article = self.get_article(scope, article_id).await?;
        let (parent,): (Option<String>,) = self
            .fetch_optional(
                Sql::new("SELECT parent_id FROM tenants WHERE id = $1")
                    .arg(ticket.tenant_id.as_str()),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let applies = article.tenant_id == ticket.tenant_id
            || parent.as_deref() == Some(article.tenant_id.as_str());
        if !applies {
            return Err(StoreError::NotFound);
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let inserted = tx
            .execute(
                Sql::new("INSERT INTO ticket_articles (tenant_id, ticket_id, article_id, linked_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                    .arg(ticket.tenant_id.as_str())
                    .arg(ticket.id.as_str())
                    .arg(article.id.as_str())
                    .arg(now),
            )
            .await?;
        if inserted == 0 {
            return Ok(());
        }
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&ticket.tenant_id),
                action: "link",
                object_type: "kb_article",
                object_id: &article.id,
                before: None,
                after: Some(
                    serde_json::json!({"ticket_id": ticket.id, "ticket_number": ticket.number}),
                ),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The articles linked to a ticket that the scope may read (a requester sees the
    /// published ones only), in the order they were linked.
    pub async fn ticket_articles(
        &self,
        scope: &Scope,
        ticket: &crate::Ticket,
    ) -> Result<Vec<Article>, StoreError> {
        let sql = visible(
            Sql::new(ARTICLE_SELECT)
                .push("JOIN ticket_articles ta ON ta.article_id = a.id WHERE ta.tenant_id = ")
                .push_arg(ticket.tenant_id.as_str())
                .push(" AND ta.ticket_id = ")
                .push_arg(ticket.id.as_str())
                .push(" AND "),
            scope,
        )
        .push(" ORDER BY ta.linked_at, a.id");
        Ok(self
            .fetch_all::<ArticleRow>(sql)
            .await?
            .into_iter()
            .map(article_from_row)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drifta_core::{Actor, Role};

    #[test]
    fn visibility_filter_uses_the_scope_only() {
        let (provider, muni) = (TenantId::generate(), TenantId::generate());
        let scope = Scope::new(
            Actor::system("t"),
            [
                (provider.clone(), Role::Technician),
                (muni, Role::Requester),
            ],
        );
        let sql = visible(Sql::new("WHERE "), &scope);
        assert_eq!(
            sql.text,
            "WHERE (a.tenant_id IN ($1) OR (a.published = $2 AND (a.tenant_id IN ($3, $4) OR a.tenant_id IN (SELECT parent_id FROM tenants WHERE id IN ($5, $6)))))"
        );
        let empty = visible(Sql::new(""), &Scope::new(Actor::system("t"), []));
        assert_eq!(
            empty.text,
            "(1 = 0 OR (a.published = $1 AND (1 = 0 OR a.tenant_id IN (SELECT parent_id FROM tenants WHERE 1 = 0))))"
        );
    }

    #[test]
    fn titles_and_bodies_are_checked() {
        assert_eq!(validate("  ", "x").unwrap_err().field, "title");
        assert_eq!(
            validate("Ok", &"x".repeat(MAX_BODY_CHARS + 1))
                .unwrap_err()
                .code,
            "body-too-long"
        );
        assert_eq!(
            validate(" Wi-Fi ", "tekst\n\n").unwrap(),
            ("Wi-Fi".into(), "tekst".into())
        );
    }

    #[test]
    fn search_folds_norwegian_letters() {
        assert_eq!(search_text("ÆØÅ", "Skjærm"), "æøå\nskjærm");
    }
}
