//! Heartbeat monitors: jobs call a secret URL; a job that stops reporting (or reports a
//! failure) goes down and opens one ticket in its municipality's queue; recovery adds a note.
//!
//! The rules are `drifta_core::monitor::HeartbeatTracker`'s; this module keeps the last ping
//! of each kind and the state, and turns state changes into events and tickets. A change is
//! claimed with a conditional update (`… WHERE state = <old>`), so when several nodes evaluate
//! at once exactly one of them opens the ticket.

use crate::alerts::StateEvent;
use crate::audit::Change;
use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use crate::tickets::NewTicket;
use drifta_core::clock::from_millis;
use drifta_core::cmdb::ItemType;
use drifta_core::monitor::{HeartbeatPing, HeartbeatSettings, HeartbeatTracker, MonitorState};
use drifta_core::ticket::{Level, TicketKind};
use drifta_core::validate::{FieldError, display_name};
use drifta_core::{Actor, Language, Permission, Role, Scope, TenantId, UserId, secret};
use jiff::SignedDuration;
use serde::Serialize;

/// Heartbeat URLs carry this prefix before the secret, so a leaked one is recognisable.
pub const HEARTBEAT_PREFIX: &str = "hb_";
/// Longest payload kept from a ping (e.g. "backup 412 GB, 3 h 12 min").
pub const MAX_PAYLOAD: usize = 1000;

#[derive(Clone, Debug, Serialize)]
pub struct Monitor {
    pub id: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub name: String,
    pub kind: String,
    pub period_secs: i64,
    pub grace_secs: i64,
    pub state: String,
    pub state_since: i64,
    pub reason: String,
    pub last_success_at: Option<i64>,
    pub last_payload: String,
    pub ticket_id: Option<String>,
    /// The municipality's zone, for showing times.
    pub time_zone: String,
    /// The inventory item this monitor watches (a backup server, a link), and its name.
    pub item_id: Option<String>,
    pub item_name: String,
    /// What an active check probes, as the engine's kind-tagged JSON; `{}` for heartbeats.
    pub probe: String,
    pub timeout_secs: i64,
    pub retries: i64,
    pub degraded_above_ms: Option<i64>,
    /// Where the service is; a maintenance window of this location covers the monitor.
    pub location_id: Option<String>,
    pub location_name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingOutcome {
    Start,
    Success,
    Fail,
}

const MONITOR_SELECT: &str = "SELECT m.id, m.tenant_id, t.name, m.name, m.kind, m.period_secs, m.grace_secs, m.state, m.state_since, m.reason, m.last_success_at, m.last_payload, m.ticket_id, t.time_zone, m.item_id, COALESCE(i.name, ''), m.probe, m.timeout_secs, m.retries, m.degraded_above_ms, m.location_id, COALESCE(l.name, '') FROM monitors m JOIN tenants t ON t.id = m.tenant_id LEFT JOIN items i ON i.id = m.item_id LEFT JOIN locations l ON l.id = m.location_id";

/// Tuples decode at most 16 columns, so a monitor row is read field by field.
struct MonitorRow(Monitor);

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for MonitorRow
where
    usize: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database>,
    Option<i64>: sqlx::Decode<'r, R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(MonitorRow(Monitor {
            id: row.try_get(0)?,
            tenant_id: TenantId::from_db(row.try_get::<String, _>(1)?),
            tenant_name: row.try_get(2)?,
            name: row.try_get(3)?,
            kind: row.try_get(4)?,
            period_secs: row.try_get(5)?,
            grace_secs: row.try_get(6)?,
            state: row.try_get(7)?,
            state_since: row.try_get(8)?,
            reason: row.try_get(9)?,
            last_success_at: row.try_get(10)?,
            last_payload: row.try_get(11)?,
            ticket_id: row.try_get(12)?,
            time_zone: row.try_get(13)?,
            item_id: row.try_get(14)?,
            item_name: row.try_get(15)?,
            probe: row.try_get(16)?,
            timeout_secs: row.try_get(17)?,
            retries: row.try_get(18)?,
            degraded_above_ms: row.try_get(19)?,
            location_id: row.try_get(20)?,
            location_name: row.try_get(21)?,
        }))
    }
}

fn monitor_from_row(r: MonitorRow) -> Monitor {
    r.0
}

/// What the rules say about one heartbeat now, from its last pings.
struct Verdict {
    state: MonitorState,
    reason: String,
}

type PingState = (i64, i64, i64, Option<i64>, Option<i64>, Option<i64>, String);

/// What [`Store::apply_verdict`] needs of a heartbeat, in the order of [`VERDICT_COLUMNS`]:
/// id, tenant_id, name, state, reason, ticket_id, period_secs, grace_secs, created_at,
/// last_start_at, last_success_at, last_fail_at, last_fail_reason.
type VerdictRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
);

/// The columns of a [`VerdictRow`]: read by the sweep, returned by a ping's update.
const VERDICT_COLUMNS: &str = "id, tenant_id, name, state, reason, ticket_id, period_secs, grace_secs, created_at, last_start_at, last_success_at, last_fail_at, last_fail_reason";

fn judge(row: &PingState, now: jiff::Timestamp) -> Result<Verdict, StoreError> {
    let (period, grace, created, start, success, fail, fail_reason) = row;
    let settings = HeartbeatSettings {
        period: SignedDuration::from_secs(*period),
        grace: SignedDuration::from_secs(*grace),
    };
    let mut tracker = HeartbeatTracker::new(settings, from_millis(*created))
        .map_err(|e| StoreError::Inconsistent(format!("heartbeat settings: {e}")))?;
    let mut pings: Vec<HeartbeatPing> = Vec::new();
    if let Some(at) = start {
        pings.push(HeartbeatPing::start(from_millis(*at)));
    }
    if let Some(at) = success {
        pings.push(HeartbeatPing::success(from_millis(*at), None));
    }
    if let Some(at) = fail {
        pings.push(HeartbeatPing::fail(from_millis(*at), fail_reason.clone()));
    }
    pings.sort_by_key(|p| p.at);
    for ping in pings {
        tracker.ping(ping);
    }
    Ok(Verdict {
        state: tracker.evaluate(now),
        reason: tracker
            .problem(now)
            .map(|p| p.to_string())
            .unwrap_or_default(),
    })
}

impl Store {
    /// Creates a heartbeat and returns its secret (shown once; only a digest is stored).
    pub async fn create_heartbeat(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        name: &str,
        period: SignedDuration,
        grace: SignedDuration,
    ) -> Result<(String, Monitor), StoreError> {
        scope.require(tenant, Permission::Operate)?;
        let name = display_name("name", name)?;
        let settings = HeartbeatSettings { period, grace };
        if let Err(e) = settings.validate() {
            return Err(StoreError::Invalid(FieldError::new(
                e.field(),
                "heartbeat-settings",
                "is outside what is allowed",
            )));
        }
        let secret = secret::generate(HEARTBEAT_PREFIX);
        let id = UserId::generate().to_string();
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO monitors (tenant_id, id, name, kind, token_hash, period_secs, grace_secs, state, state_since, created_at) VALUES ($1, $2, $3, 'heartbeat', $4, $5, $6, 'up', $7, $7)")
                .arg(tenant.as_str())
                .arg(id.as_str())
                .arg(name.as_str())
                .arg(secret::digest(&secret))
                .arg(period.as_secs())
                .arg(grace.as_secs())
                .arg(now),
        )
        .await?;
        tx.audit(scope.actor(), now, Change {
            tenant: Some(tenant),
            action: "create",
            object_type: "monitor",
            object_id: &id,
            before: None,
            after: Some(serde_json::json!({ "name": name, "kind": "heartbeat", "period_secs": period.as_secs(), "grace_secs": grace.as_secs() })),
        })
        .await?;
        tx.commit().await?;
        Ok((secret, self.get_monitor(scope, &id).await?))
    }

    /// Links a monitor to the inventory item it watches, or unlinks it (`None`). An outage
    /// ticket then names the item, and the item's page lists it among its tickets.
    pub async fn set_monitor_item(
        &self,
        scope: &Scope,
        id: &str,
        item: Option<&str>,
    ) -> Result<Monitor, StoreError> {
        let monitor = self.get_monitor(scope, id).await?;
        scope.require(&monitor.tenant_id, Permission::Operate)?;
        let summary = match item {
            Some(item) => Some(
                self.get_item(scope, item)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => StoreError::Invalid(FieldError::new(
                            "item",
                            "item-unknown",
                            "no such item, or it belongs to a municipality you cannot see",
                        )),
                        e => e,
                    })?
                    .summary,
            ),
            None => None,
        };
        let item_name = summary.as_ref().map(|s| s.name.clone());
        // A site's links are checked by one node, which needs both to tell "on its backup
        // link" from "down": link monitors share the bucket of their location.
        let bucket = match &summary {
            Some(s) if s.item_type == ItemType::NetworkLink => {
                crate::checks::bucket_of(s.location_id.as_deref().unwrap_or(id))
            }
            _ => crate::checks::bucket_of(id),
        };
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            // updated_at: the engine reloads the monitor, whose item may make it a link.
            Sql::new("UPDATE monitors SET item_id = $1, updated_at = $4, bucket = $5 WHERE tenant_id = $2 AND id = $3")
                .arg(item.map(str::to_string))
                .arg(monitor.tenant_id.as_str())
                .arg(id)
                .arg(now)
                .arg(bucket),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&monitor.tenant_id),
                action: "link_item",
                object_type: "monitor",
                object_id: id,
                before: Some(serde_json::json!({ "item": monitor.item_id })),
                after: Some(serde_json::json!({ "item": item, "name": item_name })),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_monitor(scope, id).await
    }

    pub async fn get_monitor(&self, scope: &Scope, id: &str) -> Result<Monitor, StoreError> {
        let sql = Sql::new(format!("{MONITOR_SELECT} WHERE m.id = $1 AND "))
            .arg(id)
            .in_scope(scope, Permission::ReadAll, "m.tenant_id");
        self.fetch_optional::<MonitorRow>(sql)
            .await?
            .map(monitor_from_row)
            .ok_or(StoreError::NotFound)
    }

    /// A fingerprint of the monitors in scope that changes with any state change, creation
    /// or removal: the operations wall's live stream polls it.
    pub async fn monitors_version(&self, scope: &Scope) -> Result<i64, StoreError> {
        // The state's length is mixed in because two changes may share an instant (and a
        // frozen test clock makes every change share one).
        let sql = Sql::new("SELECT COUNT(*), CAST(COALESCE(SUM((m.state_since + LENGTH(m.state) * 104729) % 1000003), 0) AS BIGINT) FROM monitors m WHERE ")
            .in_scope(scope, Permission::ReadAll, "m.tenant_id");
        let (count, sum): (i64, i64) = self.fetch_optional(sql).await?.unwrap_or((0, 0));
        Ok(count.wrapping_mul(1_000_003).wrapping_add(sum))
    }

    /// Monitors in scope, problems first.
    pub async fn list_monitors(&self, scope: &Scope) -> Result<Vec<Monitor>, StoreError> {
        let sql = Sql::new(format!("{MONITOR_SELECT} WHERE "))
            .in_scope(scope, Permission::ReadAll, "m.tenant_id")
            .push(" ORDER BY m.state = 'up', t.name, m.name");
        Ok(self
            .fetch_all::<MonitorRow>(sql)
            .await?
            .into_iter()
            .map(monitor_from_row)
            .collect())
    }

    /// Records a ping by secret. Unscoped by nature: the secret is the credential.
    /// Returns `NotFound` for an unknown secret. A ping that changes the verdict is
    /// evaluated at once, so a recovered backup turns green without waiting for the sweep.
    pub async fn heartbeat_ping(
        &self,
        secret: &str,
        outcome: PingOutcome,
        payload: &str,
    ) -> Result<(), StoreError> {
        if !secret.starts_with(HEARTBEAT_PREFIX) {
            return Err(StoreError::NotFound);
        }
        let payload: String = payload
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .take(MAX_PAYLOAD)
            .collect();
        let now = self.now_ms();
        // One statement in the common case: the update returns what the rules need, and a
        // transaction is opened only when the verdict changes the state.
        let set = match outcome {
            PingOutcome::Start => "last_start_at = $1",
            PingOutcome::Success => "last_success_at = $1, last_payload = $3",
            PingOutcome::Fail => "last_fail_at = $1, last_fail_reason = $3",
        };
        let mut sql = Sql::new(format!(
            "UPDATE monitors SET {set} WHERE token_hash = $2 RETURNING {VERDICT_COLUMNS}"
        ))
        .arg(now)
        .arg(secret::digest(secret));
        if outcome != PingOutcome::Start {
            sql = sql.arg(payload);
        }
        let row: VerdictRow = self
            .write_fetch_optional(sql)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.apply_verdict(row).await.map(|_| ())
    }

    /// Evaluates every heartbeat (the background sweep). Returns how many changed state.
    pub async fn evaluate_heartbeats(&self) -> Result<usize, StoreError> {
        let ids: Vec<(String,)> = self
            .fetch_all(Sql::new(
                "SELECT id FROM monitors WHERE kind = 'heartbeat' AND state <> 'paused'",
            ))
            .await?;
        let mut changed = 0;
        for (id,) in ids {
            if self.evaluate_monitor(&id).await? {
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Applies the rules to one monitor; true when this call changed its state.
    async fn evaluate_monitor(&self, id: &str) -> Result<bool, StoreError> {
        let row: Option<VerdictRow> = self
            .fetch_optional(
                Sql::new(format!(
                    "SELECT {VERDICT_COLUMNS} FROM monitors WHERE id = $1"
                ))
                .arg(id),
            )
            .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        self.apply_verdict(row).await
    }

    /// Judges a heartbeat from its row (as `evaluate_monitor` reads it or `heartbeat_ping`'s
    /// update returns it) and, only when the verdict differs from the stored state, claims
    /// and records the change; true when this call changed its state.
    async fn apply_verdict(&self, row: VerdictRow) -> Result<bool, StoreError> {
        let (
            id,
            tenant,
            name,
            state,
            _,
            ticket_id,
            period,
            grace,
            created,
            start,
            success,
            fail,
            fail_reason,
        ) = row;
        let id = id.as_str();
        if state == "paused" {
            return Ok(false);
        }
        let verdict = judge(
            &(period, grace, created, start, success, fail, fail_reason),
            self.now(),
        )?;
        let mut next = verdict.state;
        if next.as_str() == state {
            return Ok(false);
        }
        let tenant = TenantId::from_db(tenant);
        // Inside a maintenance window a problem is recorded as maintenance, silently; when
        // the window is over the sweep finds the problem again and announces it then.
        if (next.is_problem() || state == "maintenance")
            && self.in_maintenance(&tenant, id, self.now()).await?
        {
            next = MonitorState::Maintenance;
            if state == "maintenance" {
                return Ok(false);
            }
        }
        let announced = next != MonitorState::Maintenance;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        // Claim the change: only the node whose update still sees the old state acts on it.
        let claimed = tx
            .execute(
                Sql::new("UPDATE monitors SET state = $1, state_since = $2, reason = $3 WHERE id = $4 AND state = $5")
                    .arg(next.as_str())
                    .arg(now)
                    .arg(verdict.reason.as_str())
                    .arg(id)
                    .arg(state.as_str()),
            )
            .await?;
        if claimed == 0 {
            tx.commit().await?;
            return Ok(false);
        }
        let system = Actor::system(format!("drifta monitor: {name}"));
        tx.monitor_state_changed(
            StateEvent {
                tenant: &tenant,
                monitor_id: id,
                name: &name,
                from: &state,
                to: next.as_str(),
                at: now,
                reason: &verdict.reason,
                announced,
            },
            &system,
            now,
        )
        .await?;
        tx.commit().await?;
        if !announced {
            return Ok(true);
        }

        // The ticket is written after the state change is committed: a crash in between
        // leaves the monitor down without a ticket, which the next sweep does not repeat, so
        // the open-ticket step looks at ticket_id rather than at the transition.
        self.outage_ticket(Outage {
            id,
            tenant: &tenant,
            name: &name,
            state: next,
            reason: &verdict.reason,
            ticket_id,
            recovered: "outage-heartbeat-recovered",
        })
        .await?;
        Ok(true)
    }
}

/// A monitor's state change as far as its outage ticket is concerned.
pub(crate) struct Outage<'a> {
    pub id: &'a str,
    pub tenant: &'a TenantId,
    pub name: &'a str,
    pub state: MonitorState,
    pub reason: &'a str,
    /// The ticket of the open outage, if any.
    pub ticket_id: Option<String>,
    /// How a recovery note ends the sentence after the monitor's name.
    /// The catalogue key of the note written when the outage ends.
    pub recovered: &'a str,
}

impl Store {
    /// Opens the outage ticket of a monitor that went down (unless one is open), or notes
    /// the recovery on it and lets it go. Called after the state change is committed.
    pub(crate) async fn outage_ticket(&self, outage: Outage<'_>) -> Result<(), StoreError> {
        let Outage {
            id,
            tenant,
            name,
            state,
            reason,
            ticket_id,
            recovered,
        } = outage;
        let system = Actor::system(format!("drifta monitor: {name}"));
        let scope = Scope::new(system, [(tenant.clone(), Role::Technician)]);
        let lang: Option<(String,)> = self
            .fetch_optional(
                Sql::new("SELECT language FROM tenants WHERE id = $1").arg(tenant.as_str()),
            )
            .await?;
        let lang = lang
            .and_then(|(code,)| Language::from_code(&code))
            .unwrap_or(Language::Nb);
        let text = |key: &str| {
            self.texts
                .text(lang, key, &[("monitor", name), ("reason", reason)])
        };
        if state == MonitorState::Down && ticket_id.is_none() {
            let ticket = self
                .create_ticket(
                    &scope,
                    NewTicket {
                        tenant_id: tenant.clone(),
                        kind: TicketKind::Incident,
                        title: text("outage-ticket-title").chars().take(120).collect(),
                        description: text("outage-ticket-description"),
                        requester_id: None,
                        location_id: None,
                        category: "monitor".into(),
                        impact: Level::High,
                        urgency: Level::Medium,
                        channel: "monitor".into(),
                    },
                )
                .await?;
            self.execute(
                Sql::new("UPDATE monitors SET ticket_id = $1 WHERE id = $2")
                    .arg(ticket.id.as_str())
                    .arg(id),
            )
            .await?;
            let item: Option<(Option<String>,)> = self
                .fetch_optional(Sql::new("SELECT item_id FROM monitors WHERE id = $1").arg(id))
                .await?;
            if let Some((Some(item),)) = item {
                // The item may be another municipality's shared server, out of this
                // municipality's reach: the ticket stands without the link then.
                let installation = self.installation_scope(Actor::system("monitor")).await?;
                if let Err(e) = self
                    .link_ticket_item(&installation, &ticket.id, &item)
                    .await
                {
                    tracing::warn!(error = %e, monitor = id, "outage ticket not linked to its item");
                }
            }
        } else if matches!(state, MonitorState::Up | MonitorState::Paused)
            && let Some(ticket_id) = ticket_id
        {
            // Recovery is noted on the outage's ticket; a technician resolves it.
            let _ = self
                .add_comment(&scope, &ticket_id, &text(recovered), false)
                .await;
            self.execute(Sql::new("UPDATE monitors SET ticket_id = NULL WHERE id = $1").arg(id))
                .await?;
        }
        Ok(())
    }
}
