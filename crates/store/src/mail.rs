//! The e-mail channel's intake: mailboxes (as people manage them), the leases that let one
//! node poll each mailbox, and turning one fetched message into a ticket or a reply.
//!
//! Exactly once: a message's row in `inbound_mail` is written in the same transaction as
//! the ticket or reply it became, under a unique (mailbox, Message-ID) key. The poller marks
//! the message on the IMAP server only after that commit; a crash in between fetches it
//! again, the key is found, and the message is only marked.

use crate::audit::Change;
use crate::db::{Backend, Store, Tx};
use crate::error::StoreError;
use crate::extras::{MAX_ATTACHMENT_BYTES, clean_filename, sniff_content_type};
use crate::sql::Sql;
use crate::tickets::{Comment, EventRecord, NewTicket};
use drifta_core::lang::Language;
use drifta_core::mail::{InboundMail, MailError, title_from_subject};
use drifta_core::seal::SecretKey;
use drifta_core::ticket::{Level, TicketKind, TicketStatus};
use drifta_core::validate::FieldError;
use drifta_core::{Actor, Permission, Role, Scope, TenantId, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A flood from one sender: more than this many tickets and replies from one address in
/// one hour are set aside instead of opening more tickets.
pub const MAX_MAILS_PER_SENDER_HOUR: i64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    /// TLS from the first byte (IMAPS, usually port 993).
    Tls,
    /// Plain connection upgraded with STARTTLS before logging in (usually port 143).
    Starttls,
}

impl MailSecurity {
    pub const fn as_str(self) -> &'static str {
        match self {
            MailSecurity::Tls => "tls",
            MailSecurity::Starttls => "starttls",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "tls" => Some(MailSecurity::Tls),
            "starttls" => Some(MailSecurity::Starttls),
            _ => None,
        }
    }
}

/// A shared mailbox's rule: mail from this domain or address goes to this municipality.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MailboxRoute {
    pub pattern: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Mailbox {
    pub id: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    /// A provider's shared mailbox, routed by `routes`.
    pub shared: bool,
    pub name: String,
    pub address: String,
    pub host: String,
    pub port: i64,
    pub security: MailSecurity,
    pub username: String,
    pub folder: String,
    pub poll_seconds: i64,
    pub enabled: bool,
    pub last_poll_at: Option<i64>,
    pub last_error: String,
    pub routes: Vec<MailboxRoute>,
}

/// A mailbox as entered on the form or in the API. An empty `password` on an update keeps
/// the stored one.
#[derive(Clone, Debug)]
pub struct NewMailbox {
    pub tenant_id: TenantId,
    pub name: String,
    pub address: String,
    pub host: String,
    pub port: i64,
    pub security: Option<MailSecurity>,
    pub username: String,
    pub password: String,
    pub folder: String,
    pub poll_seconds: i64,
    pub enabled: bool,
    /// (domain or address, municipality) for a provider's shared mailbox.
    pub routes: Vec<(String, TenantId)>,
}

/// What a poller needs for one round: the mailbox with its password opened.
#[derive(Clone, Debug)]
pub struct MailboxJob {
    pub id: String,
    pub tenant_id: TenantId,
    pub shared: bool,
    pub name: String,
    pub address: String,
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    pub username: String,
    pub password: String,
    pub folder: String,
    pub poll_seconds: i64,
    /// When the mailbox was added: older mail in it is history, not new requests.
    pub created_at: i64,
}

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ingested {
    Ticket {
        ticket_id: String,
        number: i64,
    },
    Reply {
        ticket_id: String,
        number: i64,
    },
    /// Not for a ticket (an auto-reply, a bounce, our own mail, a flood); kept for reading.
    Ignored {
        reason: String,
    },
    /// Could not be handled (unreadable, no sender, unrouted); kept for inspection.
    KeptAside {
        reason: String,
    },
    /// Taken before: the poller only has to mark it on the server.
    Duplicate,
}

/// One row of the intake log.
#[derive(Clone, Debug, Serialize)]
pub struct InboundEntry {
    pub id: String,
    pub mailbox_id: String,
    pub mailbox_name: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub message_id: String,
    pub from_address: String,
    pub subject: String,
    pub received_at: i64,
    pub outcome: String,
    pub reason: String,
    pub ticket_id: Option<String>,
    pub ticket_number: Option<i64>,
    pub size: i64,
    pub has_raw: bool,
}

const MAILBOX_SELECT: &str = "SELECT m.id, m.tenant_id, t.name, t.kind, m.name, m.address, m.host, m.port, m.security, m.username, m.folder, m.poll_seconds, m.enabled, m.last_poll_at, m.last_error FROM mailboxes m JOIN tenants t ON t.id = m.tenant_id";

type MailboxRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    i64,
    bool,
    Option<i64>,
    String,
);

fn mailbox_from(r: MailboxRow) -> Mailbox {
    Mailbox {
        id: r.0,
        tenant_id: TenantId::from_db(r.1),
        tenant_name: r.2,
        shared: r.3 == "provider",
        name: r.4,
        address: r.5,
        host: r.6,
        port: r.7,
        security: MailSecurity::parse(&r.8).unwrap_or(MailSecurity::Tls),
        username: r.9,
        folder: r.10,
        poll_seconds: r.11,
        enabled: r.12,
        last_poll_at: r.13,
        last_error: r.14,
        routes: Vec::new(),
    }
}

const INBOUND_SELECT: &str = "SELECT i.id, i.mailbox_id, m.name, i.tenant_id, t.name, i.message_id, i.from_address, i.subject, i.received_at, i.outcome, i.reason, i.ticket_id, tk.number, i.size, i.raw_sha256 FROM inbound_mail i JOIN mailboxes m ON m.id = i.mailbox_id JOIN tenants t ON t.id = i.tenant_id LEFT JOIN tickets tk ON tk.id = i.ticket_id";

type InboundRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<i64>,
    i64,
    Option<String>,
);

fn inbound_from(r: InboundRow) -> InboundEntry {
    InboundEntry {
        id: r.0,
        mailbox_id: r.1,
        mailbox_name: r.2,
        tenant_id: TenantId::from_db(r.3),
        tenant_name: r.4,
        message_id: r.5,
        from_address: r.6,
        subject: r.7,
        received_at: r.8,
        outcome: r.9,
        reason: r.10,
        ticket_id: r.11,
        ticket_number: r.12,
        size: r.13,
        has_raw: r.14.is_some(),
    }
}

fn invalid(field: &'static str, code: &'static str, message: &'static str) -> StoreError {
    StoreError::Invalid(FieldError::new(field, code, message))
}

fn no_secret_key() -> StoreError {
    invalid(
        "password",
        "no-secret-key",
        "cannot be stored: the server has no secret_key configured",
    )
}

/// A host name or address: no spaces, no scheme, no path.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// A route pattern: a domain ("fjordvik.kommune.no") or a whole address, lower-cased.
fn route_pattern(pattern: &str) -> Option<String> {
    let p = pattern.trim().to_lowercase();
    let p = p.strip_prefix('@').map(str::to_string).unwrap_or(p);
    let domain = p.rsplit_once('@').map_or(
        p.as_str(),
        |(local, d)| {
            if local.is_empty() { "" } else { d }
        },
    );
    let ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    ok.then_some(p)
}

/// Whether a sender matches a route pattern: the same address, the same domain, or a
/// subdomain of it (mail from skole.fjordvik.no matches fjordvik.no).
fn route_matches(pattern: &str, sender: &str) -> bool {
    if pattern.contains('@') {
        return pattern == sender;
    }
    let Some((_, domain)) = sender.rsplit_once('@') else {
        return false;
    };
    domain == pattern || domain.ends_with(&format!(".{pattern}"))
}

impl Store {
    /// Sets the key that seals mailbox passwords (`secret_key` in the configuration).
    pub fn with_secret_key(mut self, key: SecretKey) -> Self {
        self.secret_key = Some(std::sync::Arc::new(key));
        self
    }

    fn validate_mailbox(&self, new: &NewMailbox, creating: bool) -> Result<(), StoreError> {
        if new.name.trim().is_empty() || new.name.chars().count() > 100 {
            return Err(invalid(
                "name",
                "required",
                "is required (at most 100 characters)",
            ));
        }
        let address = new.address.trim();
        if !address.is_empty() && drifta_core::validate::email(address).is_err() {
            return Err(invalid(
                "address",
                "email-invalid",
                "must be an e-mail address",
            ));
        }
        if !valid_host(new.host.trim()) {
            return Err(invalid(
                "host",
                "host-invalid",
                "must be the mail server's host name, such as imap.example.no",
            ));
        }
        if !(1..=65535).contains(&new.port) {
            return Err(invalid(
                "port",
                "port-invalid",
                "must be a port from 1 to 65535",
            ));
        }
        if new.security.is_none() {
            return Err(invalid(
                "security",
                "security-invalid",
                "must be tls or starttls; Drifta never logs in without encryption",
            ));
        }
        if new.username.trim().is_empty() {
            return Err(invalid("username", "required", "is required"));
        }
        if creating && new.password.is_empty() {
            return Err(invalid("password", "required", "is required"));
        }
        if !new.password.is_empty() && self.secret_key.is_none() {
            return Err(no_secret_key());
        }
        if new.folder.trim().is_empty() || new.folder.chars().any(char::is_control) {
            return Err(invalid(
                "folder",
                "required",
                "is required (for example INBOX)",
            ));
        }
        if !(15..=3600).contains(&new.poll_seconds) {
            return Err(invalid(
                "poll_seconds",
                "poll-invalid",
                "must be from 15 to 3600 seconds",
            ));
        }
        Ok(())
    }

    /// Checks a mailbox's routes and returns them cleaned: only a provider's mailbox has
    /// routes, each pattern is a domain or an address given once, and each leads to one
    /// of the provider's municipalities that the scope may work in.
    async fn check_routes(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        routes: &[(String, TenantId)],
    ) -> Result<Vec<(String, TenantId)>, StoreError> {
        let (kind,): (String,) = self
            .fetch_optional(Sql::new("SELECT kind FROM tenants WHERE id = $1").arg(tenant.as_str()))
            .await?
            .ok_or(StoreError::NotFound)?;
        if kind != "provider" && !routes.is_empty() {
            return Err(invalid(
                "routes",
                "routes-municipal-mailbox",
                "only a provider's shared mailbox is routed; a municipality's mailbox opens all its tickets there",
            ));
        }
        let mut out: Vec<(String, TenantId)> = Vec::new();
        for (pattern, target) in routes {
            let pattern = route_pattern(pattern).ok_or_else(|| {
                invalid(
                    "routes",
                    "route-invalid",
                    "each route is a domain (fjordvik.kommune.no) or an address",
                )
            })?;
            let parent: Option<(Option<String>,)> = self
                .fetch_optional(
                    Sql::new("SELECT parent_id FROM tenants WHERE id = $1").arg(target.as_str()),
                )
                .await?;
            if parent.and_then(|p| p.0).as_deref() != Some(tenant.as_str())
                || !scope.can(target, Permission::Operate)
            {
                return Err(invalid(
                    "routes",
                    "route-other-provider",
                    "a route must lead to one of this provider's municipalities",
                ));
            }
            if out.iter().any(|(p, _)| *p == pattern) {
                return Err(invalid(
                    "routes",
                    "route-twice",
                    "a pattern is listed twice",
                ));
            }
            out.push((pattern, target.clone()));
        }
        Ok(out)
    }

    pub async fn create_mailbox(
        &self,
        scope: &Scope,
        new: &NewMailbox,
    ) -> Result<Mailbox, StoreError> {
        scope.require(&new.tenant_id, Permission::ManageTenants)?;
        self.validate_mailbox(new, true)?;
        let routes = self
            .check_routes(scope, &new.tenant_id, &new.routes)
            .await?;
        let sealed = self.seal_password(&new.password)?;
        let id = UserId::generate().to_string();
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO mailboxes (tenant_id, id, name, address, host, port, security, username, password_sealed, folder, poll_seconds, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
                .arg(new.tenant_id.as_str())
                .arg(id.as_str())
                .arg(new.name.trim())
                .arg(new.address.trim().to_lowercase())
                .arg(new.host.trim())
                .arg(new.port)
                .arg(new.security.unwrap_or(MailSecurity::Tls).as_str())
                .arg(new.username.trim())
                .arg(sealed)
                .arg(new.folder.trim())
                .arg(new.poll_seconds)
                .arg(new.enabled)
                .arg(now),
        )
        .await?;
        tx.write_routes(&id, &routes).await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&new.tenant_id),
                action: "create",
                object_type: "mailbox",
                object_id: &id,
                before: None,
                after: Some(mailbox_audit(new, &routes)),
            },
        )
        .await?;
        tx.commit().await?;
        self.mailbox(scope, &id).await
    }

    pub async fn update_mailbox(
        &self,
        scope: &Scope,
        id: &str,
        new: &NewMailbox,
    ) -> Result<Mailbox, StoreError> {
        let before = self.mailbox(scope, id).await?;
        scope.require(&before.tenant_id, Permission::ManageTenants)?;
        if new.tenant_id != before.tenant_id {
            return Err(invalid(
                "tenant",
                "mailbox-move",
                "a mailbox cannot move to another tenant; make a new one",
            ));
        }
        self.validate_mailbox(new, false)?;
        let routes = self
            .check_routes(scope, &new.tenant_id, &new.routes)
            .await?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let mut sql = Sql::new("UPDATE mailboxes SET name = ")
            .push_arg(new.name.trim())
            .push(", address = ")
            .push_arg(new.address.trim().to_lowercase())
            .push(", host = ")
            .push_arg(new.host.trim())
            .push(", port = ")
            .push_arg(new.port)
            .push(", security = ")
            .push_arg(new.security.unwrap_or(MailSecurity::Tls).as_str())
            .push(", username = ")
            .push_arg(new.username.trim())
            .push(", folder = ")
            .push_arg(new.folder.trim())
            .push(", poll_seconds = ")
            .push_arg(new.poll_seconds)
            .push(", enabled = ")
            .push_arg(new.enabled)
            // A changed mailbox is polled soon, so its owner sees at once whether it works.
            .push(", next_poll_at = 0, last_error = ''");
        if !new.password.is_empty() {
            sql = sql
                .push(", password_sealed = ")
                .push_arg(self.seal_password(&new.password)?);
        }
        tx.execute(
            sql.push(" WHERE id = ")
                .push_arg(id)
                .push(" AND tenant_id = ")
                .push_arg(before.tenant_id.as_str()),
        )
        .await?;
        tx.execute(Sql::new("DELETE FROM mailbox_routes WHERE mailbox_id = $1").arg(id))
            .await?;
        tx.write_routes(id, &routes).await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&before.tenant_id),
                action: "update",
                object_type: "mailbox",
                object_id: id,
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(mailbox_audit(new, &routes)),
            },
        )
        .await?;
        tx.commit().await?;
        self.mailbox(scope, id).await
    }

    /// Removes a mailbox with its routes and intake log; tickets it opened stay.
    pub async fn delete_mailbox(&self, scope: &Scope, id: &str) -> Result<(), StoreError> {
        let before = self.mailbox(scope, id).await?;
        scope.require(&before.tenant_id, Permission::ManageTenants)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        for table in ["mailbox_routes", "inbound_mail"] {
            tx.execute(Sql::new(format!("DELETE FROM {table} WHERE mailbox_id = $1")).arg(id))
                .await?;
        }
        tx.execute(
            Sql::new("DELETE FROM mailboxes WHERE id = $1 AND tenant_id = $2")
                .arg(id)
                .arg(before.tenant_id.as_str()),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&before.tenant_id),
                action: "delete",
                object_type: "mailbox",
                object_id: id,
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    fn seal_password(&self, password: &str) -> Result<String, StoreError> {
        if password.is_empty() {
            return Ok(String::new());
        }
        let key = self.secret_key.as_ref().ok_or_else(no_secret_key)?;
        Ok(key.seal(password))
    }

    pub async fn mailbox(&self, scope: &Scope, id: &str) -> Result<Mailbox, StoreError> {
        let row: Option<MailboxRow> = self
            .fetch_optional(
                Sql::new(format!("{MAILBOX_SELECT} WHERE m.id = "))
                    .push_arg(id)
                    .push(" AND ")
                    .in_scope(scope, Permission::ManageTenants, "m.tenant_id"),
            )
            .await?;
        let mut mailbox = row.map(mailbox_from).ok_or(StoreError::NotFound)?;
        mailbox.routes = self.mailbox_routes(&mailbox.id).await?;
        Ok(mailbox)
    }

    /// The mailboxes the scope manages, by tenant and name.
    pub async fn list_mailboxes(&self, scope: &Scope) -> Result<Vec<Mailbox>, StoreError> {
        let rows: Vec<MailboxRow> = self
            .fetch_all(
                Sql::new(format!("{MAILBOX_SELECT} WHERE "))
                    .in_scope(scope, Permission::ManageTenants, "m.tenant_id")
                    .push(" ORDER BY t.name, m.name, m.id"),
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut mailbox = mailbox_from(row);
            mailbox.routes = self.mailbox_routes(&mailbox.id).await?;
            out.push(mailbox);
        }
        Ok(out)
    }

    async fn mailbox_routes(&self, id: &str) -> Result<Vec<MailboxRoute>, StoreError> {
        let rows: Vec<(String, String, String)> = self
            .fetch_all(
                Sql::new("SELECT r.pattern, r.tenant_id, t.name FROM mailbox_routes r JOIN tenants t ON t.id = r.tenant_id WHERE r.mailbox_id = $1 ORDER BY r.pattern")
                    .arg(id),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| MailboxRoute {
                pattern: r.0,
                tenant_id: TenantId::from_db(r.1),
                tenant_name: r.2,
            })
            .collect())
    }

    /// The intake log, newest first: tickets and replies made, mail ignored and kept aside.
    /// Technicians see their municipalities' rows; administrators also their shared
    /// mailboxes' unrouted ones.
    pub async fn list_inbound_mail(
        &self,
        scope: &Scope,
        problems_only: bool,
        limit: i64,
    ) -> Result<Vec<InboundEntry>, StoreError> {
        let mut sql = Sql::new(format!("{INBOUND_SELECT} WHERE ")).in_scope(
            scope,
            Permission::Operate,
            "i.tenant_id",
        );
        if problems_only {
            sql = sql.push(" AND i.outcome IN ('ignored', 'kept_aside')");
        }
        let rows: Vec<InboundRow> = self
            .fetch_all(
                sql.push(" ORDER BY i.received_at DESC, i.id LIMIT ")
                    .push_arg(limit.clamp(1, 500)),
            )
            .await?;
        Ok(rows.into_iter().map(inbound_from).collect())
    }

    /// One logged message and its raw bytes (kept for ignored and kept-aside mail).
    pub async fn inbound_mail_raw(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<(InboundEntry, Vec<u8>), StoreError> {
        let row: Option<InboundRow> = self
            .fetch_optional(
                Sql::new(format!("{INBOUND_SELECT} WHERE i.id = "))
                    .push_arg(id)
                    .push(" AND ")
                    .in_scope(scope, Permission::Operate, "i.tenant_id"),
            )
            .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        let sha = row.14.clone().ok_or(StoreError::NotFound)?;
        let (data,): (Vec<u8>,) = self
            .fetch_optional(
                Sql::new("SELECT data FROM attachment_blobs WHERE sha256 = $1").arg(sha.as_str()),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((inbound_from(row), data))
    }

    // ---- Pollers: unscoped, they serve every tenant ----------------------------------

    /// Claims the mailbox that has waited longest for its poll, for `node` until
    /// `lease_ms` from now. A node restarted after a crash (same node name) takes its own
    /// unfinished mailbox again at once instead of waiting for the lease to run out. A mailbox whose password cannot be opened is skipped with the
    /// reason recorded on it.
    pub async fn claim_mailbox(
        &self,
        node: &str,
        lease_ms: i64,
    ) -> Result<Option<MailboxJob>, StoreError> {
        let now = self.now_ms();
        // Most rounds find nothing due; the read pool answers that without the writer.
        let due: Option<(String,)> = self
            .fetch_optional(
                Sql::new("SELECT id FROM mailboxes WHERE enabled = TRUE AND next_poll_at <= $1 AND (lease_until IS NULL OR lease_until < $1 OR lease_owner = $2) LIMIT 1")
                    .arg(now)
                    .arg(node),
            )
            .await?;
        if due.is_none() {
            return Ok(None);
        }
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        type Row = (
            String,
            String,
            String,
            String,
            String,
            i64,
            String,
            String,
            String,
            String,
            i64,
            i64,
        );
        let mut tx = self.begin().await?;
        let row: Option<Row> = tx
            .fetch_optional(
                Sql::new(format!("UPDATE mailboxes SET lease_owner = $1, lease_until = $2 WHERE id IN (SELECT id FROM mailboxes WHERE enabled = TRUE AND next_poll_at <= $3 AND (lease_until IS NULL OR lease_until < $3 OR lease_owner = $1) ORDER BY next_poll_at LIMIT 1{lock}) RETURNING id, tenant_id, name, address, host, port, security, username, password_sealed, folder, poll_seconds, created_at"))
                    .arg(node)
                    .arg(now + lease_ms)
                    .arg(now),
            )
            .await?;
        tx.commit().await?;
        let Some(r) = row else { return Ok(None) };
        let (kind,): (String,) = self
            .fetch_optional(Sql::new("SELECT kind FROM tenants WHERE id = $1").arg(r.1.as_str()))
            .await?
            .ok_or(StoreError::NotFound)?;
        let password = match self.secret_key.as_ref().map(|k| k.open(&r.8)) {
            Some(Ok(p)) => p,
            failed => {
                let reason = match failed {
                    Some(Err(e)) => e.to_string(),
                    _ => {
                        "no secret_key is configured, so the password cannot be opened".to_string()
                    }
                };
                self.finish_mailbox_poll(&r.0, node, r.10, Err(reason))
                    .await?;
                return Ok(None);
            }
        };
        Ok(Some(MailboxJob {
            id: r.0,
            tenant_id: TenantId::from_db(r.1),
            shared: kind == "provider",
            name: r.2,
            address: r.3,
            host: r.4,
            port: u16::try_from(r.5).unwrap_or(993),
            security: MailSecurity::parse(&r.6).unwrap_or(MailSecurity::Tls),
            username: r.7,
            password,
            folder: r.9,
            poll_seconds: r.10,
            created_at: r.11,
        }))
    }

    /// Extends a held lease; false when another node has taken the mailbox meanwhile.
    pub async fn renew_mailbox_lease(
        &self,
        id: &str,
        node: &str,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let now = self.now_ms();
        let done = self
            .execute(
                Sql::new(
                    "UPDATE mailboxes SET lease_until = $1 WHERE id = $2 AND lease_owner = $3",
                )
                .arg(now + lease_ms)
                .arg(id)
                .arg(node),
            )
            .await?;
        Ok(done > 0)
    }

    /// Ends a poll: releases the lease, records when and how it went, and sets the next
    /// poll. A failing mailbox is retried at its interval (at least a minute), with the
    /// reason shown on the mailbox page.
    pub async fn finish_mailbox_poll(
        &self,
        id: &str,
        node: &str,
        poll_seconds: i64,
        outcome: Result<usize, String>,
    ) -> Result<(), StoreError> {
        let now = self.now_ms();
        let (error, wait) = match &outcome {
            Ok(_) => (String::new(), poll_seconds),
            Err(reason) => (reason.chars().take(500).collect(), poll_seconds.max(60)),
        };
        self.execute(
            Sql::new("UPDATE mailboxes SET lease_owner = NULL, lease_until = NULL, last_poll_at = $1, last_error = $2, next_poll_at = $3 WHERE id = $4 AND (lease_owner = $5 OR lease_owner IS NULL)")
                .arg(now)
                .arg(error)
                .arg(now + wait * 1000)
                .arg(id)
                .arg(node),
        )
        .await?;
        Ok(())
    }

    /// Whether a message was taken already, so a poller can mark it without parsing it.
    pub async fn mail_taken(&self, mailbox_id: &str, dedup_key: &str) -> Result<bool, StoreError> {
        let row: Option<(String,)> = self
            .fetch_optional(
                Sql::new("SELECT id FROM inbound_mail WHERE mailbox_id = $1 AND dedup_key = $2")
                    .arg(mailbox_id)
                    .arg(dedup_key),
            )
            .await?;
        Ok(row.is_some())
    }

    /// Turns one fetched message into a ticket or a reply, or logs why not, in one
    /// transaction with its `inbound_mail` row (see the module comment).
    pub async fn ingest_mail(
        &self,
        job: &MailboxJob,
        raw: &[u8],
        parsed: Result<InboundMail, MailError>,
    ) -> Result<Ingested, StoreError> {
        let mail = match parsed {
            Ok(mail) => mail,
            Err(e) => {
                let key = format!("sha256:{}", hex::encode(Sha256::digest(raw)));
                let head = LogHead {
                    tenant: &job.tenant_id,
                    dedup_key: &key,
                    message_id: "",
                    from: "",
                    subject: "",
                };
                return self
                    .log_untaken(job, head, raw, "kept_aside", e.reason())
                    .await;
            }
        };
        if self.mail_taken(&job.id, &mail.dedup_key).await? {
            return Ok(Ingested::Duplicate);
        }
        let head = LogHead {
            tenant: &job.tenant_id,
            dedup_key: &mail.dedup_key,
            message_id: &mail.message_id,
            from: &mail.from_address,
            subject: &mail.subject,
        };
        // Routed first, so a municipality's technicians see the noise sent to it in their log.
        let routed = self.route_mail(job, &mail.from_address).await?;
        let head = LogHead {
            tenant: routed.as_ref().unwrap_or(&job.tenant_id),
            ..head
        };
        if let Some(noise) = mail.noise {
            return self
                .log_untaken(job, head, raw, "ignored", noise.as_str())
                .await;
        }
        if self.is_own_mail(job, &mail).await? {
            return self.log_untaken(job, head, raw, "ignored", "own").await;
        }
        let Some(tenant) = routed.clone() else {
            return self
                .log_untaken(job, head, raw, "kept_aside", "unrouted")
                .await;
        };
        let hour_ago = self.now_ms() - 3_600_000;
        let (recent,): (i64,) = self
            .fetch_optional(
                Sql::new("SELECT COUNT(*) FROM inbound_mail WHERE mailbox_id = $1 AND from_address = $2 AND received_at > $3 AND outcome IN ('ticket', 'reply')")
                    .arg(job.id.as_str())
                    .arg(mail.from_address.as_str())
                    .arg(hour_ago),
            )
            .await?
            .unwrap_or((0,));
        if recent >= MAX_MAILS_PER_SENDER_HOUR {
            return self
                .log_untaken(job, head, raw, "ignored", "rate-limited")
                .await;
        }
        let existing = self.thread_ticket(&tenant, &mail).await?;
        let requester = self.find_requester(&tenant, &mail.from_address).await?;
        match existing {
            Some((ticket_id, number, status)) => {
                self.mail_reply(job, head, &mail, requester, &ticket_id, number, status)
                    .await
            }
            None => self.mail_ticket(job, head, &mail, requester).await,
        }
    }

    /// Mail we sent ourselves (from the support address, or carrying one of our outbox
    /// Message-IDs) must never open a ticket, or two systems could answer each other forever.
    async fn is_own_mail(&self, job: &MailboxJob, mail: &InboundMail) -> Result<bool, StoreError> {
        if !job.address.is_empty() && mail.from_address == job.address {
            return Ok(true);
        }
        let local = mail.message_id.split('@').next().unwrap_or("");
        if local.is_empty() {
            return Ok(false);
        }
        let row: Option<(String,)> = self
            .fetch_optional(Sql::new("SELECT id FROM outbox WHERE id = $1").arg(local))
            .await?;
        Ok(row.is_some())
    }

    /// Which municipality a message belongs to: a municipality's own mailbox's, or for a
    /// shared mailbox the route matching the sender (the longest pattern wins), else the
    /// municipality of a known user with that address.
    async fn route_mail(
        &self,
        job: &MailboxJob,
        sender: &str,
    ) -> Result<Option<TenantId>, StoreError> {
        if !job.shared {
            return Ok(Some(job.tenant_id.clone()));
        }
        let routes = self.mailbox_routes(&job.id).await?;
        let best = routes
            .iter()
            .filter(|r| route_matches(&r.pattern, sender))
            .max_by_key(|r| (r.pattern.contains('@'), r.pattern.len()));
        if let Some(route) = best {
            return Ok(Some(route.tenant_id.clone()));
        }
        let known: Option<(String,)> = self
            .fetch_optional(
                Sql::new("SELECT u.tenant_id FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE LOWER(u.email) = $1 AND t.parent_id = $2 AND u.disabled = FALSE")
                    .arg(sender)
                    .arg(job.tenant_id.as_str()),
            )
            .await?;
        Ok(known.map(|(t,)| TenantId::from_db(t)))
    }

    /// The ticket a message answers: one whose mail it refers to (our thread root, one of
    /// our outbox messages, or an earlier message taken into the ticket), else a `[#N]`
    /// reference in its subject. Only tickets of the routed municipality count, and a
    /// closed ticket is not reopened by mail (a new ticket is made instead).
    async fn thread_ticket(
        &self,
        tenant: &TenantId,
        mail: &InboundMail,
    ) -> Result<Option<(String, i64, String)>, StoreError> {
        for id in &mail.thread_ids {
            let local = id.split('@').next().unwrap_or("");
            let found: Option<(String,)> = if let Some(ticket) = local.strip_prefix("ticket.") {
                Some((ticket.to_string(),))
            } else {
                let outbox: Option<(Option<String>,)> = self
                    .fetch_optional(
                        Sql::new("SELECT ticket_id FROM outbox WHERE id = $1").arg(local),
                    )
                    .await?;
                match outbox.and_then(|o| o.0) {
                    Some(t) => Some((t,)),
                    None => self
                        .fetch_optional(
                            Sql::new("SELECT ticket_id FROM inbound_mail WHERE message_id = $1 AND ticket_id IS NOT NULL AND tenant_id = $2")
                                .arg(id.as_str())
                                .arg(tenant.as_str()),
                        )
                        .await?,
                }
            };
            if let Some((ticket,)) = found
                && let Some(hit) = self.open_ticket_of(tenant, TicketRef::Id(&ticket)).await?
            {
                return Ok(Some(hit));
            }
        }
        if let Some(number) = mail.ticket_number {
            return self.open_ticket_of(tenant, TicketRef::Number(number)).await;
        }
        Ok(None)
    }

    async fn open_ticket_of(
        &self,
        tenant: &TenantId,
        which: TicketRef<'_>,
    ) -> Result<Option<(String, i64, String)>, StoreError> {
        let sql = Sql::new("SELECT id, number, status FROM tickets WHERE tenant_id = ")
            .push_arg(tenant.as_str());
        let sql = match which {
            TicketRef::Id(id) => sql.push(" AND id = ").push_arg(id),
            TicketRef::Number(number) => sql.push(" AND number = ").push_arg(number),
        };
        let row: Option<(String, i64, String)> = self.fetch_optional(sql).await?;
        Ok(row.filter(|r| r.2 != TicketStatus::Closed.as_str()))
    }

    /// A user with the sender's address who belongs to the municipality. `None` when the
    /// address is unknown (a contact is made in the ticket's transaction) or belongs to a
    /// user elsewhere (addresses are unique, so the ticket then names no requester).
    async fn find_requester(
        &self,
        tenant: &TenantId,
        address: &str,
    ) -> Result<Requester, StoreError> {
        let row: Option<(String, String, bool)> = self
            .fetch_optional(
                Sql::new("SELECT u.id, u.display_name, (u.tenant_id = $2 OR EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = u.id AND g.tenant_id = $2)) FROM users u WHERE LOWER(u.email) = $1")
                    .arg(address)
                    .arg(tenant.as_str()),
            )
            .await?;
        Ok(match row {
            Some((id, name, true)) => Requester::Known(UserId::from_db(id), name),
            Some(_) => Requester::Elsewhere,
            None => Requester::Unknown,
        })
    }

    /// Logs a message that opens nothing, keeping its raw bytes for inspection.
    async fn log_untaken(
        &self,
        job: &MailboxJob,
        head: LogHead<'_>,
        raw: &[u8],
        outcome: &str,
        reason: &str,
    ) -> Result<Ingested, StoreError> {
        let sha = hex::encode(Sha256::digest(raw));
        let mut tx = self.begin().await?;
        if !tx
            .log_inbound(
                job,
                &head,
                raw.len(),
                outcome,
                reason,
                None,
                Some(&sha),
                self.now_ms(),
            )
            .await?
        {
            drop(tx);
            return Ok(Ingested::Duplicate);
        }
        tx.store_blob(&sha, raw).await?;
        tx.commit().await?;
        let reason = reason.to_string();
        Ok(if outcome == "ignored" {
            Ingested::Ignored { reason }
        } else {
            tracing::warn!(mailbox = %job.name, %reason, from = head.from, "mail kept aside");
            Ingested::KeptAside { reason }
        })
    }

    async fn mail_ticket(
        &self,
        job: &MailboxJob,
        head: LogHead<'_>,
        mail: &InboundMail,
        requester: Requester,
    ) -> Result<Ingested, StoreError> {
        let tenant = head.tenant.clone();
        let lang = self.language_of(&tenant).await?;
        let mut title = title_from_subject(&mail.subject);
        if title.is_empty() {
            title = self.texts.text(
                lang,
                "mail-ticket-no-subject",
                &[("from", &mail.from_address)],
            );
        }
        let title: String = title.chars().take(120).collect();
        let mut description = mail.body.clone();
        if matches!(requester, Requester::Elsewhere) {
            let note = self
                .texts
                .text(lang, "mail-ticket-sender", &[("from", &mail.from_address)]);
            description = format!("{note}\n\n{description}");
        }
        let description: String = description.chars().take(100_000).collect();
        let new = NewTicket {
            tenant_id: tenant.clone(),
            kind: TicketKind::Incident,
            title: title.clone(),
            description,
            requester_id: None,
            location_id: None,
            category: String::new(),
            impact: Level::Medium,
            urgency: Level::Medium,
            channel: "email".into(),
        };
        let row = self.plan_ticket(&new, title).await?;
        let (ticket_id, now) = (row.id.clone(), row.now);
        let mut tx = self.begin().await?;
        if !tx
            .log_inbound(
                job,
                &head,
                mail_size(mail),
                "ticket",
                &skipped_reason(mail),
                Some(&ticket_id),
                None,
                now,
            )
            .await?
        {
            drop(tx);
            return Ok(Ingested::Duplicate);
        }
        let actor = tx.mail_actor(&tenant, mail, &requester, now).await?;
        let new = NewTicket {
            requester_id: actor
                .user_id
                .clone()
                .filter(|_| !matches!(requester, Requester::Elsewhere)),
            ..new
        };
        let number = tx.insert_ticket(&actor, &new, &row).await?;
        tx.mail_attachments(&tenant, &ticket_id, mail, &actor, now, lang, &self.texts)
            .await?;
        tx.notify_new_ticket(&tenant, &ticket_id, &actor, now)
            .await?;
        tx.commit().await?;
        failpoint("mail-after-commit");
        Ok(Ingested::Ticket { ticket_id, number })
    }

    #[allow(clippy::too_many_arguments)]
    async fn mail_reply(
        &self,
        job: &MailboxJob,
        head: LogHead<'_>,
        mail: &InboundMail,
        requester: Requester,
        ticket_id: &str,
        number: i64,
        status: String,
    ) -> Result<Ingested, StoreError> {
        let tenant = head.tenant.clone();
        let lang = self.language_of(&tenant).await?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        if !tx
            .log_inbound(
                job,
                &head,
                mail_size(mail),
                "reply",
                &skipped_reason(mail),
                Some(ticket_id),
                None,
                now,
            )
            .await?
        {
            drop(tx);
            return Ok(Ingested::Duplicate);
        }
        let actor = tx.mail_actor(&tenant, mail, &requester, now).await?;
        let body = if mail.body.trim().is_empty() {
            self.texts.text(lang, "mail-reply-empty", &[])
        } else {
            mail.body.clone()
        };
        // The one working on the ticket, and its watchers, hear of the answer.
        let (assignee, title): (Option<String>, String) = tx
            .fetch_optional(
                Sql::new("SELECT assignee_id, title FROM tickets WHERE tenant_id = $1 AND id = $2")
                    .arg(tenant.as_str())
                    .arg(ticket_id),
            )
            .await?
            .unwrap_or((None, String::new()));
        let assignee = assignee.map(UserId::from_db);
        tx.record_comment(Comment {
            ticket: crate::alerts::TicketHead {
                tenant: &tenant,
                id: ticket_id,
                number,
                title: &title,
            },
            actor: &actor,
            body: &body,
            public: true,
            channel: Some("email"),
            first_response: false,
            tell: assignee.as_ref(),
            now,
        })
        .await?;
        tx.mail_attachments(&tenant, ticket_id, mail, &actor, now, lang, &self.texts)
            .await?;
        tx.commit().await?;
        failpoint("mail-after-commit");
        // An answer from the requester takes a waiting or resolved ticket back up. After the
        // commit: the reply is safe whatever happens here, and set_status keeps the SLA
        // pauses and due times right.
        let waiting = [TicketStatus::WaitingRequester, TicketStatus::Resolved]
            .iter()
            .any(|s| s.as_str() == status);
        if waiting {
            let system = Scope::new(actor.clone(), [(tenant.clone(), Role::Technician)]);
            self.set_status(&system, ticket_id, TicketStatus::Open)
                .await?;
        }
        Ok(Ingested::Reply {
            ticket_id: ticket_id.to_string(),
            number,
        })
    }

    async fn language_of(&self, tenant: &TenantId) -> Result<Language, StoreError> {
        let row: Option<(String,)> = self
            .fetch_optional(
                Sql::new("SELECT language FROM tenants WHERE id = $1").arg(tenant.as_str()),
            )
            .await?;
        Ok(row
            .and_then(|(l,)| Language::from_code(&l))
            .unwrap_or(Language::Nb))
    }
}

/// How a message names the ticket it answers: by our Message-IDs, or `[#N]` in its subject.
enum TicketRef<'a> {
    Id(&'a str),
    Number(i64),
}

/// The fields of a log row known before the message's fate.
struct LogHead<'a> {
    tenant: &'a TenantId,
    dedup_key: &'a str,
    message_id: &'a str,
    from: &'a str,
    subject: &'a str,
}

enum Requester {
    Known(UserId, String),
    Elsewhere,
    Unknown,
}

fn mail_size(mail: &InboundMail) -> usize {
    mail.body.len()
        + mail
            .attachments
            .iter()
            .map(|a| a.bytes.len())
            .sum::<usize>()
}

/// Attachments left out, for the log row: "big.iso (too-large), …".
fn skipped_reason(mail: &InboundMail) -> String {
    mail.skipped
        .iter()
        .map(|s| format!("{} ({:?})", s.filename, s.reason))
        .collect::<Vec<_>>()
        .join(", ")
        .chars()
        .take(500)
        .collect()
}

fn mailbox_audit(new: &NewMailbox, routes: &[(String, TenantId)]) -> serde_json::Value {
    // Never the password, not even sealed.
    serde_json::json!({
        "name": new.name.trim(), "address": new.address.trim(), "host": new.host.trim(),
        "port": new.port, "security": new.security.map(MailSecurity::as_str),
        "username": new.username.trim(), "folder": new.folder.trim(),
        "poll_seconds": new.poll_seconds, "enabled": new.enabled,
        "password_changed": !new.password.is_empty(),
        "routes": routes.iter().map(|(p, t)| serde_json::json!({"pattern": p, "tenant": t.as_str()})).collect::<Vec<_>>(),
    })
}

/// Lets a test kill the process at a named point (`DRIFTA_FAILPOINT=mail-after-commit`), to
/// prove that a crash there neither loses nor duplicates anything. Costs one environment
/// lookup per message.
fn failpoint(name: &str) {
    if std::env::var("DRIFTA_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
}

impl Tx {
    async fn write_routes(
        &mut self,
        mailbox: &str,
        routes: &[(String, TenantId)],
    ) -> Result<(), StoreError> {
        for (pattern, tenant) in routes {
            self.execute(
                Sql::new("INSERT INTO mailbox_routes (mailbox_id, pattern, tenant_id) VALUES ($1, $2, $3)")
                    .arg(mailbox)
                    .arg(pattern.as_str())
                    .arg(tenant.as_str()),
            )
            .await?;
        }
        Ok(())
    }

    /// Writes the message's log row; false when the (mailbox, Message-ID) key is taken,
    /// that is, when another poll got there first.
    #[allow(clippy::too_many_arguments)]
    async fn log_inbound(
        &mut self,
        job: &MailboxJob,
        head: &LogHead<'_>,
        size: usize,
        outcome: &str,
        reason: &str,
        ticket: Option<&str>,
        raw_sha: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let written = self
            .execute(
                Sql::new("INSERT INTO inbound_mail (tenant_id, id, mailbox_id, dedup_key, message_id, from_address, subject, received_at, outcome, reason, ticket_id, raw_sha256, size) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (mailbox_id, dedup_key) DO NOTHING")
                    .arg(head.tenant.as_str())
                    .arg(UserId::generate().to_string())
                    .arg(job.id.as_str())
                    .arg(head.dedup_key)
                    .arg(head.message_id)
                    .arg(head.from)
                    .arg(head.subject)
                    .arg(now)
                    .arg(outcome)
                    .arg(reason)
                    .arg(ticket)
                    .arg(raw_sha)
                    .arg(size as i64),
            )
            .await?;
        Ok(written > 0)
    }

    /// Who the mail is from, as the ticket's history and the audit log name them: the known
    /// requester, or a new contact made now (a requester without a password, who can be
    /// invited to the portal later), or only the address when it belongs to a user
    /// elsewhere.
    async fn mail_actor(
        &mut self,
        tenant: &TenantId,
        mail: &InboundMail,
        requester: &Requester,
        now: i64,
    ) -> Result<Actor, StoreError> {
        let name = if mail.from_name.trim().is_empty() {
            mail.from_address.clone()
        } else {
            mail.from_name.trim().chars().take(100).collect()
        };
        match requester {
            Requester::Known(id, display) => Ok(Actor::user(id.clone(), display.clone(), "e-mail")),
            Requester::Elsewhere => Ok(Actor {
                user_id: None,
                name: format!("{name} <{}>", mail.from_address),
                ip: "e-mail".into(),
            }),
            Requester::Unknown => {
                let id = UserId::generate();
                // Usernames are unique; an address is too, so it makes a free username
                // unless someone chose it as theirs.
                let taken: Option<(String,)> = self
                    .fetch_optional(
                        Sql::new("SELECT id FROM users WHERE username = $1")
                            .arg(mail.from_address.as_str()),
                    )
                    .await?;
                let username = match taken {
                    None => mail.from_address.clone(),
                    Some(_) => format!("{}-{}", mail.from_address, &id.as_str()[..8]),
                };
                self.execute(
                    Sql::new("INSERT INTO users (id, tenant_id, username, email, display_name, phone, language, disabled, password_hash, created_at, password_changed_at, search_text) VALUES ($1, $2, $3, $4, $5, '', NULL, FALSE, NULL, $6, NULL, $7)")
                        .arg(id.as_str())
                        .arg(tenant.as_str())
                        .arg(username.as_str())
                        .arg(mail.from_address.as_str())
                        .arg(name.as_str())
                        .arg(now)
                        .arg(crate::users::search_text(&name, &username, &mail.from_address, "")),
                )
                .await?;
                self.execute(
                    Sql::new("INSERT INTO role_grants (tenant_id, user_id, role) VALUES ($1, $2, 'requester')")
                        .arg(tenant.as_str())
                        .arg(id.as_str()),
                )
                .await?;
                let actor = Actor::user(id.clone(), name.clone(), "e-mail");
                self.audit(
                    &actor,
                    now,
                    Change {
                        tenant: Some(tenant),
                        action: "create",
                        object_type: "user",
                        object_id: id.as_str(),
                        before: None,
                        after: Some(serde_json::json!({"username": username, "email": mail.from_address, "display_name": name, "role": "requester", "source": "e-mail"})),
                    },
                )
                .await?;
                Ok(actor)
            }
        }
    }

    /// Attaches the message's files that are allowed; the rest are named in an internal
    /// note so the technician knows to ask for them another way.
    #[allow(clippy::too_many_arguments)]
    async fn mail_attachments(
        &mut self,
        tenant: &TenantId,
        ticket_id: &str,
        mail: &InboundMail,
        actor: &Actor,
        now: i64,
        lang: Language,
        texts: &std::sync::Arc<dyn drifta_core::lang::Texts>,
    ) -> Result<(), StoreError> {
        let mut left_out: Vec<String> = mail
            .skipped
            .iter()
            .map(|s| format!("{} ({} kB)", s.filename, s.size.div_ceil(1024)))
            .collect();
        for file in &mail.attachments {
            let allowed = (!file.bytes.is_empty() && file.bytes.len() <= MAX_ATTACHMENT_BYTES)
                .then(|| sniff_content_type(&file.bytes))
                .flatten();
            let Some(content_type) = allowed else {
                left_out.push(format!(
                    "{} ({} kB)",
                    file.filename,
                    file.bytes.len().div_ceil(1024)
                ));
                continue;
            };
            let sha = hex::encode(Sha256::digest(&file.bytes));
            self.store_blob(&sha, &file.bytes).await?;
            self.execute(
                Sql::new("INSERT INTO attachments (tenant_id, id, ticket_id, filename, content_type, size, sha256, uploaded_at, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .arg(tenant.as_str())
                    .arg(UserId::generate().to_string())
                    .arg(ticket_id)
                    .arg(clean_filename(&file.filename))
                    .arg(content_type)
                    .arg(file.bytes.len() as i64)
                    .arg(sha.as_str())
                    .arg(now)
                    .arg(actor.name.as_str()),
            )
            .await?;
        }
        if !left_out.is_empty() {
            let body = texts.text(
                lang,
                "mail-attachments-left-out",
                &[("files", &left_out.join(", "))],
            );
            let drifta = Actor {
                user_id: None,
                name: "Drifta".into(),
                ip: String::new(),
            };
            self.ticket_event(
                tenant,
                ticket_id,
                now,
                &drifta,
                EventRecord {
                    kind: "note",
                    public: false,
                    body: &body,
                    data: None,
                },
            )
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_patterns_are_domains_or_addresses() {
        assert_eq!(
            route_pattern(" Fjordvik.Kommune.NO ").as_deref(),
            Some("fjordvik.kommune.no")
        );
        assert_eq!(
            route_pattern("@fjordvik.no").as_deref(),
            Some("fjordvik.no")
        );
        assert_eq!(
            route_pattern("Kari@Fjordvik.no").as_deref(),
            Some("kari@fjordvik.no")
        );
        for bad in [
            "",
            "fjordvik",
            ".no",
            "fjordvik.",
            "fjord vik.no",
            "@",
            "a@",
            "@@x.no",
            "x;y.no",
        ] {
            assert_eq!(route_pattern(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn routes_match_the_address_the_domain_and_its_subdomains() {
        assert!(route_matches("fjordvik.no", "kari@fjordvik.no"));
        assert!(route_matches("fjordvik.no", "ola@skole.fjordvik.no"));
        assert!(!route_matches("fjordvik.no", "eve@notfjordvik.no"));
        assert!(!route_matches("fjordvik.no", "eve@fjordvik.no.evil.com"));
        assert!(route_matches("kari@fjordvik.no", "kari@fjordvik.no"));
        assert!(!route_matches("kari@fjordvik.no", "ola@fjordvik.no"));
        assert!(!route_matches("fjordvik.no", "not-an-address"));
    }

    #[test]
    fn hosts_are_names_not_urls() {
        assert!(valid_host("imap.example.no"));
        assert!(valid_host("127.0.0.1"));
        assert!(valid_host("[::1]"));
        for bad in ["", "imaps://x.no", "x.no/inbox", "x .no", "x.no\n"] {
            assert!(!valid_host(bad), "{bad:?}");
        }
    }

    #[test]
    fn security_modes_round_trip_and_there_is_no_plain_one() {
        for s in [MailSecurity::Tls, MailSecurity::Starttls] {
            assert_eq!(MailSecurity::parse(s.as_str()), Some(s));
        }
        assert_eq!(MailSecurity::parse("none"), None);
        assert_eq!(MailSecurity::parse("plain"), None);
    }
}
