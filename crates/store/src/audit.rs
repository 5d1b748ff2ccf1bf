//! Appending to and reading the hash-chained audit log.

use crate::db::{Backend, Store, Tx};
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::audit::{AuditEntry, ChainBreak, ChainHead, ChainVerifier};
use drifta_core::{Actor, Permission, Scope, TenantId, UserId};

/// One change to record. `before`/`after` are JSON snapshots of the object.
pub(crate) struct Change<'a> {
    pub tenant: Option<&'a TenantId>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub tenant: Option<TenantId>,
    pub object_type: Option<String>,
    /// Only entries older than this sequence number (keyset paging, newest first).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

#[derive(Clone, Debug)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before_seq` for the next page, when there is one.
    pub next_before_seq: Option<i64>,
}

type EntryRow = (
    i64,
    String,
    i64,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

const ENTRY_COLUMNS: &str = "seq, id, at, actor_id, actor_name, tenant_id, action, object_type, object_id, before_json, after_json, ip, prev_hash, hash";

fn entry_from_row(r: EntryRow) -> AuditEntry {
    AuditEntry {
        seq: r.0,
        id: r.1,
        at: r.2,
        actor_id: r.3.map(UserId::from_db),
        actor_name: r.4,
        tenant_id: r.5.map(TenantId::from_db),
        action: r.6,
        object_type: r.7,
        object_id: r.8,
        before: r.9,
        after: r.10,
        ip: r.11,
        prev_hash: r.12,
        hash: r.13,
    }
}

impl Tx {
    /// Appends one entry inside the caller's transaction, so the change and its record
    /// commit or vanish together.
    pub(crate) async fn audit(
        &mut self,
        actor: &Actor,
        at_ms: i64,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        // Locking the head row serialises appends across nodes on PostgreSQL; SQLite's
        // write transaction already holds the only write lock.
        let head_sql = match self.backend() {
            Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
            Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        };
        let (seq, hash): (i64, String) = self
            .fetch_optional(Sql::new(head_sql))
            .await?
            .ok_or(StoreError::NotFound)?;
        let entry = AuditEntry {
            seq: 0,
            id: uuid_v7(),
            at: at_ms,
            actor_id: actor.user_id.clone(),
            actor_name: actor.name.clone(),
            tenant_id: change.tenant.cloned(),
            action: change.action.to_string(),
            object_type: change.object_type.to_string(),
            object_id: change.object_id.to_string(),
            before: change.before.map(|v| v.to_string()),
            after: change.after.map(|v| v.to_string()),
            ip: actor.ip.clone(),
            prev_hash: String::new(),
            hash: String::new(),
        }
        .seal(&ChainHead { seq, hash });
        self.execute(
            Sql::new(format!(
                "INSERT INTO audit_log ({ENTRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ))
            .arg(entry.seq)
            .arg(entry.id)
            .arg(entry.at)
            .arg(entry.actor_id.map(|u| u.to_string()))
            .arg(entry.actor_name)
            .arg(entry.tenant_id.map(|t| t.to_string()))
            .arg(entry.action)
            .arg(entry.object_type)
            .arg(entry.object_id)
            .arg(entry.before)
            .arg(entry.after)
            .arg(entry.ip)
            .arg(entry.prev_hash)
            .arg(entry.hash.clone()),
        )
        .await?;
        self.execute(
            Sql::new("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .arg(entry.seq)
                .arg(entry.hash),
        )
        .await?;
        Ok(())
    }
}

fn uuid_v7() -> String {
    // Audit entries are not a typed aggregate; any id type generates the same UUIDv7 text.
    UserId::generate().to_string()
}

impl Store {
    /// Records an event that changes nothing else (a sign-in, a failed sign-in).
    pub(crate) async fn audit_event(
        &self,
        actor: &Actor,
        change: Change<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.audit(actor, self.now_ms(), change).await?;
        tx.commit().await
    }

    /// Entries the scope may read, newest first. Entries without a tenant (failed
    /// sign-ins with unknown names, installation events) are shown to those who may read
    /// the audit log of a provider, the root of a tenant tree.
    pub async fn list_audit(
        &self,
        scope: &Scope,
        filter: &AuditFilter,
    ) -> Result<AuditPage, StoreError> {
        let limit = filter.limit.clamp(1, 500);
        let mut sql = Sql::new(format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE ("))
            .in_scope(scope, Permission::ReadAudit, "tenant_id")
            .push(" OR (tenant_id IS NULL AND EXISTS (SELECT 1 FROM tenants WHERE parent_id IS NULL AND ")
            .in_scope(scope, Permission::ReadAudit, "id")
            .push(")))");
        if let Some(tenant) = &filter.tenant {
            sql = sql.push(" AND tenant_id = ").push_arg(tenant.as_str());
        }
        if let Some(kind) = &filter.object_type {
            sql = sql.push(" AND object_type = ").push_arg(kind.as_str());
        }
        if let Some(before) = filter.before_seq {
            sql = sql.push(" AND seq < ").push_arg(before);
        }
        sql = sql.push(" ORDER BY seq DESC LIMIT ").push_arg(limit + 1);
        let mut entries: Vec<AuditEntry> = self
            .fetch_all::<EntryRow>(sql)
            .await?
            .into_iter()
            .map(entry_from_row)
            .collect();
        let next_before_seq = if entries.len() as i64 > limit {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage {
            entries,
            next_before_seq,
        })
    }

    /// Walks the whole chain in order. Installation maintenance (`drifta audit verify`),
    /// so it is not scoped; it returns only a count or the first broken entry.
    pub async fn verify_audit_chain(&self) -> Result<Result<i64, ChainBreak>, StoreError> {
        let mut verifier = ChainVerifier::default();
        let mut after = 0i64;
        loop {
            let rows = self
                .fetch_all::<EntryRow>(
                    Sql::new(format!(
                        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000"
                    ))
                    .arg(after),
                )
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            for row in rows {
                if let Err(e) = verifier.check(&entry_from_row(row)) {
                    return Ok(Err(e));
                }
            }
        }
        let (seq, hash): (i64, String) = self
            .fetch_optional(Sql::new("SELECT seq, hash FROM audit_head WHERE id = 1"))
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(verifier.finish(&ChainHead { seq, hash }))
    }
}
