//! Bulk loading of tickets, for benchmarks and imports from another service desk.
//!
//! [`Store::create_ticket`] validates, computes SLA due times from the business calendar,
//! audits and indexes one ticket per transaction: right for people, far too slow for a
//! million historical tickets. [`Store::bulk_load_tickets`] takes tickets whose every field
//! the caller has already decided (status, due times, history) and writes them with large
//! multi-row `INSERT`s in one transaction per call, together with their history
//! (`ticket_events`), open SLA pauses and full-text search documents. It trusts its input
//! beyond the scope check: it is meant for benchmark generators and import tools, never for
//! request handlers.

use crate::audit::Change;
use crate::db::{Backend, Store, Tx};
use crate::error::StoreError;
use crate::sql::{Arg, Sql};
use drifta_core::ticket::{Level, Priority, TicketKind, TicketStatus};
use drifta_core::{LocationId, Permission, Scope, TenantId, UserId};
use std::collections::BTreeMap;

/// One ticket for [`Store::bulk_load_tickets`], with everything already decided.
#[derive(Clone, Debug)]
pub struct BulkTicket {
    pub tenant_id: TenantId,
    pub kind: TicketKind,
    pub title: String,
    pub description: String,
    pub requester_id: Option<UserId>,
    pub location_id: Option<LocationId>,
    pub category: String,
    pub impact: Level,
    pub urgency: Level,
    pub priority: Priority,
    pub status: TicketStatus,
    pub assignee_id: Option<UserId>,
    /// phone, email, portal, web, api, monitor
    pub channel: String,
    /// Who logged the ticket: the actor of its `created` event.
    pub created_by: BulkActor,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    /// Replies and notes after creation, oldest first.
    pub comments: Vec<BulkComment>,
}

#[derive(Clone, Debug)]
pub struct BulkActor {
    pub user_id: Option<UserId>,
    pub name: String,
}

/// A public reply or an internal note on a [`BulkTicket`].
#[derive(Clone, Debug)]
pub struct BulkComment {
    pub at: i64,
    pub by: BulkActor,
    pub public: bool,
    pub body: String,
}

/// What one [`Store::bulk_load_tickets`] call wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkLoaded {
    pub tickets: u64,
    pub events: u64,
    pub search_documents: u64,
    /// The lowest and highest ticket number given out. On PostgreSQL, tickets opened while
    /// the load ran may hold numbers in between (see `Tx::take_ticket_numbers`).
    pub first_number: i64,
    pub last_number: i64,
}

/// Row counts and size of a database, for benchmark and import reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DatasetStats {
    pub tickets: i64,
    pub active_tickets: i64,
    pub ticket_events: i64,
    pub search_documents: i64,
    /// The whole database: SQLite's pages (as the current snapshot sees them, so pages
    /// still in the WAL count), PostgreSQL's `pg_database_size`.
    pub database_bytes: i64,
}

/// Rows per multi-row statement, under SQLite's 32,766 and PostgreSQL's 65,535 bound
/// parameters.
const TICKET_COLUMNS: &str = "tenant_id, id, number, kind, title, description, requester_id, location_id, category, impact, urgency, priority, status, assignee_id, channel, created_at, updated_at, first_response_at, resolved_at, closed_at, response_due_at, resolution_due_at";
const TICKET_WIDTH: usize = 22;
const TICKET_ROWS: usize = 1_000;
const EVENT_COLUMNS: &str =
    "tenant_id, id, ticket_id, at, actor_id, actor_name, kind, public, body, data";
const EVENT_WIDTH: usize = 10;
const EVENT_ROWS: usize = 3_000;
pub(crate) const SEARCH_WIDTH: usize = 5;
pub(crate) const SEARCH_ROWS: usize = 5_000;
const PAUSE_WIDTH: usize = 3;
const PAUSE_ROWS: usize = 5_000;

/// `INSERT INTO table (columns) VALUES ($1, …), (…)` for `rows` rows of `width` values.
///
/// On SQLite the placeholders are anonymous (`?`), bound in order: sqlx looks up the name of
/// every parameter, and SQLite finds a name by walking the statement's list of names, so
/// thousands of `$n` in one statement cost time quadratic in their number (measured: two
/// thirds of the load time at 22,000 parameters per statement).
fn insert_text(backend: Backend, table_and_columns: &str, width: usize, rows: usize) -> String {
    let mut text = format!("INSERT INTO {table_and_columns} VALUES ");
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for c in 0..width {
            if c > 0 {
                text.push_str(", ");
            }
            n += 1;
            match backend {
                Backend::Sqlite => text.push('?'),
                Backend::Postgres => {
                    text.push('$');
                    text.push_str(&n.to_string());
                }
            }
        }
        text.push(')');
    }
    text
}

/// Writes search documents (each `tenant_id, kind, object_id, title, body`) straight into
/// the full-text index, for the bulk loaders: on SQLite a `search_keys` row per document
/// whose id is the document's FTS rowid (see `Tx::index_document`), on PostgreSQL
/// `search_documents`. The caller holds the write lock, so the next key ids are its own.
/// Returns how many documents were written.
pub(crate) async fn insert_search_documents(
    tx: &mut Tx,
    mut search_rows: Vec<Vec<Arg>>,
) -> Result<u64, StoreError> {
    match tx.backend() {
        Backend::Sqlite => {
            let (last,): (i64,) = tx
                .fetch_optional(Sql::new("SELECT COALESCE(MAX(id), 0) FROM search_keys"))
                .await?
                .unwrap_or((0,));
            let mut keys = Vec::with_capacity(search_rows.len());
            for (i, row) in search_rows.iter_mut().enumerate() {
                let rowid = Arg::Int(last + 1 + i as i64);
                keys.push(vec![rowid.clone(), row[1].clone(), row[2].clone()]);
                row.insert(0, rowid);
            }
            insert_rows(
                tx,
                "search_keys (id, kind, object_id)",
                3,
                SEARCH_ROWS,
                keys,
            )
            .await?;
            insert_rows(
                tx,
                "search_fts (rowid, tenant_id, kind, object_id, title, body)",
                SEARCH_WIDTH + 1,
                SEARCH_ROWS,
                search_rows,
            )
            .await
        }
        Backend::Postgres => {
            insert_rows(
                tx,
                "search_documents (tenant_id, kind, object_id, title, body)",
                SEARCH_WIDTH,
                SEARCH_ROWS,
                search_rows,
            )
            .await
        }
    }
}

/// Writes `rows` (each exactly `width` values) in statements of at most `per_statement` rows.
pub(crate) async fn insert_rows(
    tx: &mut Tx,
    table_and_columns: &str,
    width: usize,
    per_statement: usize,
    rows: Vec<Vec<Arg>>,
) -> Result<u64, StoreError> {
    let backend = tx.backend();
    let mut written = 0;
    let mut full_text: Option<String> = None;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<Vec<Arg>> = rows.by_ref().take(per_statement).collect();
        let text = if batch.len() == per_statement {
            full_text
                .get_or_insert_with(|| {
                    insert_text(backend, table_and_columns, width, per_statement)
                })
                .clone()
        } else {
            insert_text(backend, table_and_columns, width, batch.len())
        };
        let args: Vec<Arg> = batch.into_iter().flatten().collect();
        debug_assert_eq!(args.len() % width, 0);
        written += tx.execute(Sql { text, args }).await?;
    }
    Ok(written)
}

/// One line of a ticket's history, as a row of `ticket_events`.
struct Event<'a> {
    at: i64,
    by: &'a BulkActor,
    kind: &'a str,
    public: bool,
    body: &'a str,
    data: Option<String>,
}

fn event_row(tenant: &str, ticket: &str, e: Event<'_>) -> Vec<Arg> {
    vec![
        Arg::Text(tenant.to_string()),
        Arg::Text(UserId::generate().to_string()),
        Arg::Text(ticket.to_string()),
        Arg::Int(e.at),
        Arg::OptText(e.by.user_id.as_ref().map(|u| u.to_string())),
        Arg::Text(e.by.name.clone()),
        Arg::Text(e.kind.to_string()),
        Arg::Bool(e.public),
        Arg::Text(e.body.to_string()),
        Arg::OptText(e.data),
    ]
}

impl Store {
    /// Writes `tickets` in one transaction: the tickets with numbers from the installation's
    /// counter, a `created` event and one event per comment, an open SLA pause for tickets
    /// waiting for their requester, and search documents built like
    /// `Tx::index_ticket` builds them (title, description and public replies, lower-cased).
    /// Appends one audit entry per municipality touched, saying how many tickets were loaded.
    ///
    /// **For benchmarks and imports only.** Apart from the scope check (the actor must be
    /// allowed to work tickets in every municipality named), nothing is validated or
    /// computed: titles, statuses and due times are stored as given. Call with a few
    /// thousand tickets at a time, and [`Store::analyze`] once after the last call.
    pub async fn bulk_load_tickets(
        &self,
        scope: &Scope,
        tickets: Vec<BulkTicket>,
    ) -> Result<BulkLoaded, StoreError> {
        let mut per_tenant: BTreeMap<&TenantId, u64> = BTreeMap::new();
        for t in &tickets {
            *per_tenant.entry(&t.tenant_id).or_default() += 1;
        }
        for tenant in per_tenant.keys() {
            scope.require(tenant, Permission::Operate)?;
        }
        if tickets.is_empty() {
            return Ok(BulkLoaded::default());
        }
        let count = tickets.len() as i64;
        let mut tx = self.begin().await?;
        if tx.backend() == Backend::Postgres {
            // A bigger pending list lets the trigram GIN index take the batch in large
            // merges instead of one index insertion per document; only for this transaction.
            tx.execute_script("SET LOCAL gin_pending_list_limit = '64MB'")
                .await?;
        }
        let numbers = tx.take_ticket_numbers(count).await?;
        let (first_number, last_number) = (numbers[0], numbers[numbers.len() - 1]);

        let mut ticket_rows = Vec::with_capacity(tickets.len());
        let mut event_rows = Vec::new();
        let mut search_rows = Vec::with_capacity(tickets.len());
        let mut pause_rows = Vec::new();
        for (i, t) in tickets.iter().enumerate() {
            let id = UserId::generate().to_string();
            let tenant = t.tenant_id.as_str();
            ticket_rows.push(vec![
                Arg::Text(tenant.to_string()),
                Arg::Text(id.clone()),
                Arg::Int(numbers[i]),
                Arg::Text(t.kind.as_str().to_string()),
                Arg::Text(t.title.clone()),
                Arg::Text(t.description.clone()),
                Arg::OptText(t.requester_id.as_ref().map(|u| u.to_string())),
                Arg::OptText(t.location_id.as_ref().map(|l| l.to_string())),
                Arg::Text(t.category.clone()),
                Arg::Text(t.impact.as_str().to_string()),
                Arg::Text(t.urgency.as_str().to_string()),
                Arg::Text(t.priority.as_str().to_string()),
                Arg::Text(t.status.as_str().to_string()),
                Arg::OptText(t.assignee_id.as_ref().map(|u| u.to_string())),
                Arg::Text(t.channel.clone()),
                Arg::Int(t.created_at),
                Arg::Int(t.updated_at),
                Arg::OptInt(t.first_response_at),
                Arg::OptInt(t.resolved_at),
                Arg::OptInt(t.closed_at),
                Arg::OptInt(t.response_due_at),
                Arg::OptInt(t.resolution_due_at),
            ]);
            let data = serde_json::json!({"channel": t.channel, "priority": t.priority});
            event_rows.push(event_row(
                tenant,
                &id,
                Event {
                    at: t.created_at,
                    by: &t.created_by,
                    kind: "created",
                    public: true,
                    body: "",
                    data: Some(data.to_string()),
                },
            ));
            let mut body = t.description.clone();
            for c in &t.comments {
                let kind = if c.public { "reply" } else { "note" };
                event_rows.push(event_row(
                    tenant,
                    &id,
                    Event {
                        at: c.at,
                        by: &c.by,
                        kind,
                        public: c.public,
                        body: &c.body,
                        data: None,
                    },
                ));
                if c.public {
                    body.push('\n');
                    body.push_str(&c.body);
                }
            }
            search_rows.push(vec![
                Arg::Text(tenant.to_string()),
                Arg::Text("ticket".to_string()),
                Arg::Text(id.clone()),
                Arg::Text(t.title.to_lowercase()),
                Arg::Text(body.to_lowercase()),
            ]);
            if t.status.pauses_sla() {
                pause_rows.push(vec![
                    Arg::Text(tenant.to_string()),
                    Arg::Text(id),
                    Arg::Int(t.updated_at),
                ]);
            }
        }

        let loaded_tickets = insert_rows(
            &mut tx,
            &format!("tickets ({TICKET_COLUMNS})"),
            TICKET_WIDTH,
            TICKET_ROWS,
            ticket_rows,
        )
        .await?;
        let events = insert_rows(
            &mut tx,
            &format!("ticket_events ({EVENT_COLUMNS})"),
            EVENT_WIDTH,
            EVENT_ROWS,
            event_rows,
        )
        .await?;
        insert_rows(
            &mut tx,
            "ticket_pauses (tenant_id, ticket_id, from_at)",
            PAUSE_WIDTH,
            PAUSE_ROWS,
            pause_rows,
        )
        .await?;
        let search_documents = insert_search_documents(&mut tx, search_rows).await?;

        let now = self.now_ms();
        for (tenant, n) in &per_tenant {
            let batch = UserId::generate();
            tx.audit(
                scope.actor(),
                now,
                Change {
                    tenant: Some(tenant),
                    action: "bulk_load",
                    object_type: "ticket",
                    object_id: batch.as_str(),
                    before: None,
                    after: Some(serde_json::json!({
                        "tickets": n,
                        "numbers_from": first_number,
                        "numbers_to": last_number,
                    })),
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.restart_wal().await?;
        Ok(BulkLoaded {
            tickets: loaded_tickets,
            events,
            search_documents,
            first_number,
            last_number,
        })
    }

    /// Refreshes the query planner's statistics (`ANALYZE`) after a bulk load, so queue
    /// and search queries are planned for the data that is there now. It also merges the
    /// full-text index: PostgreSQL's trigram pending list, which only autovacuum would do
    /// otherwise, and SQLite's segments; on SQLite it also checkpoints and truncates the WAL.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.execute_script("ANALYZE").await?;
        match tx.backend() {
            Backend::Postgres => {
                tx.execute_script("SELECT gin_clean_pending_list('search_documents_trgm')")
                    .await?
            }
            // Automatic merging is off (migration 10), so a bulk load leaves many
            // segments; one full merge now spares the indexer that backlog.
            Backend::Sqlite => {
                tx.execute_script("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
                    .await?
            }
        }
        tx.commit().await?;
        // A bulk load leaves hundreds of megabytes of WAL. Moved and cut back now, as part
        // of the load; otherwise the first writes after it paid for it (creates of up to
        // 260-300 ms in the first second after a load in drifta-bench).
        self.truncate_wal().await
    }

    /// Row counts within `scope` (the tenants where it may read everything) and the size of
    /// the whole database, for benchmark and import reports.
    pub async fn dataset_stats(&self, scope: &Scope) -> Result<DatasetStats, StoreError> {
        let count = |from: &str, extra: &str| {
            Sql::new(format!("SELECT COUNT(*) FROM {from} WHERE {extra}")).in_scope(
                scope,
                Permission::ReadAll,
                "tenant_id",
            )
        };
        let one = |row: Option<(i64,)>| row.map_or(0, |(n,)| n);
        let tickets = one(self.fetch_optional(count("tickets", "")).await?);
        let active_tickets = one(self
            .fetch_optional(count(
                "tickets",
                "status NOT IN ('resolved', 'closed') AND ",
            ))
            .await?);
        let ticket_events = one(self.fetch_optional(count("ticket_events", "")).await?);
        let search_table = match self.backend() {
            Backend::Sqlite => "search_fts",
            Backend::Postgres => "search_documents",
        };
        let search_documents = one(self
            .fetch_optional(count(search_table, "kind = 'ticket' AND "))
            .await?);
        let database_bytes = match self.backend() {
            Backend::Sqlite => one(self
                .fetch_optional(Sql::new(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                ))
                .await?),
            Backend::Postgres => one(self
                .fetch_optional(Sql::new("SELECT pg_database_size(current_database())"))
                .await?),
        };
        Ok(DatasetStats {
            tickets,
            active_tickets,
            ticket_events,
            search_documents,
            database_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_text_numbers_every_value() {
        assert_eq!(
            insert_text(Backend::Postgres, "t (a, b)", 2, 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            insert_text(Backend::Sqlite, "t (a, b)", 2, 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }

    #[test]
    fn statements_stay_under_the_parameter_limits() {
        for (width, rows) in [
            (TICKET_WIDTH, TICKET_ROWS),
            (EVENT_WIDTH, EVENT_ROWS),
            (SEARCH_WIDTH + 1, SEARCH_ROWS),
            (PAUSE_WIDTH, PAUSE_ROWS),
        ] {
            assert!(width * rows <= 32_766, "{width} × {rows}");
        }
        assert_eq!(TICKET_COLUMNS.split(',').count(), TICKET_WIDTH);
        assert_eq!(EVENT_COLUMNS.split(',').count(), EVENT_WIDTH);
    }
}
