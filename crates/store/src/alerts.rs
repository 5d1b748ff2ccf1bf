//! Alert routes and the outbox.
//!
//! A state change is written together with the alerts it causes, in one transaction
//! ([`Tx::monitor_state_changed`]), so an alert can be neither lost nor sent for a change
//! that did not commit. Senders then claim due rows with a lease
//! ([`Store::claim_outbox`]), deliver them and report back ([`Store::finish_outbox`]);
//! rows a dead node left behind are claimed again once the lease has run out. Delivery
//! is therefore at least once: a node killed between sending and recording sends that
//! one message twice, which beats losing an outage alert.

use crate::audit::Change;
use crate::db::{Backend, Store, Tx};
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::alert::{self, AlertEvent, AlertKind, Channel, Route, Threshold, WebhookFormat};
use drifta_core::monitor::MonitorState;
use drifta_core::notify::{DueTarget, TicketMail, TicketMailKind, ticket_reference};
use drifta_core::{Actor, Language, Permission, Scope, TenantId, UserId};
use serde::Serialize;

/// A configured destination for a municipality's alerts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertRoute {
    pub id: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub channel: Channel,
    pub target: String,
    pub format: WebhookFormat,
    pub threshold: Threshold,
    pub delay_minutes: i64,
    pub lang: Language,
}

/// What an outbox message is about.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    Alert(AlertEvent),
    Ticket(TicketMail),
}

/// A message in the outbox, as a sender needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxMessage {
    pub id: String,
    pub channel: Channel,
    pub target: String,
    pub format: WebhookFormat,
    pub lang: Language,
    pub payload: Payload,
    /// Wait-and-see alert: dropped when the incident is over or its ticket is taken.
    pub escalation: bool,
    pub monitor_id: Option<String>,
    pub incident_at: Option<i64>,
    /// Including the one now claimed.
    pub attempts: i64,
}

/// How a delivery went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Worth trying again later (timeouts, 5xx, SMTP temporary errors).
    Retry(String),
    /// Will not work by waiting (bad address, 4xx, channel not configured).
    Failed(String),
    /// No longer wanted (an escalation whose incident is over or taken).
    Cancelled(String),
}

/// One row of the delivery log people see.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutboxEntry {
    pub id: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub channel: String,
    pub target: String,
    pub kind: String,
    pub monitor_id: Option<String>,
    /// The monitor's name, or for ticket mail the ticket's reference and title.
    pub monitor: String,
    pub ticket_id: Option<String>,
    pub state: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: String,
    pub created_at: i64,
    pub not_before: i64,
    pub sent_at: Option<i64>,
}

/// The outbox key that keeps alerts to one per route, monitor, incident and kind.
fn incident_key(route: &AlertRoute, event: &AlertEvent) -> String {
    format!(
        "{}:{}:{}:{}",
        route.id,
        event.monitor_id,
        event.since,
        event.kind.as_str()
    )
}

/// What mail about a ticket needs of it.
#[derive(Clone, Copy)]
pub(crate) struct TicketHead<'a> {
    pub tenant: &'a TenantId,
    pub id: &'a str,
    pub number: i64,
    pub title: &'a str,
}

/// A monitor's state change as written to history, audit and alerts.
pub(crate) struct StateEvent<'a> {
    pub tenant: &'a TenantId,
    pub monitor_id: &'a str,
    pub name: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub at: i64,
    pub reason: &'a str,
    /// Not silenced by maintenance or flap damping: people hear about it.
    pub announced: bool,
}

impl StateEvent<'_> {
    /// What the outbox keeps of this change for an alert of `kind`.
    fn alert(
        &self,
        kind: AlertKind,
        state: MonitorState,
        since: i64,
        municipality: String,
        time_zone: String,
    ) -> AlertEvent {
        AlertEvent {
            kind,
            monitor_id: self.monitor_id.to_string(),
            monitor: self.name.to_string(),
            municipality,
            state,
            reason: self.reason.to_string(),
            since,
            at: self.at,
            time_zone,
        }
    }
}

const OUTBOX_SELECT: &str = "SELECT o.id, o.tenant_id, t.name, o.channel, o.target, o.kind, o.monitor_id, o.event, o.status, o.last_error, o.attempts, o.ticket_id, o.created_at, o.not_before, o.sent_at FROM outbox o JOIN tenants t ON t.id = o.tenant_id";

const ROUTE_SELECT: &str = "SELECT r.id, r.tenant_id, t.name, r.channel, r.target, r.format, r.threshold, r.delay_minutes, r.lang FROM alert_routes r JOIN tenants t ON t.id = r.tenant_id";

type RouteRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
);

fn route_from(r: RouteRow) -> AlertRoute {
    AlertRoute {
        id: r.0,
        tenant_id: TenantId::from_db(r.1),
        tenant_name: r.2,
        channel: Channel::parse(&r.3).unwrap_or(Channel::Email),
        target: r.4,
        format: WebhookFormat::parse(&r.5).unwrap_or(WebhookFormat::Generic),
        threshold: Threshold::parse(&r.6).unwrap_or(Threshold::Down),
        delay_minutes: r.7,
        lang: Language::from_code(&r.8).unwrap_or(Language::Nb),
    }
}

impl Tx {
    /// Writes what every state change of a monitor leaves behind: the history row, the
    /// audit entry, and the alerts it opens, escalates or closes. The caller has already
    /// updated the monitor's state (claiming the change).
    pub(crate) async fn monitor_state_changed(
        &mut self,
        event: StateEvent<'_>,
        actor: &Actor,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            Sql::new("INSERT INTO monitor_events (tenant_id, monitor_id, at, from_state, to_state, reason) VALUES ($1, $2, $3, $4, $5, $6)")
                .arg(event.tenant.as_str())
                .arg(event.monitor_id)
                .arg(event.at)
                .arg(event.from)
                .arg(event.to)
                .arg(event.reason),
        )
        .await?;
        let action = match (event.from, event.to) {
            (_, "paused") => "pause",
            ("paused", _) => "resume",
            _ => "state",
        };
        self.audit(
            actor,
            now,
            Change {
                tenant: Some(event.tenant),
                action,
                object_type: "monitor",
                object_id: event.monitor_id,
                before: Some(serde_json::json!({ "state": event.from })),
                after: Some(serde_json::json!({ "state": event.to, "reason": event.reason })),
            },
        )
        .await?;
        self.queue_alerts(&event, now).await
    }

    /// One problem alert per route and incident, one recovery alert to the routes that
    /// heard about the problem; queued escalations of an incident that ended are dropped.
    async fn queue_alerts(&mut self, event: &StateEvent<'_>, now: i64) -> Result<(), StoreError> {
        let to = MonitorState::parse(event.to).unwrap_or(MonitorState::Up);
        let incident: Option<(Option<i64>, String, String)> = self
            .fetch_optional(
                Sql::new("SELECT m.incident_at, t.name, t.time_zone FROM monitors m JOIN tenants t ON t.id = m.tenant_id WHERE m.id = $1")
                    .arg(event.monitor_id),
            )
            .await?;
        let Some((incident_at, municipality, time_zone)) = incident else {
            return Ok(());
        };
        if to.is_problem() {
            if !event.announced {
                return Ok(());
            }
            let since = match incident_at {
                Some(since) => since,
                None => {
                    self.execute(
                        Sql::new("UPDATE monitors SET incident_at = $1 WHERE id = $2")
                            .arg(event.at)
                            .arg(event.monitor_id),
                    )
                    .await?;
                    event.at
                }
            };
            let routes: Vec<RouteRow> = self
                .fetch_all(
                    Sql::new(format!("{ROUTE_SELECT} WHERE r.tenant_id = $1"))
                        .arg(event.tenant.as_str()),
                )
                .await?;
            let alert = event.alert(
                AlertKind::Problem,
                to,
                since,
                municipality,
                time_zone.clone(),
            );
            for route in routes.into_iter().map(route_from) {
                if !route.threshold.wants(to) {
                    continue;
                }
                let due = (since + route.delay_minutes * 60_000).max(now);
                let dedup = incident_key(&route, &alert);
                self.insert_outbox(&route, &alert, dedup, due, route.delay_minutes > 0, now)
                    .await?;
            }
            return Ok(());
        }
        if to == MonitorState::Maintenance {
            // Planned work inside an outage does not end it; the window silences alerts.
            return Ok(());
        }
        let Some(since) = incident_at else {
            return Ok(());
        };
        self.execute(
            Sql::new("UPDATE monitors SET incident_at = NULL WHERE id = $1").arg(event.monitor_id),
        )
        .await?;
        self.execute(
            Sql::new("UPDATE outbox SET status = 'cancelled', last_error = 'the incident ended before the alert was due' WHERE monitor_id = $1 AND incident_at = $2 AND kind = 'problem' AND status = 'queued'")
                .arg(event.monitor_id)
                .arg(since),
        )
        .await?;
        if !event.announced || to != MonitorState::Up {
            return Ok(());
        }
        let told: Vec<(String,)> = self
            .fetch_all(
                Sql::new("SELECT route_id FROM outbox WHERE monitor_id = $1 AND incident_at = $2 AND kind = 'problem' AND status IN ('sending', 'sent', 'failed') AND route_id IS NOT NULL")
                    .arg(event.monitor_id)
                    .arg(since),
            )
            .await?;
        if told.is_empty() {
            return Ok(());
        }
        let routes: Vec<RouteRow> = self
            .fetch_all(
                Sql::new(format!("{ROUTE_SELECT} WHERE r.tenant_id = "))
                    .push_arg(event.tenant.as_str())
                    .push(" AND ")
                    .push_in("r.id", told.into_iter().map(|(id,)| id)),
            )
            .await?;
        let alert = event.alert(
            AlertKind::Recovery,
            to,
            since,
            municipality,
            time_zone.clone(),
        );
        for route in routes.into_iter().map(route_from) {
            let dedup = incident_key(&route, &alert);
            self.insert_outbox(&route, &alert, dedup, now, false, now)
                .await?;
        }
        Ok(())
    }

    /// Queues mail about a ticket to each of `recipients` who has an address and is not
    /// disabled, in their language (else the municipality's), in the same transaction as
    /// the change it tells of. The one who acted is never told of their own act.
    pub(crate) async fn notify_ticket(
        &mut self,
        ticket: TicketHead<'_>,
        kind: TicketMailKind,
        actor: &Actor,
        body: &str,
        recipients: &[UserId],
        now: i64,
    ) -> Result<usize, StoreError> {
        self.notify_ticket_due(ticket, kind, actor, body, None, recipients, now)
            .await
    }

    /// [`Tx::notify_ticket`] for mail about a due time (`due`: the target and its instant).
    /// Returns how many mails were queued.
    #[allow(clippy::too_many_arguments)] // one call site per kind of mail; a struct would only rename them
    pub(crate) async fn notify_ticket_due(
        &mut self,
        ticket: TicketHead<'_>,
        kind: TicketMailKind,
        actor: &Actor,
        body: &str,
        due: Option<(DueTarget, i64)>,
        recipients: &[UserId],
        now: i64,
    ) -> Result<usize, StoreError> {
        let mut queued = 0;
        let mut seen = Vec::new();
        for user in recipients {
            if Some(user) == actor.user_id.as_ref() || seen.contains(&user) {
                continue;
            }
            seen.push(user);
            let row: Option<(String, Option<String>, String, String, String)> = self
                .fetch_optional(
                    Sql::new("SELECT u.email, u.language, t.language, t.name, t.time_zone FROM users u JOIN tenants t ON t.id = $2 WHERE u.id = $1 AND u.disabled = FALSE")
                        .arg(user.as_str())
                        .arg(ticket.tenant.as_str()),
                )
                .await?;
            let Some((email, own, municipal, municipality, time_zone)) = row else {
                continue;
            };
            if email.trim().is_empty() {
                continue;
            }
            let lang = own
                .as_deref()
                .and_then(Language::from_code)
                .or_else(|| Language::from_code(&municipal))
                .unwrap_or(Language::Nb);
            let mail = TicketMail {
                kind,
                ticket_id: ticket.id.to_string(),
                number: ticket.number,
                title: ticket.title.to_string(),
                municipality,
                actor: actor.name.clone(),
                body: body.chars().take(20_000).collect(),
                at: now,
                time_zone,
                target: due.map(|(target, _)| target),
                due_at: due.map(|(_, at)| at),
            };
            self.queue_ticket_mail(ticket.tenant, &email, lang, &mail, now)
                .await?;
            queued += 1;
        }
        Ok(queued)
    }

    /// Queues mail about a ticket to one address, in the same transaction as the change
    /// it tells of.
    async fn queue_ticket_mail(
        &mut self,
        tenant: &TenantId,
        to: &str,
        lang: Language,
        mail: &TicketMail,
        now: i64,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(mail)
            .map_err(|e| StoreError::Inconsistent(format!("ticket mail: {e}")))?;
        let id = UserId::generate().to_string();
        self.execute(
            Sql::new("INSERT INTO outbox (tenant_id, id, channel, target, format, lang, event, dedup_key, ticket_id, kind, status, attempts, not_before, created_at) VALUES ($1, $2, 'email', $3, 'generic', $4, $5, $6, $7, $8, 'queued', 0, $9, $9)")
                .arg(tenant.as_str())
                .arg(id.as_str())
                .arg(to)
                .arg(lang.code())
                .arg(json)
                .arg(format!("mail:{id}"))
                .arg(mail.ticket_id.as_str())
                .arg(mail.kind.as_str())
                .arg(now),
        )
        .await?;
        Ok(())
    }

    /// Queues one alert on one route; a second row with the same `dedup` key is a no-op.
    /// A test alert has no monitor, so no monitor or incident is recorded for it.
    async fn insert_outbox(
        &mut self,
        route: &AlertRoute,
        event: &AlertEvent,
        dedup: String,
        due: i64,
        escalation: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let kind = if event.monitor_id.is_empty() {
            "test"
        } else {
            event.kind.as_str()
        };
        let monitor = (!event.monitor_id.is_empty()).then_some(event.monitor_id.as_str());
        let json = serde_json::to_string(event)
            .map_err(|e| StoreError::Inconsistent(format!("alert event: {e}")))?;
        self.execute(
            Sql::new("INSERT INTO outbox (tenant_id, id, route_id, channel, target, format, lang, event, dedup_key, monitor_id, incident_at, escalation, kind, status, attempts, not_before, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'queued', 0, $14, $15) ON CONFLICT (dedup_key) DO NOTHING")
                .arg(route.tenant_id.as_str())
                .arg(UserId::generate().to_string())
                .arg(route.id.as_str())
                .arg(route.channel.as_str())
                .arg(route.target.as_str())
                .arg(route.format.as_str())
                .arg(route.lang.code())
                .arg(json)
                .arg(dedup)
                .arg(monitor)
                .arg(monitor.map(|_| event.since))
                .arg(escalation)
                .arg(kind)
                .arg(due)
                .arg(now),
        )
        .await?;
        Ok(())
    }
}

impl Store {
    // ---- Routes, as people manage them ---------------------------------------------

    pub async fn create_alert_route(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        route: &Route,
        lang: Language,
    ) -> Result<AlertRoute, StoreError> {
        scope.require(tenant, Permission::Operate)?;
        let id = UserId::generate().to_string();
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO alert_routes (tenant_id, id, channel, target, format, threshold, delay_minutes, lang, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .arg(tenant.as_str())
                .arg(id.as_str())
                .arg(route.channel.as_str())
                .arg(route.target.as_str())
                .arg(route.format.as_str())
                .arg(route.threshold.as_str())
                .arg(route.delay_minutes)
                .arg(lang.code())
                .arg(now),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(tenant),
                action: "create",
                object_type: "alert_route",
                object_id: &id,
                before: None,
                after: Some(serde_json::json!({ "route": route, "lang": lang })),
            },
        )
        .await?;
        tx.commit().await?;
        self.alert_route(scope, &id).await
    }

    pub async fn alert_route(&self, scope: &Scope, id: &str) -> Result<AlertRoute, StoreError> {
        let row: Option<RouteRow> = self
            .fetch_optional(
                Sql::new(format!("{ROUTE_SELECT} WHERE r.id = "))
                    .push_arg(id)
                    .push(" AND ")
                    .in_scope(scope, Permission::ReadAll, "r.tenant_id"),
            )
            .await?;
        row.map(route_from).ok_or(StoreError::NotFound)
    }

    /// Routes in scope, per municipality, immediate ones first.
    pub async fn list_alert_routes(&self, scope: &Scope) -> Result<Vec<AlertRoute>, StoreError> {
        let rows: Vec<RouteRow> = self
            .fetch_all(
                Sql::new(format!("{ROUTE_SELECT} WHERE "))
                    .in_scope(scope, Permission::ReadAll, "r.tenant_id")
                    .push(" ORDER BY t.name, r.delay_minutes, r.channel, r.target"),
            )
            .await?;
        Ok(rows.into_iter().map(route_from).collect())
    }

    /// Removes a route. Alerts it already queued still go out.
    pub async fn delete_alert_route(&self, scope: &Scope, id: &str) -> Result<(), StoreError> {
        let route = self.alert_route(scope, id).await?;
        scope.require(&route.tenant_id, Permission::Operate)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("DELETE FROM alert_routes WHERE id = $1 AND tenant_id = $2")
                .arg(id)
                .arg(route.tenant_id.as_str()),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&route.tenant_id),
                action: "delete",
                object_type: "alert_route",
                object_id: id,
                before: Some(serde_json::json!({
                    "channel": route.channel, "target": route.target, "threshold": route.threshold,
                    "delay_minutes": route.delay_minutes,
                })),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Queues a test message on one route, so whoever set it up sees it arrive (or the
    /// reason it does not) before a real outage.
    pub async fn send_test_alert(&self, scope: &Scope, id: &str) -> Result<(), StoreError> {
        let route = self.alert_route(scope, id).await?;
        scope.require(&route.tenant_id, Permission::Operate)?;
        let now = self.now_ms();
        let event = AlertEvent {
            kind: AlertKind::Problem,
            monitor_id: String::new(),
            monitor: String::new(),
            municipality: route.tenant_name.clone(),
            state: MonitorState::Up,
            reason: String::new(),
            since: now,
            at: now,
            time_zone: String::new(),
        };
        let mut tx = self.begin().await?;
        tx.insert_outbox(
            &route,
            &event,
            format!("test:{}", UserId::generate()),
            now,
            false,
            now,
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&route.tenant_id),
                action: "test",
                object_type: "alert_route",
                object_id: id,
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// The latest deliveries in scope, newest first; optionally of one monitor.
    pub async fn list_outbox(
        &self,
        scope: &Scope,
        monitor_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut sql = Sql::new(format!("{OUTBOX_SELECT} WHERE ")).in_scope(
            scope,
            Permission::ReadAll,
            "o.tenant_id",
        );
        if let Some(monitor) = monitor_id {
            sql = sql.push(" AND o.monitor_id = ").push_arg(monitor);
        }
        self.outbox_rows(
            sql.push(" ORDER BY o.created_at DESC, o.id DESC LIMIT ")
                .push_arg(limit.clamp(1, 500)),
        )
        .await
    }

    /// The mail sent (or being sent) about one ticket, oldest first, for its staff.
    pub async fn ticket_outbox(
        &self,
        scope: &Scope,
        ticket_id: &str,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.outbox_rows(
            Sql::new(format!("{OUTBOX_SELECT} WHERE o.ticket_id = "))
                .push_arg(ticket_id)
                .push(" AND ")
                .in_scope(scope, Permission::ReadAll, "o.tenant_id")
                .push(" ORDER BY o.created_at, o.id LIMIT 200"),
        )
        .await
    }

    async fn outbox_rows(&self, sql: Sql) -> Result<Vec<OutboxEntry>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            String,
            String,
            i64,
            Option<String>,
            i64,
            i64,
            Option<i64>,
        );
        let rows: Vec<Row> = self.fetch_all(sql).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let (about, state) = match TicketMailKind::parse(&r.5) {
                    Some(_) => match serde_json::from_str::<TicketMail>(&r.7) {
                        Ok(m) => (
                            format!("{} {}", ticket_reference(m.number), m.title),
                            String::new(),
                        ),
                        Err(_) => Default::default(),
                    },
                    None => match serde_json::from_str::<AlertEvent>(&r.7) {
                        Ok(e) => (e.monitor, e.state.as_str().to_string()),
                        Err(_) => Default::default(),
                    },
                };
                OutboxEntry {
                    id: r.0,
                    tenant_id: TenantId::from_db(r.1),
                    tenant_name: r.2,
                    channel: r.3,
                    target: r.4,
                    kind: r.5,
                    monitor_id: r.6,
                    monitor: about,
                    ticket_id: r.11,
                    state,
                    status: r.8,
                    last_error: r.9,
                    attempts: r.10,
                    created_at: r.12,
                    not_before: r.13,
                    sent_at: r.14,
                }
            })
            .collect())
    }

    // ---- Senders: unscoped, they serve every municipality ---------------------------

    /// Claims up to `limit` due messages for `node` until `lease_ms` from now: queued ones
    /// whose time has come, and ones another sender claimed but never finished.
    pub async fn claim_outbox(
        &self,
        node: &str,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            bool,
            Option<String>,
            Option<i64>,
            i64,
            String,
        );
        let now = self.now_ms();
        // Most rounds find nothing due: a read on the read pool answers that without taking
        // SQLite's only writer every two seconds.
        let due: Option<(String,)> = self
            .fetch_optional(
                Sql::new("SELECT id FROM outbox WHERE (status = 'queued' AND not_before <= $1) OR (status = 'sending' AND claimed_until < $1) LIMIT 1")
                    .arg(now),
            )
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        // PostgreSQL: SKIP LOCKED, so two nodes claiming at once take different rows
        // instead of waiting for each other. SQLite has one writer: the UPDATE is atomic.
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // A write with RETURNING: on SQLite only the writer connection may run it.
        let mut tx = self.begin().await?;
        let rows: Vec<Row> = tx
            .fetch_all(
                Sql::new(format!("UPDATE outbox SET status = 'sending', claimed_by = $1, claimed_until = $2, attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox WHERE (status = 'queued' AND not_before <= $3) OR (status = 'sending' AND claimed_until < $3) ORDER BY not_before LIMIT $4{lock}) RETURNING id, channel, target, format, lang, event, escalation, monitor_id, incident_at, attempts, kind"))
                    .arg(node)
                    .arg(now + lease_ms)
                    .arg(now)
                    .arg(limit),
            )
            .await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let payload = match TicketMailKind::parse(&r.10) {
                Some(_) => serde_json::from_str::<TicketMail>(&r.5).map(Payload::Ticket),
                None => serde_json::from_str::<AlertEvent>(&r.5).map(Payload::Alert),
            };
            let Ok(payload) = payload else {
                // Written by this code, so unreadable means a damaged row: set it aside
                // with the reason instead of retrying it forever.
                self.finish_outbox(&r.0, node, Delivery::Failed("unreadable event".into()))
                    .await?;
                continue;
            };
            out.push(OutboxMessage {
                id: r.0,
                channel: Channel::parse(&r.1).unwrap_or(Channel::Email),
                target: r.2,
                format: WebhookFormat::parse(&r.3).unwrap_or(WebhookFormat::Generic),
                lang: Language::from_code(&r.4).unwrap_or(Language::Nb),
                payload,
                escalation: r.6,
                monitor_id: r.7,
                incident_at: r.8,
                attempts: r.9,
            });
        }
        Ok(out)
    }

    /// Whether an escalation is still wanted: the incident it belongs to is still open
    /// and nobody has taken its ticket.
    pub async fn escalation_wanted(&self, message: &OutboxMessage) -> Result<bool, StoreError> {
        let (Some(monitor), Some(since)) = (&message.monitor_id, message.incident_at) else {
            return Ok(true);
        };
        let row: Option<(Option<i64>, Option<String>)> = self
            .fetch_optional(
                Sql::new("SELECT m.incident_at, t.assignee_id FROM monitors m LEFT JOIN tickets t ON t.id = m.ticket_id WHERE m.id = $1")
                    .arg(monitor.as_str()),
            )
            .await?;
        Ok(matches!(row, Some((Some(open), None)) if open == since))
    }

    /// Records how a claimed message went. A retry waits by [`alert::retry_delay_secs`];
    /// after [`alert::MAX_ATTEMPTS`] it is marked failed with the last reason.
    pub async fn finish_outbox(
        &self,
        id: &str,
        node: &str,
        delivery: Delivery,
    ) -> Result<(), StoreError> {
        let now = self.now_ms();
        let (status, reason, sent_at, not_before) = match delivery {
            Delivery::Sent => ("sent", String::new(), Some(now), None),
            Delivery::Cancelled(reason) => ("cancelled", reason, None, None),
            Delivery::Failed(reason) => ("failed", reason, None, None),
            Delivery::Retry(reason) => {
                let attempts: Option<(i64,)> = self
                    .fetch_optional(Sql::new("SELECT attempts FROM outbox WHERE id = $1").arg(id))
                    .await?;
                let attempts = attempts.map_or(alert::MAX_ATTEMPTS, |(a,)| a);
                if attempts >= alert::MAX_ATTEMPTS {
                    ("failed", reason, None, None)
                } else {
                    let due = now + alert::retry_delay_secs(attempts) * 1000;
                    ("queued", reason, None, Some(due))
                }
            }
        };
        let sql = Sql::new("UPDATE outbox SET status = $1, last_error = $2, sent_at = COALESCE($3, sent_at), not_before = COALESCE($4, not_before), claimed_by = NULL, claimed_until = NULL WHERE id = $5 AND claimed_by = $6")
            .arg(status)
            .arg(clip(&reason))
            .arg(sent_at)
            .arg(not_before)
            .arg(id)
            .arg(node);
        self.execute(sql).await?;
        Ok(())
    }
}

/// Error texts from remote servers can be long (an HTML error page); the log keeps the start.
fn clip(reason: &str) -> String {
    reason.chars().take(500).collect()
}
