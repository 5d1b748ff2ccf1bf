//! Tickets: creation with SLA due times, queues sorted by due time, history, replies,
//! status changes with SLA pauses, assignment, time spent, and caller lookup.

use crate::audit::Change;
use crate::db::{Backend, Store, Tx};
use crate::error::StoreError;
use crate::sql::{Arg, Sql};
use crate::users::{User, UserRow, user_from_row};
use drifta_core::calendar::BusinessCalendar;
use drifta_core::clock::from_millis;
use drifta_core::desk::DeskSettings;
use drifta_core::notify::TicketMailKind;
use drifta_core::sla::{Pause, SlaClock};
use drifta_core::ticket::{
    Level, Priority, PriorityMatrix, TicketKind, TicketStatus, TransitionError,
};
use drifta_core::validate::{FieldError, display_name};
use drifta_core::{Country, LocationId, Permission, Scope, TenantId, UserId};
use jiff::SignedDuration;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Ticket {
    pub id: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub number: i64,
    pub kind: TicketKind,
    pub title: String,
    pub description: String,
    pub requester_id: Option<UserId>,
    pub requester_name: Option<String>,
    pub location_id: Option<LocationId>,
    pub location_name: Option<String>,
    pub category: String,
    pub impact: Level,
    pub urgency: Level,
    pub priority: Priority,
    pub status: TicketStatus,
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub channel: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    /// The municipality's zone, for showing times as its staff read them.
    pub time_zone: String,
    pub tags: Vec<String>,
    pub team_id: Option<String>,
    pub team_name: Option<String>,
}

impl Ticket {
    pub(crate) fn head(&self) -> crate::alerts::TicketHead<'_> {
        crate::alerts::TicketHead {
            tenant: &self.tenant_id,
            id: &self.id,
            number: self.number,
            title: &self.title,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewTicket {
    pub tenant_id: TenantId,
    pub kind: TicketKind,
    pub title: String,
    pub description: String,
    pub requester_id: Option<UserId>,
    pub location_id: Option<LocationId>,
    pub category: String,
    pub impact: Level,
    pub urgency: Level,
    /// phone, email, portal, web, api, monitor
    pub channel: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TicketEvent {
    pub id: String,
    pub at: i64,
    pub actor_name: String,
    pub kind: String,
    pub public: bool,
    pub body: String,
    pub data: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum QueueView {
    /// Every ticket in scope.
    #[default]
    All,
    /// Assigned to the actor.
    Mine,
    /// Assigned to nobody.
    Unassigned,
    /// Handed to a team the actor belongs to.
    MyTeams,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Not resolved or closed: the work still to do.
    #[default]
    Active,
    Done,
    Any,
    /// One status only, such as "waiting for supplier".
    Only(TicketStatus),
}

/// Enabled technicians and administrators with their grants (`$1` is `false`), for the
/// lists of people a ticket can be given to; callers add which grants count.
const ENABLED_STAFF: &str = "SELECT DISTINCT u.id, u.tenant_id, u.username, u.email, u.display_name, u.phone, u.language, u.disabled \
     FROM users u JOIN role_grants g ON g.user_id = u.id \
     WHERE g.role IN ('technician', 'provider_admin') AND u.disabled = $1";

#[derive(Clone, Debug, Default)]
pub struct QueueFilter {
    pub view: QueueView,
    pub status: StatusFilter,
    pub tenant: Option<TenantId>,
    pub requester: Option<UserId>,
    pub tag: Option<String>,
    pub priority: Option<Priority>,
    pub limit: i64,
}

/// One recorded stretch of work, for the monthly time report.
#[derive(Clone, Debug, Serialize)]
pub struct TimeEntry {
    pub at: i64,
    pub ticket_number: i64,
    pub ticket_title: String,
    pub technician: String,
    pub minutes: i64,
    pub billable: bool,
    pub note: String,
}

/// A person who might be calling: for the phone form's lookup.
#[derive(Clone, Debug, Serialize)]
pub struct Caller {
    pub id: UserId,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub location_id: Option<LocationId>,
    pub location_name: Option<String>,
}

const CALLER_SELECT: &str = "SELECT u.id, u.display_name, u.phone, u.email, u.tenant_id, t.name, u.location_id, l.name \
     FROM users u JOIN tenants t ON t.id = u.tenant_id LEFT JOIN locations l ON l.id = u.location_id";

type CallerRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn caller_from_row(r: CallerRow) -> Caller {
    Caller {
        id: UserId::from_db(r.0),
        name: r.1,
        phone: r.2,
        email: r.3,
        tenant_id: TenantId::from_db(r.4),
        tenant_name: r.5,
        location_id: r.6.map(LocationId::from_db),
        location_name: r.7,
    }
}

/// Business-time targets used when a municipality has set none: first response / resolution.
pub fn default_sla_minutes(priority: Priority) -> (i64, i64) {
    match priority {
        Priority::P1 => (30, 4 * 60),
        Priority::P2 => (60, 8 * 60),
        Priority::P3 => (4 * 60, 3 * 8 * 60),
        Priority::P4 => (8 * 60, 5 * 8 * 60),
    }
}

const TICKET_SELECT: &str = "SELECT t.id, t.tenant_id, tn.name, t.number, t.kind, t.title, t.description, \
     t.requester_id, r.display_name, t.location_id, l.name, t.category, t.impact, t.urgency, t.priority, t.status, \
     t.assignee_id, a.display_name, t.channel, t.created_at, t.updated_at, t.first_response_at, t.resolved_at, \
     t.response_due_at, t.resolution_due_at, tn.time_zone, t.team_id, tm.name \
     FROM tickets t JOIN tenants tn ON tn.id = t.tenant_id \
     LEFT JOIN teams tm ON tm.id = t.team_id \
     LEFT JOIN users r ON r.id = t.requester_id \
     LEFT JOIN users a ON a.id = t.assignee_id \
     LEFT JOIN locations l ON l.id = t.location_id \
     WHERE ";

type TicketHead = (
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
);
type TicketTail = (
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
);

/// Tuples decode at most 16 columns, so a ticket row is read as two halves.
struct TicketRow(TicketHead, TicketTail);

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for TicketRow
where
    usize: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database>,
    Option<i64>: sqlx::Decode<'r, R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(TicketRow(
            (
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
                row.try_get(5)?,
                row.try_get(6)?,
                row.try_get(7)?,
                row.try_get(8)?,
                row.try_get(9)?,
                row.try_get(10)?,
                row.try_get(11)?,
                row.try_get(12)?,
                row.try_get(13)?,
                row.try_get(14)?,
                row.try_get(15)?,
            ),
            (
                row.try_get(16)?,
                row.try_get(17)?,
                row.try_get(18)?,
                row.try_get(19)?,
                row.try_get(20)?,
                row.try_get(21)?,
                row.try_get(22)?,
                row.try_get(23)?,
                row.try_get(24)?,
                row.try_get(25)?,
                row.try_get(26)?,
                row.try_get(27)?,
            ),
        ))
    }
}

fn ticket_from_row(TicketRow(h, t): TicketRow) -> Ticket {
    Ticket {
        id: h.0,
        tenant_id: TenantId::from_db(h.1),
        tenant_name: h.2,
        number: h.3,
        kind: TicketKind::parse(&h.4).unwrap_or(TicketKind::Incident),
        title: h.5,
        description: h.6,
        requester_id: h.7.map(UserId::from_db),
        requester_name: h.8,
        location_id: h.9.map(LocationId::from_db),
        location_name: h.10,
        category: h.11,
        impact: Level::parse(&h.12).unwrap_or(Level::Medium),
        urgency: Level::parse(&h.13).unwrap_or(Level::Medium),
        priority: Priority::parse(&h.14).unwrap_or(Priority::P3),
        status: TicketStatus::parse(&h.15).unwrap_or(TicketStatus::Open),
        assignee_id: t.0.map(UserId::from_db),
        assignee_name: t.1,
        channel: t.2,
        created_at: t.3,
        updated_at: t.4,
        first_response_at: t.5,
        resolved_at: t.6,
        response_due_at: t.7,
        resolution_due_at: t.8,
        time_zone: t.9,
        tags: Vec::new(),
        team_id: t.10,
        team_name: t.11,
    }
}

/// Rows a scope may read: all tickets where the actor reads everything, and their own
/// requests where they may only file requests. The second rule names only the tenants the
/// first does not cover: for staff it is then `1 = 0`, which the planners drop, while the
/// redundant OR made SQLite scan every ticket in scope (drifta-bench, 1,000,000 tickets).
fn visible(sql: Sql, scope: &Scope) -> Sql {
    sql.push("(")
        .in_scope(scope, Permission::ReadAll, "t.tenant_id")
        .push(" OR (")
        .in_scope_unless(
            scope,
            Permission::Request,
            Permission::ReadAll,
            "t.tenant_id",
        )
        .push(" AND t.requester_id = ")
        .push_arg(scope.user_id().map(|u| u.to_string()).unwrap_or_default())
        .push("))")
}

/// The ticket with this id, if the scope may read it.
fn ticket_by_id(scope: &Scope, id: &str) -> Sql {
    visible(
        Sql::new(TICKET_SELECT)
            .push("t.id = ")
            .push_arg(id)
            .push(" AND "),
        scope,
    )
}

fn transition_error(e: TransitionError) -> StoreError {
    let _ = e;
    StoreError::Invalid(FieldError::new(
        "status",
        "status-transition",
        "this status change is not allowed",
    ))
}

/// See [`Store::sla_terms`].
pub(crate) struct SlaTerms {
    calendar: BusinessCalendar,
    response: Option<SignedDuration>,
    resolution: Option<SignedDuration>,
}

/// One line of a ticket's history.
pub(crate) struct EventRecord<'a> {
    pub kind: &'a str,
    pub public: bool,
    pub body: &'a str,
    pub data: Option<serde_json::Value>,
}

impl Tx {
    /// The instant to stamp a ticket change with: now, but always later than the
    /// municipality's latest change, so "latest change" alone tells live views that
    /// something changed even when two changes fall in the same millisecond.
    pub(crate) async fn ticket_stamp(
        &mut self,
        tenant: &TenantId,
        now: i64,
    ) -> Result<i64, StoreError> {
        let (latest,): (Option<i64>,) = self
            .fetch_optional(
                Sql::new("SELECT MAX(updated_at) FROM tickets WHERE tenant_id = $1")
                    .arg(tenant.as_str()),
            )
            .await?
            .unwrap_or((None,));
        Ok(latest.map_or(now, |l| now.max(l + 1)))
    }

    /// Records one change to a ticket twice: in its history (what people read on the ticket)
    /// and in the audit log (what auditors verify), under the same action name.
    async fn record_ticket_change(
        &mut self,
        ticket: &Ticket,
        actor: &drifta_core::Actor,
        at: i64,
        event: EventRecord<'_>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<(), StoreError> {
        let action = event.kind;
        self.ticket_event(&ticket.tenant_id, &ticket.id, at, actor, event)
            .await?;
        self.audit(
            actor,
            at,
            Change {
                tenant: Some(&ticket.tenant_id),
                action,
                object_type: "ticket",
                object_id: &ticket.id,
                before,
                after,
            },
        )
        .await
    }

    pub(crate) async fn ticket_event(
        &mut self,
        tenant: &TenantId,
        ticket: &str,
        at: i64,
        actor: &drifta_core::Actor,
        event: EventRecord<'_>,
    ) -> Result<(), StoreError> {
        self.execute(
            Sql::new("INSERT INTO ticket_events (tenant_id, id, ticket_id, at, actor_id, actor_name, kind, public, body, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .arg(tenant.as_str())
                .arg(UserId::generate().to_string())
                .arg(ticket)
                .arg(at)
                .arg(actor.user_id.as_ref().map(|u| u.to_string()))
                .arg(actor.name.as_str())
                .arg(event.kind)
                .arg(event.public)
                .arg(event.body)
                .arg(event.data.map(|d| d.to_string())),
        )
        .await?;
        Ok(())
    }
}

impl Store {
    /// The business calendar of a municipality: its country's holidays, its time zone and
    /// its own desk settings (or the country's defaults).
    async fn calendar_of(&self, tenant: &TenantId) -> Result<BusinessCalendar, StoreError> {
        let (country, zone): (String, String) = self
            .fetch_optional(
                Sql::new("SELECT country, time_zone FROM tenants WHERE id = $1")
                    .arg(tenant.as_str()),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let country = Country::parse(&country).unwrap_or(Country::No);
        let settings = self.desk_settings_unscoped(tenant, country).await?;
        settings
            .calendar(country, &zone)
            .map_err(|e| StoreError::Inconsistent(format!("desk settings of {tenant}: {e}")))
    }

    pub(crate) async fn desk_settings_unscoped(
        &self,
        tenant: &TenantId,
        country: Country,
    ) -> Result<DeskSettings, StoreError> {
        let row: Option<(String,)> = self
            .fetch_optional(
                Sql::new("SELECT settings FROM desk_settings WHERE tenant_id = $1")
                    .arg(tenant.as_str()),
            )
            .await?;
        Ok(row
            .and_then(|(json,)| serde_json::from_str(&json).ok())
            .unwrap_or_else(|| DeskSettings::defaults(country)))
    }

    /// A municipality's desk settings and SLA targets (minutes per priority), for its
    /// administrators and anyone who reads its figures.
    pub async fn desk_settings(
        &self,
        scope: &Scope,
        tenant: &TenantId,
    ) -> Result<(DeskSettings, Vec<(Priority, Option<i64>, Option<i64>)>), StoreError> {
        scope.require(tenant, Permission::ReadAll)?;
        let t = self.get_tenant(scope, tenant).await?;
        let settings = self.desk_settings_unscoped(tenant, t.country).await?;
        let mut targets = Vec::new();
        for p in Priority::ALL {
            let (a, b) = self.sla_budgets(tenant, *p).await?;
            targets.push((*p, a.map(|d| d.as_mins()), b.map(|d| d.as_mins())));
        }
        Ok((settings, targets))
    }

    /// Saves desk settings and SLA targets, then recomputes the due times of the
    /// municipality's open tickets so queues reflect the new rules at once.
    pub async fn save_desk_settings(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        settings: &DeskSettings,
        targets: &[(Priority, Option<i64>, Option<i64>)],
    ) -> Result<(), StoreError> {
        scope.require(tenant, Permission::ManageTenants)?;
        let t = self.get_tenant(scope, tenant).await?;
        if let Err(e) = settings.calendar(t.country, &t.time_zone) {
            return Err(StoreError::Invalid(FieldError::new(
                e.field,
                e.code,
                "is not valid",
            )));
        }
        for (_, a, b) in targets {
            for minutes in [a, b].into_iter().flatten() {
                if !(1..=60 * 24 * 60).contains(minutes) {
                    return Err(StoreError::Invalid(FieldError::new(
                        "sla",
                        "sla-range",
                        "targets are from 1 minute to 60 days",
                    )));
                }
            }
        }
        let before = self.desk_settings(scope, tenant).await?;
        let now = self.now_ms();
        let json = serde_json::to_string(settings).unwrap_or_default();
        let mut tx = self.begin().await?;
        tx.execute(Sql::new("DELETE FROM desk_settings WHERE tenant_id = $1").arg(tenant.as_str()))
            .await?;
        tx.execute(
            Sql::new("INSERT INTO desk_settings (tenant_id, settings) VALUES ($1, $2)")
                .arg(tenant.as_str())
                .arg(json),
        )
        .await?;
        tx.execute(Sql::new("DELETE FROM sla_policies WHERE tenant_id = $1").arg(tenant.as_str()))
            .await?;
        for (p, a, b) in targets {
            tx.execute(
                Sql::new("INSERT INTO sla_policies (tenant_id, priority, first_response_minutes, resolution_minutes) VALUES ($1, $2, $3, $4)")
                    .arg(tenant.as_str())
                    .arg(p.as_str())
                    .arg(*a)
                    .arg(*b),
            )
            .await?;
        }
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(tenant),
                action: "update",
                object_type: "desk_settings",
                object_id: tenant.as_str(),
                before: Some(serde_json::json!({"settings": before.0, "sla": before.1})),
                after: Some(serde_json::json!({"settings": settings, "sla": targets})),
            },
        )
        .await?;
        tx.commit().await?;

        let open: Vec<(String, i64, String)> = self
            .fetch_all(
                Sql::new("SELECT id, created_at, priority FROM tickets WHERE tenant_id = $1 AND status NOT IN ('resolved', 'closed')")
                    .arg(tenant.as_str()),
            )
            .await?;
        // Terms are read before each write transaction opens (see `sla_terms`).
        let mut terms = Vec::new();
        for p in Priority::ALL {
            terms.push((*p, self.sla_terms(tenant, *p).await?));
        }
        for chunk in open.chunks(500) {
            let mut tx = self.begin().await?;
            for (id, created, priority) in chunk {
                let priority = Priority::parse(priority).unwrap_or(Priority::P3);
                let Some((_, terms)) = terms.iter().find(|(p, _)| *p == priority) else {
                    continue;
                };
                let (a, b) = self
                    .compute_dues(&mut tx, terms, tenant, id, *created)
                    .await?;
                tx.execute(
                    Sql::new("UPDATE tickets SET response_due_at = $1, resolution_due_at = $2 WHERE tenant_id = $3 AND id = $4")
                        .arg(a)
                        .arg(b)
                        .arg(tenant.as_str())
                        .arg(id.as_str()),
                )
                .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// First-response and resolution budgets for a municipality and priority.
    pub async fn sla_budgets(
        &self,
        tenant: &TenantId,
        priority: Priority,
    ) -> Result<(Option<SignedDuration>, Option<SignedDuration>), StoreError> {
        let row: Option<(Option<i64>, Option<i64>)> = self
            .fetch_optional(
                Sql::new("SELECT first_response_minutes, resolution_minutes FROM sla_policies WHERE tenant_id = $1 AND priority = $2")
                    .arg(tenant.as_str())
                    .arg(priority.as_str()),
            )
            .await?;
        let (response, resolution) = match row {
            Some(r) => r,
            None => {
                let (a, b) = default_sla_minutes(priority);
                (Some(a), Some(b))
            }
        };
        Ok((
            response.map(SignedDuration::from_mins),
            resolution.map(SignedDuration::from_mins),
        ))
    }

    /// The provider's priority matrix (the default one unless the provider set its own).
    pub async fn priority_matrix(&self, tenant: &TenantId) -> Result<PriorityMatrix, StoreError> {
        let row: Option<(String,)> = self
            .fetch_optional(
                Sql::new("SELECT s.priority_matrix FROM provider_settings s JOIN tenants t ON t.parent_id = s.tenant_id OR t.id = s.tenant_id WHERE t.id = $1")
                    .arg(tenant.as_str()),
            )
            .await?;
        Ok(row
            .and_then(|(m,)| PriorityMatrix::parse(&m).ok())
            .unwrap_or_default())
    }

    /// Sets a provider's priority matrix (applies to tickets created from now on).
    pub async fn set_priority_matrix(
        &self,
        scope: &Scope,
        provider: &TenantId,
        matrix: &PriorityMatrix,
    ) -> Result<(), StoreError> {
        scope.require(provider, Permission::ManageTenants)?;
        let before = self.priority_matrix(provider).await?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("DELETE FROM provider_settings WHERE tenant_id = $1").arg(provider.as_str()),
        )
        .await?;
        tx.execute(
            Sql::new("INSERT INTO provider_settings (tenant_id, priority_matrix) VALUES ($1, $2)")
                .arg(provider.as_str())
                .arg(matrix.to_text()),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(provider),
                action: "update",
                object_type: "priority_matrix",
                object_id: provider.as_str(),
                before: Some(serde_json::json!({ "matrix": before.to_text() })),
                after: Some(serde_json::json!({ "matrix": matrix.to_text() })),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The calendar and budgets a ticket's due times are computed from. Read before a write
    /// transaction opens: reading them through the pool while holding the transaction's
    /// connection took two connections per request, and as many concurrent creates as the
    /// pool has connections then waited for each other until the acquire timeout.
    pub(crate) async fn sla_terms(
        &self,
        tenant: &TenantId,
        priority: Priority,
    ) -> Result<SlaTerms, StoreError> {
        // Independent reads, taken side by side (one round trip's wait on PostgreSQL).
        let (calendar, budgets) =
            tokio::join!(self.calendar_of(tenant), self.sla_budgets(tenant, priority));
        let (calendar, (response, resolution)) = (calendar?, budgets?);
        Ok(SlaTerms {
            calendar,
            response,
            resolution,
        })
    }

    /// Due instants for a ticket from its start, pauses and budgets; `None` while paused.
    async fn compute_dues(
        &self,
        tx: &mut Tx,
        terms: &SlaTerms,
        tenant: &TenantId,
        ticket: &str,
        created_at: i64,
    ) -> Result<(Option<i64>, Option<i64>), StoreError> {
        let pauses: Vec<(i64, Option<i64>)> = tx
            .fetch_all(
                Sql::new("SELECT from_at, until_at FROM ticket_pauses WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY from_at")
                    .arg(tenant.as_str())
                    .arg(ticket),
            )
            .await?;
        let pauses: Vec<Pause> = pauses
            .into_iter()
            .map(|(f, u)| Pause {
                from: from_millis(f),
                until: u.map(from_millis),
            })
            .collect();
        self.dues_with(terms, created_at, &pauses)
    }

    /// Due instants from the terms, the start and the pauses so far.
    pub(crate) fn dues_with(
        &self,
        terms: &SlaTerms,
        created_at: i64,
        pauses: &[Pause],
    ) -> Result<(Option<i64>, Option<i64>), StoreError> {
        // Pauses are written only by set_status, ordered and closed one at a time; a
        // violation would be a bug, so it surfaces as an error rather than a wrong due time.
        let clock = SlaClock::new(&terms.calendar, from_millis(created_at), pauses)
            .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        let now = self.now();
        let due = |budget: Option<SignedDuration>| -> Option<i64> {
            let budget = budget?;
            clock
                .due(budget, now)
                .ok()
                .flatten()
                .map(|t| t.as_millisecond())
        };
        Ok((due(terms.response), due(terms.resolution)))
    }

    pub async fn create_ticket(&self, scope: &Scope, new: NewTicket) -> Result<Ticket, StoreError> {
        let mine = scope.user_id().map(|u| u.to_string());
        let own_request =
            new.requester_id.as_ref().map(|u| u.to_string()) == mine && mine.is_some();
        if !scope.can(&new.tenant_id, Permission::Operate) {
            scope.require(&new.tenant_id, Permission::Request)?;
            if !own_request {
                return Err(StoreError::Invalid(FieldError::new(
                    "requester",
                    "requester-self-only",
                    "you can only file requests for yourself",
                )));
            }
        }
        let title = display_name("title", &new.title)?;
        if new.description.len() > 100_000 {
            return Err(StoreError::Invalid(FieldError::new(
                "description",
                "too-long",
                "must be at most 100,000 characters",
            )));
        }
        // The checks and the plan are independent reads: taken side by side they cost one
        // round trip's wait instead of five on PostgreSQL.
        let requester_belongs = async {
            let Some(requester) = &new.requester_id else {
                return Ok(());
            };
            let belongs: Option<(String,)> = self
                .fetch_optional(
                    Sql::new(
                        "SELECT u.id FROM users u WHERE u.id = $1 AND (u.tenant_id = $2 OR EXISTS \
                         (SELECT 1 FROM role_grants g WHERE g.user_id = u.id AND g.tenant_id = $2))",
                    )
                    .arg(requester.as_str())
                    .arg(new.tenant_id.as_str()),
                )
                .await?;
            match belongs {
                Some(_) => Ok(()),
                None => Err(StoreError::Invalid(FieldError::new(
                    "requester",
                    "requester-other-municipality",
                    "the caller does not belong to this municipality",
                ))),
            }
        };
        let location_belongs = async {
            let Some(location) = &new.location_id else {
                return Ok(());
            };
            let found: Option<(String,)> = self
                .fetch_optional(
                    Sql::new("SELECT id FROM locations WHERE tenant_id = $1 AND id = $2")
                        .arg(new.tenant_id.as_str())
                        .arg(location.as_str()),
                )
                .await?;
            match found {
                Some(_) => Ok(()),
                None => Err(StoreError::Invalid(FieldError::new(
                    "location",
                    "location-other-municipality",
                    "the location is not in this municipality",
                ))),
            }
        };
        // join, not try_join: a failed check must not drop the other reads half-way through
        // their connection's exchange; and the requester's error is reported first, always.
        let (requester, location, row) = tokio::join!(
            requester_belongs,
            location_belongs,
            self.plan_ticket(&new, title)
        );
        requester?;
        location?;
        let row = row?;
        let mut tx = self.begin().await?;
        tx.insert_ticket(scope.actor(), &new, &row).await?;
        tx.notify_new_ticket(&new.tenant_id, &row.id, scope.actor(), row.now)
            .await?;
        tx.commit().await?;
        // A new ticket has no tags, so only its row is read back (with the names it shows).
        self.ticket_row(ticket_by_id(scope, &row.id)).await
    }

    /// A new ticket's id, priority (from the provider's matrix) and due times, computed
    /// before its transaction: a new ticket has no pauses, so its due times need nothing
    /// from the transaction, and the single SQLite writer's transaction stays short.
    pub(crate) async fn plan_ticket(
        &self,
        new: &NewTicket,
        title: String,
    ) -> Result<NewTicketRow, StoreError> {
        let priority = self
            .priority_matrix(&new.tenant_id)
            .await?
            .priority(new.impact, new.urgency);
        let terms = self.sla_terms(&new.tenant_id, priority).await?;
        let now = self.now_ms();
        let (response_due, resolution_due) = self.dues_with(&terms, now, &[])?;
        Ok(NewTicketRow {
            id: UserId::generate().to_string(),
            title,
            priority,
            response_due,
            resolution_due,
            now,
        })
    }

    /// One ticket, or `NotFound` when it does not exist or lies outside the scope.
    pub async fn get_ticket(&self, scope: &Scope, id: &str) -> Result<Ticket, StoreError> {
        self.one_ticket(ticket_by_id(scope, id)).await
    }

    /// A ticket by its number (#1042), within scope.
    pub async fn ticket_by_number(&self, scope: &Scope, number: i64) -> Result<Ticket, StoreError> {
        let sql = visible(
            Sql::new(TICKET_SELECT)
                .push("t.number = ")
                .push_arg(number)
                .push(" AND "),
            scope,
        );
        self.one_ticket(sql).await
    }

    async fn one_ticket(&self, sql: Sql) -> Result<Ticket, StoreError> {
        let ticket = self.ticket_row(sql).await?;
        let mut one = [ticket];
        self.fill_tags(&mut one).await?;
        let [ticket] = one;
        Ok(ticket)
    }

    /// One ticket without its tags.
    async fn ticket_row(&self, sql: Sql) -> Result<Ticket, StoreError> {
        self.fetch_optional::<TicketRow>(sql)
            .await?
            .map(ticket_from_row)
            .ok_or(StoreError::NotFound)
    }

    async fn many_tickets(&self, sql: Sql) -> Result<Vec<Ticket>, StoreError> {
        let mut tickets: Vec<Ticket> = self
            .fetch_all::<TicketRow>(sql)
            .await?
            .into_iter()
            .map(ticket_from_row)
            .collect();
        self.fill_tags(&mut tickets).await?;
        Ok(tickets)
    }

    /// A queue: tickets in scope, soonest resolution due first (paused and target-less last).
    ///
    /// The page's ids are chosen first, from the tickets table alone, and only those rows are
    /// joined to names: joining before sorting made SQLite join and sort every active ticket
    /// in scope with its description (about 100 ms for 20,000 active tickets).
    pub async fn list_tickets(
        &self,
        scope: &Scope,
        filter: &QueueFilter,
    ) -> Result<Vec<Ticket>, StoreError> {
        let mut sql = visible(Sql::new("SELECT t.id FROM tickets t WHERE "), scope);
        match filter.view {
            QueueView::All => {}
            QueueView::Mine => {
                sql = sql
                    .push(" AND t.assignee_id = ")
                    .push_arg(scope.user_id().map(|u| u.to_string()).unwrap_or_default());
            }
            QueueView::Unassigned => sql = sql.push(" AND t.assignee_id IS NULL"),
            QueueView::MyTeams => {
                sql = sql
                    .push(" AND t.team_id IN (SELECT team_id FROM team_members WHERE user_id = ")
                    .push_arg(scope.user_id().map(|u| u.to_string()).unwrap_or_default())
                    .push(")");
            }
        }
        sql = match filter.status {
            StatusFilter::Active => sql.push(" AND t.status NOT IN ('resolved', 'closed')"),
            StatusFilter::Done => sql.push(" AND t.status IN ('resolved', 'closed')"),
            StatusFilter::Any => sql,
            StatusFilter::Only(status) => sql.push(" AND t.status = ").push_arg(status.as_str()),
        };
        if let Some(p) = filter.priority {
            sql = sql.push(" AND t.priority = ").push_arg(p.as_str());
        }
        if let Some(t) = &filter.tenant {
            sql = sql.push(" AND t.tenant_id = ").push_arg(t.as_str());
        }
        if let Some(r) = &filter.requester {
            sql = sql.push(" AND t.requester_id = ").push_arg(r.as_str());
        }
        if let Some(tag) = &filter.tag {
            sql = sql
                .push(" AND EXISTS (SELECT 1 FROM ticket_tags g WHERE g.tenant_id = t.tenant_id AND g.ticket_id = t.id AND g.tag = ")
                .push_arg(tag.as_str())
                .push(")");
        }
        let finished = matches!(
            filter.status,
            StatusFilter::Done | StatusFilter::Only(TicketStatus::Resolved | TicketStatus::Closed)
        );
        let order = if finished {
            " ORDER BY t.updated_at DESC"
        } else if filter.requester.is_some() {
            " ORDER BY t.created_at DESC"
        } else {
            " ORDER BY t.resolution_due_at IS NULL, t.resolution_due_at, t.created_at"
        };
        sql = sql
            .push(order)
            .push(" LIMIT ")
            .push_arg(filter.limit.clamp(1, 500))
            .nest(&format!("{TICKET_SELECT}t.id IN ("), &format!("){order}"));
        self.many_tickets(sql).await
    }

    /// A fingerprint of the tickets a view shows: their latest change. Every ticket change is
    /// stamped later than its municipality's previous one (`Tx::ticket_stamp`), so the maximum
    /// moves on every change in scope, and `(tenant_id, updated_at)` is indexed, so live views
    /// can poll it cheaply; no count, which would scan every ticket in scope.
    pub async fn tickets_version(
        &self,
        scope: &Scope,
        ticket: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut sql = visible(
            Sql::new("SELECT MAX(t.updated_at) FROM tickets t WHERE "),
            scope,
        );
        if let Some(id) = ticket {
            sql = sql.push(" AND t.id = ").push_arg(id);
        }
        let (max,): (Option<i64>,) = self.fetch_optional(sql).await?.unwrap_or((None,));
        Ok(max.unwrap_or(0))
    }

    /// The tickets with these ids that the scope may read.
    pub(crate) async fn tickets_by_ids(
        &self,
        scope: &Scope,
        ids: Vec<String>,
        filter: &QueueFilter,
    ) -> Result<Vec<Ticket>, StoreError> {
        let mut sql = visible(Sql::new(TICKET_SELECT), scope)
            .push(" AND ")
            .push_in("t.id", ids);
        if let Some(t) = &filter.tenant {
            sql = sql.push(" AND t.tenant_id = ").push_arg(t.as_str());
        }
        self.many_tickets(sql).await
    }

    pub async fn ticket_events(
        &self,
        scope: &Scope,
        ticket: &Ticket,
    ) -> Result<Vec<TicketEvent>, StoreError> {
        // Requesters see the public conversation only; staff see notes too.
        let staff = scope.can(&ticket.tenant_id, Permission::ReadAll);
        let mut sql = Sql::new("SELECT id, at, actor_name, kind, public, body, data FROM ticket_events WHERE tenant_id = $1 AND ticket_id = $2")
            .arg(ticket.tenant_id.as_str())
            .arg(ticket.id.as_str());
        if !staff {
            sql = sql.push(" AND public = ").push_arg(true);
        }
        type Row = (String, i64, String, String, bool, String, Option<String>);
        Ok(self
            .fetch_all::<Row>(sql.push(" ORDER BY at, id"))
            .await?
            .into_iter()
            .map(|r| TicketEvent {
                id: r.0,
                at: r.1,
                actor_name: r.2,
                kind: r.3,
                public: r.4,
                body: r.5,
                data: r.6,
            })
            .collect())
    }

    /// A public reply or an internal note. A technician's first public reply is the first
    /// response; a requester's reply to a ticket waiting for them sets it open again.
    pub async fn add_comment(
        &self,
        scope: &Scope,
        ticket_id: &str,
        body: &str,
        public: bool,
    ) -> Result<Ticket, StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        let staff = scope.can(&ticket.tenant_id, Permission::Operate);
        let own = ticket.requester_id.as_ref() == scope.user_id();
        let may_reply =
            staff || (own && public && scope.can(&ticket.tenant_id, Permission::Request));
        if !may_reply {
            scope.require(&ticket.tenant_id, Permission::Operate)?;
        }
        let body = body.trim();
        if body.is_empty() {
            return Err(StoreError::Invalid(FieldError::new(
                "body",
                "required",
                "is required",
            )));
        }
        if ticket.status == TicketStatus::Closed {
            return Err(StoreError::Invalid(FieldError::new(
                "body",
                "ticket-closed",
                "the ticket is closed; open a new one",
            )));
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.record_comment(Comment {
            ticket: ticket.head(),
            actor: scope.actor(),
            body,
            public,
            channel: None,
            first_response: staff && public && ticket.first_response_at.is_none(),
            tell: ticket.requester_id.as_ref(),
            now,
        })
        .await?;
        tx.commit().await?;
        if staff && public && ticket.status == TicketStatus::New {
            // Answering a new ticket is taking it up.
            return self.set_status(scope, &ticket.id, TicketStatus::Open).await;
        }
        if !staff && ticket.status == TicketStatus::WaitingRequester {
            let system = Scope::new(
                scope.actor().clone(),
                [(ticket.tenant_id.clone(), drifta_core::Role::Technician)],
            );
            return self
                .set_status(&system, &ticket.id, TicketStatus::Open)
                .await;
        }
        self.get_ticket(scope, &ticket.id).await
    }

    /// Moves a ticket through its life cycle, opening or closing SLA pauses and
    /// recomputing due times on the way.
    pub async fn set_status(
        &self,
        scope: &Scope,
        ticket_id: &str,
        next: TicketStatus,
    ) -> Result<Ticket, StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        scope.require(&ticket.tenant_id, Permission::Operate)?;
        ticket.status.check_move(next).map_err(transition_error)?;
        let terms = self.sla_terms(&ticket.tenant_id, ticket.priority).await?;
        let now = self.now_ms();
        let tenant = ticket.tenant_id.as_str();
        let mut tx = self.begin().await?;
        let stamp = tx.ticket_stamp(&ticket.tenant_id, now).await?;
        if next.pauses_sla() && !ticket.status.pauses_sla() {
            tx.execute(
                Sql::new(
                    "INSERT INTO ticket_pauses (tenant_id, ticket_id, from_at) VALUES ($1, $2, $3)",
                )
                .arg(tenant)
                .arg(ticket.id.as_str())
                .arg(now),
            )
            .await?;
        }
        if ticket.status.pauses_sla() && !next.pauses_sla() {
            tx.execute(Sql::new("UPDATE ticket_pauses SET until_at = $1 WHERE tenant_id = $2 AND ticket_id = $3 AND until_at IS NULL").arg(now).arg(tenant).arg(ticket.id.as_str())).await?;
        }
        let (response_due, resolution_due) = self
            .compute_dues(
                &mut tx,
                &terms,
                &ticket.tenant_id,
                &ticket.id,
                ticket.created_at,
            )
            .await?;
        let resolved_at = match next {
            TicketStatus::Resolved => Some(now),
            TicketStatus::Closed => ticket.resolved_at.or(Some(now)),
            _ => None,
        };
        // Taking up a new ticket counts as the first response.
        let first_response = ticket
            .first_response_at
            .or((ticket.status == TicketStatus::New).then_some(now));
        tx.execute(
            Sql::new("UPDATE tickets SET status = $1, updated_at = $2, resolved_at = $3, closed_at = $4, first_response_at = $5, response_due_at = $6, resolution_due_at = $7 WHERE tenant_id = $8 AND id = $9")
                .arg(next.as_str())
                .arg(stamp)
                .arg(resolved_at)
                .arg((next == TicketStatus::Closed).then_some(now))
                .arg(first_response)
                .arg(response_due)
                .arg(resolution_due)
                .arg(tenant)
                .arg(ticket.id.as_str()),
        )
        .await?;
        let data = serde_json::json!({"from": ticket.status, "to": next});
        tx.record_ticket_change(
            &ticket,
            scope.actor(),
            now,
            EventRecord {
                kind: "status",
                public: true,
                body: "",
                data: Some(data),
            },
            Some(serde_json::json!({"status": ticket.status})),
            Some(serde_json::json!({"status": next})),
        )
        .await?;
        tx.commit().await?;
        self.get_ticket(scope, &ticket.id).await
    }

    /// Assigns to a technician of the ticket's municipality, or to nobody.
    pub async fn assign_ticket(
        &self,
        scope: &Scope,
        ticket_id: &str,
        assignee: Option<&UserId>,
    ) -> Result<Ticket, StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        scope.require(&ticket.tenant_id, Permission::Operate)?;
        if let Some(a) = assignee {
            let techs = self.technicians_of(&ticket.tenant_id).await?;
            if !techs.iter().any(|u| &u.id == a) {
                return Err(StoreError::Invalid(FieldError::new(
                    "assignee",
                    "assignee-not-technician",
                    "can only be a technician of this municipality",
                )));
            }
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let stamp = tx.ticket_stamp(&ticket.tenant_id, now).await?;
        tx.execute(
            Sql::new("UPDATE tickets SET assignee_id = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
                .arg(assignee.map(|a| a.to_string()))
                .arg(stamp)
                .arg(ticket.tenant_id.as_str())
                .arg(ticket.id.as_str()),
        )
        .await?;
        let data = serde_json::json!({"from": ticket.assignee_id, "to": assignee});
        tx.record_ticket_change(
            &ticket,
            scope.actor(),
            now,
            EventRecord {
                kind: "assign",
                public: false,
                body: "",
                data: Some(data),
            },
            Some(serde_json::json!({"assignee_id": ticket.assignee_id})),
            Some(serde_json::json!({"assignee_id": assignee})),
        )
        .await?;
        if let Some(assignee) = assignee
            && ticket.assignee_id.as_ref() != Some(assignee)
        {
            tx.notify_ticket(
                ticket.head(),
                TicketMailKind::Assigned,
                scope.actor(),
                "",
                std::slice::from_ref(assignee),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        self.get_ticket(scope, &ticket.id).await
    }

    /// People who may work tickets in a municipality (technicians and administrators,
    /// directly or through the provider).
    pub async fn technicians_of(&self, tenant: &TenantId) -> Result<Vec<User>, StoreError> {
        self.enabled_staff_granted_on(
            "g.tenant_id = $2 OR g.tenant_id = (SELECT parent_id FROM tenants WHERE id = $2)",
            tenant,
        )
        .await
    }

    /// Technicians and administrators of a provider or of any of its municipalities.
    pub async fn technicians_of_provider(
        &self,
        provider: &TenantId,
    ) -> Result<Vec<User>, StoreError> {
        self.enabled_staff_granted_on(
            "g.tenant_id = $2 OR g.tenant_id IN (SELECT id FROM tenants WHERE parent_id = $2)",
            provider,
        )
        .await
    }

    /// Technicians and administrators who may work tickets in any municipality where
    /// `scope` may: whom a queue's bulk "assign to" offers. One query, however many
    /// municipalities the scope spans; assigning still checks each ticket's municipality.
    pub async fn technicians_for(&self, scope: &Scope) -> Result<Vec<User>, StoreError> {
        let tenants: Vec<String> = scope
            .tenants_allowing(Permission::Operate)
            .into_iter()
            .map(|t| t.to_string())
            .collect();
        let sql = Sql::new(format!("{ENABLED_STAFF} AND ("))
            .arg(false)
            .push_in("g.tenant_id", tenants.clone())
            // A grant on the provider covers its municipalities.
            .push(" OR g.tenant_id IN (SELECT parent_id FROM tenants WHERE ")
            .push_in("id", tenants)
            .push(")) ORDER BY u.display_name");
        Ok(self
            .fetch_all::<UserRow>(sql)
            .await?
            .into_iter()
            .map(user_from_row)
            .collect())
    }

    /// Enabled technicians and administrators with a grant matching `grant_condition`
    /// (a fixed SQL fragment in which `$2` is `tenant`).
    async fn enabled_staff_granted_on(
        &self,
        grant_condition: &'static str,
        tenant: &TenantId,
    ) -> Result<Vec<User>, StoreError> {
        let sql = Sql::new(format!(
            "{ENABLED_STAFF} AND ({grant_condition}) ORDER BY u.display_name"
        ))
        .arg(false)
        .arg(tenant.as_str());
        Ok(self
            .fetch_all::<UserRow>(sql)
            .await?
            .into_iter()
            .map(user_from_row)
            .collect())
    }

    /// Records minutes spent on a ticket.
    pub async fn add_time(
        &self,
        scope: &Scope,
        ticket_id: &str,
        minutes: i64,
        billable: bool,
        note: &str,
    ) -> Result<(), StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        scope.require(&ticket.tenant_id, Permission::Operate)?;
        if !(1..=24 * 60).contains(&minutes) {
            return Err(StoreError::Invalid(FieldError::new(
                "minutes",
                "minutes-range",
                "must be from 1 to 1440",
            )));
        }
        let user = scope.user_id().ok_or(StoreError::NotFound)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO time_entries (tenant_id, id, ticket_id, user_id, minutes, billable, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .arg(ticket.tenant_id.as_str())
                .arg(UserId::generate().to_string())
                .arg(ticket.id.as_str())
                .arg(user.as_str())
                .arg(minutes)
                .arg(billable)
                .arg(note.trim())
                .arg(now),
        )
        .await?;
        tx.ticket_event(
            &ticket.tenant_id,
            &ticket.id,
            now,
            scope.actor(),
            EventRecord {
                kind: "time",
                public: false,
                body: note.trim(),
                data: Some(serde_json::json!({"minutes": minutes, "billable": billable})),
            },
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&ticket.tenant_id),
                action: "time",
                object_type: "ticket",
                object_id: &ticket.id,
                before: None,
                after: Some(serde_json::json!({"minutes": minutes, "billable": billable})),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Minutes spent on a ticket so far (billable, total).
    pub async fn time_spent(
        &self,
        scope: &Scope,
        ticket: &Ticket,
    ) -> Result<(i64, i64), StoreError> {
        scope.require(&ticket.tenant_id, Permission::ReadAll)?;
        let (billable, total): (Option<i64>, Option<i64>) = self
            .fetch_optional(
                Sql::new("SELECT CAST(SUM(CASE WHEN billable THEN minutes ELSE 0 END) AS BIGINT), CAST(SUM(minutes) AS BIGINT) FROM time_entries WHERE tenant_id = $1 AND ticket_id = $2")
                    .arg(ticket.tenant_id.as_str())
                    .arg(ticket.id.as_str()),
            )
            .await?
            .unwrap_or((None, None));
        Ok((billable.unwrap_or(0), total.unwrap_or(0)))
    }

    /// Time recorded in one municipality between two instants, oldest first: what the
    /// municipality pays for and steers.
    pub async fn time_entries(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<TimeEntry>, StoreError> {
        scope.require(tenant, Permission::ReadAll)?;
        let sql = Sql::new(
            "SELECT e.at, t.number, t.title, u.display_name, e.minutes, e.billable, e.note \
             FROM time_entries e JOIN tickets t ON t.tenant_id = e.tenant_id AND t.id = e.ticket_id \
             JOIN users u ON u.id = e.user_id \
             WHERE e.tenant_id = $1 AND e.at >= $2 AND e.at < $3 AND ",
        )
        .arg(tenant.as_str())
        .arg(from_ms)
        .arg(to_ms)
        .in_scope(scope, Permission::ReadAll, "e.tenant_id")
        .push(" ORDER BY e.at");
        type Row = (i64, i64, String, String, i64, bool, String);
        Ok(self
            .fetch_all::<Row>(sql)
            .await?
            .into_iter()
            .map(|r| TimeEntry {
                at: r.0,
                ticket_number: r.1,
                ticket_title: r.2,
                technician: r.3,
                minutes: r.4,
                billable: r.5,
                note: r.6,
            })
            .collect())
    }

    /// People who might be calling, by name, user name, e-mail or phone digits, in the
    /// municipalities where the actor works tickets.
    pub async fn search_callers(
        &self,
        scope: &Scope,
        query: &str,
        limit: i64,
    ) -> Result<Vec<Caller>, StoreError> {
        let q = query.trim().to_lowercase();
        if q.chars().count() < 2 {
            return Ok(Vec::new());
        }
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        let mostly_digits = digits.len() >= 3
            && digits.len() * 2 >= q.chars().filter(|c| !c.is_whitespace()).count();
        let needle = if mostly_digits { digits } else { q };
        let escaped = needle
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let sql = Sql::new(format!(
            "{CALLER_SELECT} WHERE u.disabled = $1 AND u.search_text LIKE $2 ESCAPE '\\' AND "
        ))
        .arg(false)
        .arg(format!("%{escaped}%"))
        .in_scope(scope, Permission::Operate, "u.tenant_id")
        .push(" ORDER BY u.display_name LIMIT ")
        .push_arg(limit.clamp(1, 50));
        Ok(self
            .fetch_all::<CallerRow>(sql)
            .await?
            .into_iter()
            .map(caller_from_row)
            .collect())
    }

    /// One caller by id, within the municipalities where the actor works tickets.
    pub async fn get_caller(&self, scope: &Scope, id: &UserId) -> Result<Caller, StoreError> {
        let sql = Sql::new(format!("{CALLER_SELECT} WHERE u.id = $1 AND "))
            .arg(id.as_str())
            .in_scope(scope, Permission::Operate, "u.tenant_id");
        self.fetch_optional::<CallerRow>(sql)
            .await?
            .map(caller_from_row)
            .ok_or(StoreError::NotFound)
    }

    /// Sets where a person usually sits (used to fill the location when they call).
    pub async fn set_user_location(
        &self,
        scope: &Scope,
        user: &UserId,
        location: Option<&LocationId>,
    ) -> Result<(), StoreError> {
        let target = self.get_user(scope, user).await?;
        scope.require(&target.tenant_id, Permission::ManageUsers)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("UPDATE users SET location_id = $1 WHERE id = $2")
                .arg(location.map(|l| l.to_string()))
                .arg(user.as_str()),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&target.tenant_id),
                action: "update",
                object_type: "user",
                object_id: user.as_str(),
                before: None,
                after: Some(serde_json::json!({"location_id": location})),
            },
        )
        .await?;
        tx.commit().await
    }
}

/// What [`Tx::insert_ticket`] needs besides the request: values computed before the
/// transaction opens ([`Store::plan_ticket`]), so the single SQLite writer's transaction
/// stays short.
pub(crate) struct NewTicketRow {
    pub id: String,
    pub title: String,
    pub priority: Priority,
    pub response_due: Option<i64>,
    pub resolution_due: Option<i64>,
    pub now: i64,
}

/// A reply or internal note as [`Tx::record_comment`] writes it.
pub(crate) struct Comment<'a> {
    pub ticket: crate::alerts::TicketHead<'a>,
    pub actor: &'a drifta_core::Actor,
    pub body: &'a str,
    pub public: bool,
    /// Where it came from when not the web or the API ("email"), kept in the history entry
    /// and the audit entry.
    pub channel: Option<&'a str>,
    /// Stamps the ticket's first response (a technician's first public answer).
    pub first_response: bool,
    /// Who hears of a public comment by mail besides the watchers: the requester when
    /// staff answer, the assignee when the requester does.
    pub tell: Option<&'a UserId>,
    pub now: i64,
}

impl Tx {
    /// The users watching a ticket.
    pub(crate) async fn ticket_watchers(
        &mut self,
        tenant: &TenantId,
        ticket_id: &str,
    ) -> Result<Vec<UserId>, StoreError> {
        let rows: Vec<(String,)> = self
            .fetch_all(
                Sql::new("SELECT user_id FROM ticket_watchers WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY user_id")
                    .arg(tenant.as_str())
                    .arg(ticket_id),
            )
            .await?;
        Ok(rows.into_iter().map(|(id,)| UserId::from_db(id)).collect())
    }

    /// Writes a reply or note: its history entry, the ticket's new stamp, and for a public
    /// one its search entry and the mail to whoever should hear; then its audit entry. Shared
    /// by replies from the desk, the portal and the API ([`Store::add_comment`]) and by mail.
    pub(crate) async fn record_comment(&mut self, c: Comment<'_>) -> Result<(), StoreError> {
        let ticket = c.ticket;
        let stamp = self.ticket_stamp(ticket.tenant, c.now).await?;
        let kind = if c.public { "reply" } else { "note" };
        self.ticket_event(
            ticket.tenant,
            ticket.id,
            c.now,
            c.actor,
            EventRecord {
                kind,
                public: c.public,
                body: c.body,
                data: c.channel.map(|ch| serde_json::json!({ "channel": ch })),
            },
        )
        .await?;
        let mut sql = Sql::new("UPDATE tickets SET updated_at = ").push_arg(stamp);
        if c.first_response {
            sql = sql.push(", first_response_at = ").push_arg(c.now);
        }
        self.execute(
            sql.push(" WHERE tenant_id = ")
                .push_arg(ticket.tenant.as_str())
                .push(" AND id = ")
                .push_arg(ticket.id),
        )
        .await?;
        if c.public {
            self.queue_search(ticket.tenant, "ticket", ticket.id, c.now)
                .await?;
            let recipients: Vec<UserId> = c
                .tell
                .cloned()
                .into_iter()
                .chain(self.ticket_watchers(ticket.tenant, ticket.id).await?)
                .collect();
            self.notify_ticket(
                ticket,
                TicketMailKind::Reply,
                c.actor,
                c.body,
                &recipients,
                c.now,
            )
            .await?;
        }
        let mut after = serde_json::json!({"number": ticket.number, "public": c.public});
        if let Some(channel) = c.channel {
            after["channel"] = channel.into();
        }
        self.audit(
            c.actor,
            c.now,
            Change {
                tenant: Some(ticket.tenant),
                action: kind,
                object_type: "ticket",
                object_id: ticket.id,
                before: None,
                after: Some(after),
            },
        )
        .await
    }
}

impl Tx {
    /// Takes `count` new ticket numbers, ascending.
    ///
    /// SQLite takes a contiguous range from `ticket_counter` in one statement (a read
    /// followed by an increment let two transactions read the same number). PostgreSQL takes
    /// them from `ticket_number_seq` (migration 20): the counter row's lock was held to the
    /// end of every create, so concurrent creates waited on each other. There, numbers taken
    /// while other creates run may interleave with theirs, and a rolled-back create leaves a
    /// gap.
    pub(crate) async fn take_ticket_numbers(&mut self, count: i64) -> Result<Vec<i64>, StoreError> {
        match self.backend() {
            Backend::Sqlite => {
                let (next,): (i64,) = self
                    .fetch_optional(
                        Sql::new(
                            "UPDATE ticket_counter SET next = next + $1 WHERE id = 1 RETURNING next",
                        )
                        .arg(count),
                    )
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Ok((next - count..next).collect())
            }
            Backend::Postgres => {
                let rows: Vec<(i64,)> = self
                    .fetch_all(
                        Sql::new("SELECT nextval('ticket_number_seq') FROM generate_series(1, $1)")
                            .arg(count),
                    )
                    .await?;
                let mut numbers: Vec<i64> = rows.into_iter().map(|(n,)| n).collect();
                numbers.sort_unstable();
                Ok(numbers)
            }
        }
    }

    /// Writes a new ticket with its number, its "created" history entry, its search entry
    /// and its audit entry; shared by every way a ticket is opened (forms, the API, mail).
    /// Returns its number.
    pub(crate) async fn insert_ticket(
        &mut self,
        actor: &drifta_core::Actor,
        new: &NewTicket,
        row: &NewTicketRow,
    ) -> Result<i64, StoreError> {
        // The number and the stamp (see `ticket_stamp`) are taken inside the INSERT: two
        // statements fewer, each a round trip on PostgreSQL.
        let (number, greatest) = match self.backend() {
            Backend::Sqlite => (Some(self.take_ticket_numbers(1).await?[0]), "MAX"),
            Backend::Postgres => (None, "GREATEST"),
        };
        let tenant = new.tenant_id.as_str();
        let sql = Sql::new("INSERT INTO tickets (tenant_id, id, number, kind, title, description, requester_id, location_id, category, impact, urgency, priority, status, channel, created_at, response_due_at, resolution_due_at, updated_at) VALUES (")
            .push_arg(tenant)
            .push(", ")
            .push_arg(row.id.as_str())
            .push(", ");
        let sql = match number {
            Some(n) => sql.push_arg(n),
            None => sql.push("nextval('ticket_number_seq')"),
        };
        let sql = [
            Arg::from(new.kind.as_str()),
            row.title.as_str().into(),
            new.description.trim().into(),
            new.requester_id.as_ref().map(|u| u.to_string()).into(),
            new.location_id.as_ref().map(|l| l.to_string()).into(),
            new.category.trim().into(),
            new.impact.as_str().into(),
            new.urgency.as_str().into(),
            row.priority.as_str().into(),
            "new".into(),
            new.channel.as_str().into(),
            row.now.into(),
            row.response_due.into(),
            row.resolution_due.into(),
        ]
        .into_iter()
        .fold(sql, |sql, value| sql.push(", ").push_arg(value))
        .push(&format!(", {greatest}("))
        .push_arg(row.now)
        .push(", COALESCE((SELECT MAX(updated_at) + 1 FROM tickets WHERE tenant_id = ")
        .push_arg(tenant)
        .push("), 0))) RETURNING number");
        let (number,): (i64,) = self
            .fetch_optional(sql)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.ticket_event(
            &new.tenant_id,
            &row.id,
            row.now,
            actor,
            EventRecord {
                kind: "created",
                public: true,
                body: "",
                data: Some(serde_json::json!({"channel": new.channel, "priority": row.priority})),
            },
        )
        .await?;
        self.queue_search(&new.tenant_id, "ticket", &row.id, row.now)
            .await?;
        self.audit(
                actor,
                row.now,
                Change {
                    tenant: Some(&new.tenant_id),
                    action: "create",
                    object_type: "ticket",
                    object_id: &row.id,
                    before: None,
                    after: Some(serde_json::json!({"number": number, "title": row.title, "priority": row.priority, "channel": new.channel})),
                },
            )
            .await?;
        Ok(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_targets_tighten_with_priority() {
        let mut last = (0, 0);
        for p in [Priority::P1, Priority::P2, Priority::P3, Priority::P4] {
            let t = default_sla_minutes(p);
            assert!(t.0 > last.0 && t.1 > last.1, "{p:?}");
            assert!(t.0 < t.1);
            last = t;
        }
    }
}
