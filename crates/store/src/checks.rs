//! Active checks (HTTP, TCP, ICMP, DNS, TLS expiry): their settings, pausing, the engine's
//! leases, state changes written in batches, hourly history and maintenance windows.
//!
//! The engine (`drifta-monitor`) keeps every check result in memory; it calls this module
//! once a second at most for state changes and once a minute for history, each call one
//! transaction, so 10,000 monitors never mean 10,000 writes a minute.

use crate::alerts::StateEvent;
use crate::audit::Change;
use crate::db::Store;
use crate::error::StoreError;
use crate::monitors::{Monitor, Outage};
use crate::sql::Sql;
use drifta_core::clock::from_millis;
use drifta_core::monitor::{CheckSettings, LinkRole, MaintenanceWindow, MonitorKind, MonitorState};
use drifta_core::validate::{FieldError, display_name};
use drifta_core::{Actor, Permission, Scope, TenantId, UserId};
use jiff::SignedDuration;
use serde::Serialize;

/// Check buckets leased to engine nodes; a monitor belongs to one by its id.
pub const LEASE_BUCKETS: i64 = 64;

/// A new active check. `probe` is the engine's kind-tagged JSON, validated by the caller
/// with `drifta_monitor::probe::Probe::validate` (the store cannot know every probe).
#[derive(Clone, Debug)]
pub struct NewCheck {
    pub tenant_id: TenantId,
    pub name: String,
    pub kind: MonitorKind,
    pub probe: serde_json::Value,
    pub interval_secs: i64,
    pub timeout_secs: i64,
    pub retries: i64,
    pub degraded_above_ms: Option<i64>,
    pub location_id: Option<String>,
}

/// An active monitor as the engine needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineMonitor {
    pub id: String,
    pub tenant_id: TenantId,
    pub name: String,
    pub kind: String,
    pub probe: String,
    pub interval_secs: i64,
    pub timeout_secs: i64,
    pub retries: i64,
    pub degraded_above_ms: Option<i64>,
    pub state: String,
    pub state_since: i64,
    /// The monitor's own location, else its item's.
    pub location_id: Option<String>,
    pub updated_at: i64,
    /// Set when the monitor watches a network link in the inventory.
    pub link: Option<LinkRole>,
}

/// A network link's role from its item's attributes: primary unless marked otherwise,
/// because most sites have one link and it is their primary.
fn link_role(attributes: &str) -> LinkRole {
    // Stored normalised by drifta_core::item_fields: booleans as "true"/"false".
    let primary = serde_json::from_str::<serde_json::Value>(attributes)
        .ok()
        .and_then(|a| match a.get("primary")? {
            serde_json::Value::Bool(b) => Some(*b),
            serde_json::Value::String(s) => Some(s != "false"),
            _ => None,
        });
    if primary == Some(false) {
        LinkRole::Backup
    } else {
        LinkRole::Primary
    }
}

/// A state change the engine decided on.
#[derive(Clone, Debug)]
pub struct StateChange {
    pub monitor_id: String,
    pub at: i64,
    pub from: MonitorState,
    pub to: MonitorState,
    pub reason: String,
    /// Announced (not silenced by maintenance or flap damping): tickets follow it.
    pub announced: bool,
}

/// One monitor's hour of history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HourRow {
    pub monitor_id: String,
    pub hour: i64,
    pub up_secs: i64,
    pub degraded_secs: i64,
    pub down_secs: i64,
    pub maintenance_secs: i64,
    pub checks: i64,
    pub latency_p50: Option<i64>,
    pub latency_p95: Option<i64>,
    /// Sixty packed minutes (`drifta_core::monitor_history::PackedMinutes`).
    #[serde(skip)]
    pub minutes: Vec<u8>,
}

/// Where a maintenance window applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "applies_to", content = "target_id", rename_all = "snake_case")]
pub enum MaintenanceTarget {
    Tenant,
    Location(String),
    Monitor(String),
}

/// When a maintenance window is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "schedule", rename_all = "snake_case")]
pub enum MaintenanceSchedule {
    /// Milliseconds since the epoch.
    Once { starts_at: i64, ends_at: i64 },
    /// Weekdays as bits (Monday = 1, Tuesday = 2, … Sunday = 64), a local start minute of
    /// the day in the municipality's zone, and a duration.
    Weekly {
        weekdays: u8,
        start_minute: u16,
        duration_mins: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Maintenance {
    pub id: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub time_zone: String,
    pub title: String,
    pub target: MaintenanceTarget,
    /// The monitor's or location's name, for lists.
    pub target_name: String,
    pub schedule: MaintenanceSchedule,
}

impl Maintenance {
    /// The core rule's window for this stored one; `None` for one that no longer makes
    /// sense (a zone the system does not know, an inverted one-off).
    pub fn window(&self) -> Option<MaintenanceWindow> {
        let made = match self.schedule {
            MaintenanceSchedule::Once { starts_at, ends_at } => {
                MaintenanceWindow::one_off(from_millis(starts_at), from_millis(ends_at))
            }
            MaintenanceSchedule::Weekly {
                weekdays,
                start_minute,
                duration_mins,
            } => {
                let tz = jiff::tz::TimeZone::get(&self.time_zone).ok()?;
                let days: Vec<jiff::civil::Weekday> = (0..7)
                    .filter(|bit| weekdays & (1 << bit) != 0)
                    .map(|bit| jiff::civil::Weekday::from_monday_zero_offset(bit).ok())
                    .collect::<Option<_>>()?;
                let start = jiff::civil::Time::new(
                    i8::try_from(start_minute / 60).ok()?,
                    i8::try_from(start_minute % 60).ok()?,
                    0,
                    0,
                )
                .ok()?;
                MaintenanceWindow::weekly(
                    &days,
                    start,
                    SignedDuration::from_mins(i64::from(duration_mins)),
                    tz,
                )
            }
        };
        made.ok()
    }
}

#[derive(Clone, Debug)]
pub struct NewMaintenance {
    pub tenant_id: TenantId,
    pub title: String,
    pub target: MaintenanceTarget,
    pub schedule: MaintenanceSchedule,
}

fn invalid(field: &'static str, code: &'static str, message: &'static str) -> StoreError {
    StoreError::Invalid(FieldError::new(field, code, message))
}

/// The bucket of a monitor id: stable, spread evenly by the id's random tail.
pub fn bucket_of(id: &str) -> i64 {
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::try_from(hash % LEASE_BUCKETS.unsigned_abs()).unwrap_or(0)
}

impl Store {
    /// Creates an active check, up until its first checks say otherwise.
    pub async fn create_check_monitor(
        &self,
        scope: &Scope,
        new: NewCheck,
    ) -> Result<Monitor, StoreError> {
        scope.require(&new.tenant_id, Permission::Operate)?;
        let name = display_name("name", &new.name)?;
        if !new.kind.is_active() {
            return Err(invalid(
                "kind",
                "monitor-kind",
                "is not a kind of active check",
            ));
        }
        let settings = check_settings(
            new.interval_secs,
            new.timeout_secs,
            new.retries,
            new.degraded_above_ms,
        )?;
        if let Some(location) = &new.location_id {
            self.require_location(&new.tenant_id, location).await?;
        }
        let id = UserId::generate().to_string();
        let now = self.now_ms();
        let probe = new.probe.to_string();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO monitors (tenant_id, id, name, kind, period_secs, grace_secs, state, state_since, created_at, probe, timeout_secs, retries, degraded_above_ms, location_id, updated_at, bucket) VALUES ($1, $2, $3, $4, $5, 0, 'up', $6, $6, $7, $8, $9, $10, $11, $6, $12)")
                .arg(new.tenant_id.as_str())
                .arg(id.as_str())
                .arg(name.as_str())
                .arg(new.kind.as_str())
                .arg(settings.interval.as_secs())
                .arg(now)
                .arg(probe.as_str())
                .arg(settings.timeout.as_secs())
                .arg(i64::from(settings.retries))
                .arg(new.degraded_above_ms)
                .arg(new.location_id.clone())
                .arg(bucket_of(&id)),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&new.tenant_id),
                action: "create",
                object_type: "monitor",
                object_id: &id,
                before: None,
                after: Some(serde_json::json!({
                    "name": name, "kind": new.kind.as_str(), "probe": new.probe,
                    "interval_secs": new.interval_secs, "timeout_secs": new.timeout_secs,
                    "retries": new.retries, "degraded_above_ms": new.degraded_above_ms,
                    "location": new.location_id,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_monitor(scope, &id).await
    }

    async fn require_location(&self, tenant: &TenantId, location: &str) -> Result<(), StoreError> {
        let found: Option<(String,)> = self
            .fetch_optional(
                Sql::new("SELECT id FROM locations WHERE id = $1 AND tenant_id = $2")
                    .arg(location)
                    .arg(tenant.as_str()),
            )
            .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(invalid(
                "location",
                "location-unknown",
                "no such location in this municipality",
            )),
        }
    }

    /// Pauses a monitor (nothing is checked or alerted; an open outage counts as over) or
    /// resumes it.
    pub async fn set_monitor_paused(
        &self,
        scope: &Scope,
        id: &str,
        paused: bool,
    ) -> Result<Monitor, StoreError> {
        let monitor = self.get_monitor(scope, id).await?;
        scope.require(&monitor.tenant_id, Permission::Operate)?;
        if (monitor.state == "paused") == paused {
            return Ok(monitor);
        }
        let next = if paused { "paused" } else { "up" };
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("UPDATE monitors SET state = $1, state_since = $2, reason = '', updated_at = $2 WHERE id = $3 AND tenant_id = $4")
                .arg(next)
                .arg(now)
                .arg(id)
                .arg(monitor.tenant_id.as_str()),
        )
        .await?;
        tx.monitor_state_changed(
            StateEvent {
                tenant: &monitor.tenant_id,
                monitor_id: id,
                name: &monitor.name,
                from: &monitor.state,
                to: next,
                at: now,
                reason: "",
                announced: false,
            },
            scope.actor(),
            now,
        )
        .await?;
        tx.commit().await?;
        if paused {
            self.outage_ticket(Outage {
                id,
                tenant: &monitor.tenant_id,
                name: &monitor.name,
                state: MonitorState::Paused,
                reason: "",
                ticket_id: monitor.ticket_id.clone(),
                recovered: "outage-paused",
            })
            .await?;
        }
        self.get_monitor(scope, id).await
    }

    // ---- The engine's side: unscoped, it serves every municipality ----------------------

    /// Registers `node` as alive and returns the buckets it holds after taking its fair share
    /// (64 / live nodes, rounded up) of free or expired ones and letting go of any surplus.
    /// A node that stops calling loses its buckets when `lease` passes.
    pub async fn claim_buckets(
        &self,
        node: &str,
        lease: SignedDuration,
    ) -> Result<Vec<i64>, StoreError> {
        let now = self.now_ms();
        let expires = now + lease.as_millis() as i64;
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO engine_nodes (node_id, seen_at) VALUES ($1, $2) ON CONFLICT (node_id) DO UPDATE SET seen_at = excluded.seen_at")
                .arg(node)
                .arg(now),
        )
        .await?;
        let (live,): (i64,) = tx
            .fetch_optional(
                Sql::new("SELECT COUNT(*) FROM engine_nodes WHERE seen_at > $1")
                    .arg(now - lease.as_millis() as i64),
            )
            .await?
            .unwrap_or((1,));
        let share = (LEASE_BUCKETS + live.max(1) - 1) / live.max(1);
        let held: Vec<(i64,)> = tx
            .fetch_all(
                Sql::new(
                    "UPDATE engine_leases SET expires_at = $1 WHERE holder = $2 RETURNING bucket",
                )
                .arg(expires)
                .arg(node),
            )
            .await?;
        let mut held: Vec<i64> = held.into_iter().map(|(b,)| b).collect();
        held.sort_unstable();
        let held_count = i64::try_from(held.len()).unwrap_or(LEASE_BUCKETS);
        if held_count > share {
            let surplus = held.split_off(usize::try_from(share).unwrap_or(0));
            tx.execute(
                Sql::new("UPDATE engine_leases SET holder = '', expires_at = 0 WHERE holder = ")
                    .push_arg(node)
                    .push(" AND ")
                    .push_in("bucket", surplus),
            )
            .await?;
        } else if held_count < share {
            // The condition is repeated outside the subquery: on PostgreSQL two nodes may pick
            // the same expired buckets, and the second update re-checks it after the first
            // commits, so each bucket gets one holder.
            let taken: Vec<(i64,)> = tx
                .fetch_all(
                    Sql::new("UPDATE engine_leases SET holder = $1, expires_at = $2 WHERE bucket IN (SELECT bucket FROM engine_leases WHERE expires_at < $3 ORDER BY bucket LIMIT $4) AND expires_at < $3 RETURNING bucket")
                        .arg(node)
                        .arg(expires)
                        .arg(now)
                        .arg(share - held_count),
                )
                .await?;
            held.extend(taken.into_iter().map(|(b,)| b));
            held.sort_unstable();
        }
        // Nodes gone for a day are forgotten, so they stop counting towards the share.
        tx.execute(Sql::new("DELETE FROM engine_nodes WHERE seen_at < $1").arg(now - 86_400_000))
            .await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Gives up a node's buckets at shutdown, so others take them over at once.
    pub async fn release_buckets(&self, node: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("UPDATE engine_leases SET holder = '', expires_at = 0 WHERE holder = $1")
                .arg(node),
        )
        .await?;
        tx.execute(Sql::new("DELETE FROM engine_nodes WHERE node_id = $1").arg(node))
            .await?;
        tx.commit().await
    }

    /// A cheap fingerprint of the active monitors' settings: it changes whenever one is
    /// created, changed, paused or resumed, or the item one watches is edited (a link's
    /// primary/backup role and the location come from the item), so the engine reloads
    /// only then.
    pub async fn checks_version(&self) -> Result<(i64, i64, i64), StoreError> {
        let (count, newest, newest_item): (i64, Option<i64>, Option<i64>) = self
            .fetch_optional(Sql::new(
                "SELECT COUNT(*), MAX(m.updated_at), MAX(i.updated_at) FROM monitors m \
                 LEFT JOIN items i ON i.id = m.item_id WHERE m.kind <> 'heartbeat'",
            ))
            .await?
            .unwrap_or((0, None, None));
        Ok((count, newest.unwrap_or(0), newest_item.unwrap_or(0)))
    }

    /// The active monitors of the given buckets.
    pub async fn engine_monitors(&self, buckets: &[i64]) -> Result<Vec<EngineMonitor>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            i64,
            i64,
            i64,
            Option<i64>,
            String,
            i64,
            Option<String>,
            i64,
            Option<String>,
        );
        let rows: Vec<Row> = self
            .fetch_all(
                Sql::new("SELECT m.id, m.tenant_id, m.name, m.kind, m.probe, m.period_secs, m.timeout_secs, m.retries, m.degraded_above_ms, m.state, m.state_since, COALESCE(m.location_id, i.location_id), m.updated_at, CASE WHEN i.item_type = 'network_link' THEN i.attributes END FROM monitors m LEFT JOIN items i ON i.id = m.item_id WHERE m.kind <> 'heartbeat' AND ")
                    .push_in("m.bucket", buckets.iter().copied()),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| EngineMonitor {
                id: r.0,
                tenant_id: TenantId::from_db(r.1),
                name: r.2,
                kind: r.3,
                probe: r.4,
                interval_secs: r.5,
                timeout_secs: r.6,
                retries: r.7,
                degraded_above_ms: r.8,
                state: r.9,
                state_since: r.10,
                location_id: r.11,
                updated_at: r.12,
                link: r.13.as_deref().map(link_role),
            })
            .collect())
    }

    /// Writes a batch of state changes in one transaction, then opens outage tickets and
    /// notes recoveries for the announced ones. A change is claimed with `… AND state =
    /// <from>`, so a change another node already wrote is skipped. Returns how many were
    /// written.
    pub async fn record_state_changes(&self, changes: &[StateChange]) -> Result<usize, StoreError> {
        if changes.is_empty() {
            return Ok(0);
        }
        let now = self.now_ms();
        let mut written = 0;
        let mut follow_up = Vec::new();
        let mut tx = self.begin().await?;
        for change in changes {
            let row: Option<(String, String, String, Option<String>)> = tx
                .fetch_optional(
                    Sql::new("UPDATE monitors SET state = $1, state_since = $2, reason = $3 WHERE id = $4 AND state <> 'paused' AND state <> $1 RETURNING tenant_id, name, state, ticket_id")
                        .arg(change.to.as_str())
                        .arg(change.at)
                        .arg(change.reason.as_str())
                        .arg(change.monitor_id.as_str()),
                )
                .await?;
            let Some((tenant, name, _, ticket_id)) = row else {
                continue;
            };
            let tenant = TenantId::from_db(tenant);
            let system = Actor::system(format!("drifta monitor: {name}"));
            tx.monitor_state_changed(
                StateEvent {
                    tenant: &tenant,
                    monitor_id: &change.monitor_id,
                    name: &name,
                    from: change.from.as_str(),
                    to: change.to.as_str(),
                    at: change.at,
                    reason: &change.reason,
                    announced: change.announced,
                },
                &system,
                now,
            )
            .await?;
            written += 1;
            if change.announced {
                follow_up.push((change, tenant, name, ticket_id));
            }
        }
        tx.commit().await?;
        for (change, tenant, name, ticket_id) in follow_up {
            self.outage_ticket(Outage {
                id: &change.monitor_id,
                tenant: &tenant,
                name: &name,
                state: change.to,
                reason: &change.reason,
                ticket_id,
                recovered: "outage-recovered",
            })
            .await?;
        }
        Ok(written)
    }

    /// Writes hours of history (replacing what an earlier flush of the same hour wrote), 500
    /// rows per transaction: on SQLite one transaction of 10,000 rows held the only writer
    /// for ~0.8 s, and every web request that writes waited that long.
    pub async fn write_monitor_hours(&self, rows: &[HourRow]) -> Result<(), StoreError> {
        for chunk in rows.chunks(500) {
            self.write_hour_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn write_hour_chunk(&self, rows: &[HourRow]) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for row in rows {
            tx.execute(
                Sql::new("INSERT INTO monitor_hours (tenant_id, monitor_id, hour, up_secs, degraded_secs, down_secs, maintenance_secs, checks, latency_p50, latency_p95, minutes) SELECT tenant_id, id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM monitors WHERE id = $1 ON CONFLICT (monitor_id, hour) DO UPDATE SET up_secs = excluded.up_secs, degraded_secs = excluded.degraded_secs, down_secs = excluded.down_secs, maintenance_secs = excluded.maintenance_secs, checks = excluded.checks, latency_p50 = excluded.latency_p50, latency_p95 = excluded.latency_p95, minutes = excluded.minutes")
                    .arg(row.monitor_id.as_str())
                    .arg(row.hour)
                    .arg(row.up_secs)
                    .arg(row.degraded_secs)
                    .arg(row.down_secs)
                    .arg(row.maintenance_secs)
                    .arg(row.checks)
                    .arg(row.latency_p50)
                    .arg(row.latency_p95)
                    .arg(row.minutes.clone()),
            )
            .await?;
        }
        tx.commit().await
    }

    /// The stored rows of one hour for the given monitors (the engine resumes them).
    pub async fn engine_hours(
        &self,
        monitor_ids: &[String],
        hour: i64,
    ) -> Result<Vec<HourRow>, StoreError> {
        let mut out = Vec::new();
        // Chunked: SQLite allows at most 32,766 parameters per statement.
        for chunk in monitor_ids.chunks(500) {
            out.extend(
                self.hour_rows(
                    Sql::new(HOUR_SELECT)
                        .push(" WHERE hour = ")
                        .push_arg(hour)
                        .push(" AND ")
                        .push_in("monitor_id", chunk.iter().map(String::as_str)),
                )
                .await?,
            );
        }
        Ok(out)
    }

    /// A monitor's hours from `since` (milliseconds), oldest first.
    pub async fn monitor_hours(
        &self,
        scope: &Scope,
        id: &str,
        since: i64,
    ) -> Result<Vec<HourRow>, StoreError> {
        let monitor = self.get_monitor(scope, id).await?;
        self.hour_rows(
            Sql::new(HOUR_SELECT)
                .push(" WHERE monitor_id = ")
                .push_arg(monitor.id.as_str())
                .push(" AND tenant_id = ")
                .push_arg(monitor.tenant_id.as_str())
                .push(" AND hour >= ")
                .push_arg(since)
                .push(" ORDER BY hour"),
        )
        .await
    }

    async fn hour_rows(&self, sql: Sql) -> Result<Vec<HourRow>, StoreError> {
        type Row = (
            String,
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
            Option<i64>,
            Option<i64>,
            Vec<u8>,
        );
        let rows: Vec<Row> = self.fetch_all(sql).await?;
        Ok(rows
            .into_iter()
            .map(|r| HourRow {
                monitor_id: r.0,
                hour: r.1,
                up_secs: r.2,
                degraded_secs: r.3,
                down_secs: r.4,
                maintenance_secs: r.5,
                checks: r.6,
                latency_p50: r.7,
                latency_p95: r.8,
                minutes: r.9,
            })
            .collect())
    }

    // ---- Maintenance windows -------------------------------------------------------------

    pub async fn create_maintenance(
        &self,
        scope: &Scope,
        new: NewMaintenance,
    ) -> Result<Maintenance, StoreError> {
        scope.require(&new.tenant_id, Permission::Operate)?;
        let title = display_name("title", &new.title)?;
        match &new.target {
            MaintenanceTarget::Tenant => {}
            MaintenanceTarget::Location(location) => {
                self.require_location(&new.tenant_id, location).await?;
            }
            MaintenanceTarget::Monitor(monitor) => {
                let found = self.get_monitor(scope, monitor).await.ok();
                if found.is_none_or(|m| m.tenant_id != new.tenant_id) {
                    return Err(invalid(
                        "monitor",
                        "monitor-unknown",
                        "no such monitor in this municipality",
                    ));
                }
            }
        }
        let (starts_at, ends_at, weekdays, start_minute, duration_mins) = match new.schedule {
            MaintenanceSchedule::Once { starts_at, ends_at } => {
                if ends_at <= starts_at {
                    return Err(invalid(
                        "ends_at",
                        "maintenance-end",
                        "must be after the start",
                    ));
                }
                (Some(starts_at), Some(ends_at), 0, 0, 0)
            }
            MaintenanceSchedule::Weekly {
                weekdays,
                start_minute,
                duration_mins,
            } => {
                if weekdays == 0 || weekdays > 127 {
                    return Err(invalid(
                        "weekdays",
                        "maintenance-weekdays",
                        "choose at least one weekday",
                    ));
                }
                if start_minute >= 24 * 60 {
                    return Err(invalid(
                        "start",
                        "maintenance-start",
                        "must be a time of day",
                    ));
                }
                if duration_mins == 0 || duration_mins > 7 * 24 * 60 {
                    return Err(invalid(
                        "duration",
                        "maintenance-duration",
                        "must be between one minute and one week",
                    ));
                }
                (
                    None,
                    None,
                    i64::from(weekdays),
                    i64::from(start_minute),
                    i64::from(duration_mins),
                )
            }
        };
        let (applies_to, target_id) = match &new.target {
            MaintenanceTarget::Tenant => ("tenant", None),
            MaintenanceTarget::Location(id) => ("location", Some(id.clone())),
            MaintenanceTarget::Monitor(id) => ("monitor", Some(id.clone())),
        };
        let id = UserId::generate().to_string();
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO maintenance_windows (tenant_id, id, title, applies_to, target_id, schedule, starts_at, ends_at, weekdays, start_minute, duration_mins, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                .arg(new.tenant_id.as_str())
                .arg(id.as_str())
                .arg(title.as_str())
                .arg(applies_to)
                .arg(target_id)
                .arg(if starts_at.is_some() { "once" } else { "weekly" })
                .arg(starts_at)
                .arg(ends_at)
                .arg(weekdays)
                .arg(start_minute)
                .arg(duration_mins)
                .arg(now),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&new.tenant_id),
                action: "create",
                object_type: "maintenance",
                object_id: &id,
                before: None,
                after: Some(serde_json::json!({
                    "title": title, "target": new.target, "schedule": new.schedule,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        self.list_maintenance(scope)
            .await?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or(StoreError::NotFound)
    }

    pub async fn delete_maintenance(&self, scope: &Scope, id: &str) -> Result<(), StoreError> {
        let window = self
            .list_maintenance(scope)
            .await?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or(StoreError::NotFound)?;
        scope.require(&window.tenant_id, Permission::Operate)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("DELETE FROM maintenance_windows WHERE id = $1 AND tenant_id = $2")
                .arg(id)
                .arg(window.tenant_id.as_str()),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&window.tenant_id),
                action: "delete",
                object_type: "maintenance",
                object_id: id,
                before: Some(serde_json::json!({ "title": window.title, "target": window.target, "schedule": window.schedule })),
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Maintenance windows in scope.
    pub async fn list_maintenance(&self, scope: &Scope) -> Result<Vec<Maintenance>, StoreError> {
        self.maintenance_rows(
            Sql::new(format!("{MAINTENANCE_SELECT} WHERE "))
                .in_scope(scope, Permission::ReadAll, "w.tenant_id")
                .push(" ORDER BY t.name, w.title"),
        )
        .await
    }

    /// Every maintenance window, for the engine.
    pub async fn all_maintenance(&self) -> Result<Vec<Maintenance>, StoreError> {
        self.maintenance_rows(Sql::new(MAINTENANCE_SELECT)).await
    }

    /// Whether a maintenance window of the monitor, its location or its municipality is
    /// going on at `now` (heartbeats ask this when a verdict would change their state).
    pub(crate) async fn in_maintenance(
        &self,
        tenant: &TenantId,
        monitor_id: &str,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let windows = self
            .maintenance_rows(
                Sql::new(format!("{MAINTENANCE_SELECT} WHERE w.tenant_id = "))
                    .push_arg(tenant.as_str())
                    .push(" AND (w.applies_to = 'tenant' OR (w.applies_to = 'monitor' AND w.target_id = ")
                    .push_arg(monitor_id)
                    .push(") OR (w.applies_to = 'location' AND w.target_id = (SELECT location_id FROM monitors WHERE id = ")
                    .push_arg(monitor_id)
                    .push(")))"),
            )
            .await?;
        Ok(windows
            .iter()
            .filter_map(Maintenance::window)
            .any(|w| w.is_active(now)))
    }

    async fn maintenance_rows(&self, sql: Sql) -> Result<Vec<Maintenance>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            Option<i64>,
            Option<i64>,
            i64,
            i64,
            i64,
            String,
        );
        let rows: Vec<Row> = self.fetch_all(sql).await?;
        Ok(rows
            .into_iter()
            .map(|r| Maintenance {
                id: r.0,
                tenant_id: TenantId::from_db(r.1),
                tenant_name: r.2,
                time_zone: r.3,
                title: r.4,
                target: match (r.5.as_str(), r.6) {
                    ("location", Some(id)) => MaintenanceTarget::Location(id),
                    ("monitor", Some(id)) => MaintenanceTarget::Monitor(id),
                    _ => MaintenanceTarget::Tenant,
                },
                schedule: match (r.7.as_str(), r.8, r.9) {
                    ("once", Some(starts_at), Some(ends_at)) => {
                        MaintenanceSchedule::Once { starts_at, ends_at }
                    }
                    _ => MaintenanceSchedule::Weekly {
                        weekdays: u8::try_from(r.10).unwrap_or(0),
                        start_minute: u16::try_from(r.11).unwrap_or(0),
                        duration_mins: u32::try_from(r.12).unwrap_or(0),
                    },
                },
                target_name: r.13,
            })
            .collect())
    }
}

const HOUR_SELECT: &str = "SELECT monitor_id, hour, up_secs, degraded_secs, down_secs, maintenance_secs, checks, latency_p50, latency_p95, minutes FROM monitor_hours";

const MAINTENANCE_SELECT: &str = "SELECT w.id, w.tenant_id, t.name, t.time_zone, w.title, w.applies_to, w.target_id, w.schedule, w.starts_at, w.ends_at, w.weekdays, w.start_minute, w.duration_mins, COALESCE(m.name, l.name, '') FROM maintenance_windows w JOIN tenants t ON t.id = w.tenant_id LEFT JOIN monitors m ON w.applies_to = 'monitor' AND m.id = w.target_id LEFT JOIN locations l ON w.applies_to = 'location' AND l.id = w.target_id";

/// Checks the numbers of an active check against core's limits, naming the field.
pub fn check_settings(
    interval_secs: i64,
    timeout_secs: i64,
    retries: i64,
    degraded_above_ms: Option<i64>,
) -> Result<CheckSettings, StoreError> {
    let retries = u8::try_from(retries)
        .map_err(|_| invalid("retries", "monitor-retries", "is outside what is allowed"))?;
    let degraded_above_ms = match degraded_above_ms {
        Some(ms) => Some(u32::try_from(ms).ok().filter(|ms| *ms > 0).ok_or_else(|| {
            invalid(
                "degraded_above_ms",
                "monitor-latency",
                "is outside what is allowed",
            )
        })?),
        None => None,
    };
    let settings = CheckSettings {
        interval: SignedDuration::from_secs(interval_secs),
        timeout: SignedDuration::from_secs(timeout_secs),
        retries,
        degraded_above_ms,
        ..CheckSettings::default()
    };
    if let Err(e) = settings.validate() {
        let code = match e.field() {
            "interval" => "monitor-interval",
            "timeout" => "monitor-timeout",
            "retries" => "monitor-retries",
            "degraded_above_ms" => "monitor-latency",
            _ => "monitor-settings",
        };
        return Err(invalid(e.field(), code, "is outside what is allowed"));
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_in_range() {
        let ids: Vec<String> = (0..2000).map(|_| UserId::generate().to_string()).collect();
        let mut counts = [0usize; 64];
        for id in &ids {
            let b = bucket_of(id);
            assert_eq!(b, bucket_of(id));
            counts[usize::try_from(b).unwrap()] += 1;
        }
        // Evenly spread: no bucket is empty or holds three times its share.
        assert!(
            counts.iter().all(|&c| c > 0 && c < 3 * 2000 / 64),
            "{counts:?}"
        );
    }

    #[test]
    fn settings_outside_the_limits_name_their_field() {
        let field = |r: Result<CheckSettings, StoreError>| match r {
            Err(StoreError::Invalid(e)) => e.field,
            other => panic!("expected an invalid field, got {other:?}"),
        };
        assert_eq!(field(check_settings(5, 5, 2, None)), "interval");
        assert_eq!(field(check_settings(60, 5, 300, None)), "retries");
        assert_eq!(
            field(check_settings(60, 5, 2, Some(-1))),
            "degraded_above_ms"
        );
        assert!(check_settings(60, 10, 2, Some(500)).is_ok());
    }
}
