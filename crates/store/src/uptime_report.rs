//! The monthly uptime report: for every monitor a scope sees, grouped per municipality, the
//! month's uptime, downtime, degraded and maintenance time, outages and latency, in the
//! municipality's own time zone (the month runs from local midnight to local midnight).
//!
//! The arithmetic is `drifta_core::uptime`'s; this module reads what it needs. An active
//! check's time per state and latency come from its hourly history (`monitor_hours`); a
//! heartbeat has none, so its time per state comes from its state changes
//! (`monitor_events`), which also give every monitor's outages. Reads go per municipality:
//! one query for the hours, two for the state changes, whatever the number of monitors.

use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::monitor::MonitorState;
use drifta_core::monitor_history::PackedMinutes;
use drifta_core::uptime::{
    StoredHour, Transition, UptimeFigures, hours_in_period, in_order, month_span, outages,
    period_changes, state_times,
};
use drifta_core::validate::FieldError;
use drifta_core::{Permission, Scope, TenantId, TenantKind};
use jiff::civil::Date;
use serde::Serialize;
use std::collections::HashMap;

/// The report for one month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UptimeReport {
    /// `YYYY-MM`.
    pub month: String,
    /// By name; every municipality in scope, also one without monitors.
    pub municipalities: Vec<MunicipalityUptime>,
}

/// One municipality's month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MunicipalityUptime {
    pub tenant_id: TenantId,
    pub name: String,
    pub slug: String,
    pub time_zone: String,
    /// The month in the municipality's zone, milliseconds since the epoch: local midnight
    /// of the first day to local midnight of the next month's first day.
    pub starts_at: i64,
    pub ends_at: i64,
    /// Its monitors together (see [`UptimeFigures::summary`]).
    pub summary: UptimeFigures,
    /// By name; monitors created after the month are left out.
    pub monitors: Vec<MonitorUptime>,
}

/// One monitor's month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonitorUptime {
    pub monitor_id: String,
    pub name: String,
    /// `http`, `tcp`, `icmp`, `dns`, `tls_expiry` or `heartbeat`.
    pub kind: String,
    #[serde(flatten)]
    pub figures: UptimeFigures,
}

fn bad_month() -> StoreError {
    StoreError::Invalid(FieldError::new(
        "month",
        "month-invalid",
        "must be a month like 2026-11",
    ))
}

/// A stored hour's row: monitor, hour, four state durations, checks, p50, p95, and the
/// packed minutes of an hour the month's edge cuts through.
type HourRow = (
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<Vec<u8>>,
);

impl Store {
    /// The uptime report of `month` (any day of it; the month is meant) for every
    /// municipality the scope may read (`ReadAll`), or only `tenant`'s. A tenant outside
    /// the scope, a provider, or one that does not exist is [`StoreError::NotFound`].
    ///
    /// What the figures mean is written on [`UptimeFigures`]: uptime is (up + degraded) /
    /// (up + degraded + down) over the time measured, maintenance and pauses excluded,
    /// rounded down to three decimals. The current month is measured up to now; a month
    /// with nothing measured says so (`has_data` false) rather than 100 %. A month that
    /// cannot be placed in time (after 9999-11) is [`StoreError::Invalid`] on `month`.
    pub async fn uptime_report(
        &self,
        scope: &Scope,
        tenant: Option<&TenantId>,
        month: Date,
    ) -> Result<UptimeReport, StoreError> {
        let month = month.first_of_month();
        let mut tenants: Vec<_> = self
            .list_tenants(scope)
            .await?
            .into_iter()
            .filter(|t| t.kind == TenantKind::Municipality && scope.can(&t.id, Permission::ReadAll))
            .collect();
        let scope = match tenant {
            Some(id) => {
                tenants.retain(|t| t.id == *id);
                if tenants.is_empty() {
                    return Err(StoreError::NotFound);
                }
                scope.narrowed_to(id)
            }
            None => scope.clone(),
        };
        let scope = &scope;
        let monitors = self.list_monitors(scope).await?;
        let created: HashMap<String, i64> = self
            .fetch_all::<(String, i64)>(
                Sql::new("SELECT id, created_at FROM monitors WHERE ").in_scope(
                    scope,
                    Permission::ReadAll,
                    "tenant_id",
                ),
            )
            .await?
            .into_iter()
            .collect();
        let now = self.now_ms();
        let mut municipalities = Vec::with_capacity(tenants.len());
        for tenant in tenants {
            let zone =
                jiff::tz::TimeZone::get(&tenant.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
            let (start, end) = month_span(month, &zone).ok_or_else(bad_month)?;
            let mut mine: Vec<_> = monitors
                .iter()
                .filter(|m| m.tenant_id == tenant.id)
                .filter_map(|m| Some((m, *created.get(&m.id)?)))
                .filter(|(_, created)| *created < end)
                .collect();
            mine.sort_by(|(a, _), (b, _)| {
                (a.name.to_lowercase(), &a.name).cmp(&(b.name.to_lowercase(), &b.name))
            });
            let (hours, before, inside) = if mine.is_empty() {
                Default::default()
            } else {
                (
                    self.report_hours(scope, &tenant.id, start, end).await?,
                    self.state_before(scope, &tenant.id, start).await?,
                    self.transitions_inside(scope, &tenant.id, start, end)
                        .await?,
                )
            };
            let rows: Vec<MonitorUptime> = mine
                .into_iter()
                .map(|(m, created)| {
                    let changes = period_changes(
                        created,
                        start,
                        before.get(&m.id).copied(),
                        inside.get(&m.id).map_or(&[], Vec::as_slice),
                    );
                    let (times, latency) = if m.kind == "heartbeat" {
                        (state_times(&changes, (start, end), now), Default::default())
                    } else {
                        hours_in_period(hours.get(&m.id).map_or(&[], Vec::as_slice), (start, end))
                    };
                    MonitorUptime {
                        monitor_id: m.id.clone(),
                        name: m.name.clone(),
                        kind: m.kind.clone(),
                        figures: UptimeFigures::new(
                            times,
                            outages(&changes, (start, end), now),
                            &latency,
                        ),
                    }
                })
                .collect();
            municipalities.push(MunicipalityUptime {
                summary: UptimeFigures::summary(rows.iter().map(|r| &r.figures)),
                monitors: rows,
                tenant_id: tenant.id,
                name: tenant.name,
                slug: tenant.slug,
                time_zone: tenant.time_zone,
                starts_at: start,
                ends_at: end,
            });
        }
        Ok(UptimeReport {
            month: month.strftime("%Y-%m").to_string(),
            municipalities,
        })
    }

    /// The municipality's stored hours that overlap `[start, end)`, per monitor. Packed
    /// minutes are read only for an hour the edge cuts through (none in whole-hour zones):
    /// a month of them is 430 kB per monitor.
    async fn report_hours(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        start: i64,
        end: i64,
    ) -> Result<HashMap<String, Vec<StoredHour>>, StoreError> {
        const HOUR: i64 = 3_600_000;
        let rows: Vec<HourRow> = self
            .fetch_all(
                Sql::new("SELECT monitor_id, hour, up_secs, degraded_secs, down_secs, maintenance_secs, checks, latency_p50, latency_p95, CASE WHEN hour < $2 OR hour > $3 THEN minutes END FROM monitor_hours WHERE tenant_id = $1 AND hour > $4 AND hour < $5 AND ")
                    .arg(tenant.as_str())
                    .arg(start)
                    .arg(end - HOUR)
                    .arg(start - HOUR)
                    .arg(end)
                    .in_scope(scope, Permission::ReadAll, "tenant_id"),
            )
            .await?;
        let mut out: HashMap<String, Vec<StoredHour>> = HashMap::new();
        for r in rows {
            out.entry(r.0).or_default().push(StoredHour {
                start: r.1,
                up_secs: r.2,
                degraded_secs: r.3,
                down_secs: r.4,
                maintenance_secs: r.5,
                checks: r.6,
                latency_p50: r.7,
                latency_p95: r.8,
                // Unreadable minutes (never written by us) fall back to the hour's totals.
                minutes: r.9.and_then(|bytes| PackedMinutes::from_bytes(&bytes).ok()),
            });
        }
        Ok(out)
    }

    /// Each of the municipality's monitors' state when `start` came: the last change before
    /// it. Driven by the monitors, so each look-up is one step down the (monitor, at) index
    /// however many years of changes are kept.
    async fn state_before(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        start: i64,
    ) -> Result<HashMap<String, MonitorState>, StoreError> {
        let rows = self
            .transition_rows(
                Sql::new("SELECT e.monitor_id, e.at, e.from_state, e.to_state FROM (SELECT m.id AS id, (SELECT MAX(x.at) FROM monitor_events x WHERE x.monitor_id = m.id AND x.at < $2) AS last_at FROM monitors m WHERE m.tenant_id = $1 AND ")
                    .arg(tenant.as_str())
                    .arg(start)
                    .in_scope(scope, Permission::ReadAll, "m.tenant_id")
                    .push(") l JOIN monitor_events e ON e.monitor_id = l.id AND e.at = l.last_at"),
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, changes)| Some((id, in_order(changes).last()?.to)))
            .collect())
    }

    /// The municipality's state changes inside `[start, end)`, per monitor, in order.
    async fn transitions_inside(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        start: i64,
        end: i64,
    ) -> Result<HashMap<String, Vec<Transition>>, StoreError> {
        let rows = self
            .transition_rows(
                Sql::new("SELECT e.monitor_id, e.at, e.from_state, e.to_state FROM monitors m JOIN monitor_events e ON e.monitor_id = m.id WHERE m.tenant_id = $1 AND e.at >= $2 AND e.at < $3 AND ")
                    .arg(tenant.as_str())
                    .arg(start)
                    .arg(end)
                    .in_scope(scope, Permission::ReadAll, "m.tenant_id"),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, changes)| (id, in_order(changes)))
            .collect())
    }

    async fn transition_rows(
        &self,
        sql: Sql,
    ) -> Result<HashMap<String, Vec<Transition>>, StoreError> {
        let rows: Vec<(String, i64, String, String)> = self.fetch_all(sql).await?;
        let mut out: HashMap<String, Vec<Transition>> = HashMap::new();
        for (id, at, from, to) in rows {
            // A state this drifta does not know (never written by it) is skipped.
            if let (Some(from), Some(to)) = (MonitorState::parse(&from), MonitorState::parse(&to)) {
                out.entry(id).or_default().push(Transition { at, from, to });
            }
        }
        Ok(out)
    }
}
