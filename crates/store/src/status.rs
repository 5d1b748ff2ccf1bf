//! Status pages: per municipality, the monitors it chose to show, their state now and their
//! uptime over the last 90 days. A municipality makes its page public (no sign-in) or keeps
//! it for those who see the municipality.

use crate::audit::Change;
use crate::checks::MaintenanceTarget;
use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::monitor::MonitorState;
use drifta_core::uptime::{self, uptime_per_span};
use drifta_core::{Permission, Scope, TenantId};
use serde::Serialize;

/// Days of history on a status page.
pub const STATUS_DAYS: usize = 90;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusService {
    pub name: String,
    pub state: String,
    pub since: i64,
    /// Oldest first, one per local day; `None` where the monitor was not watched.
    pub daily_uptime: Vec<Option<f64>>,
    /// Over the days that were watched.
    pub uptime_90_days: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusPage {
    pub tenant_id: TenantId,
    pub municipality: String,
    pub public: bool,
    pub time_zone: String,
    /// The first day shown, as YYYY-MM-DD in the municipality's zone.
    pub first_day: String,
    pub services: Vec<StatusService>,
    /// Maintenance going on now or starting within a week, soonest first.
    pub maintenance: Vec<StatusMaintenance>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusMaintenance {
    pub title: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub active: bool,
}

/// A monitor on a status page: id, name, state, since, created, location.
type ShownMonitor = (String, String, String, i64, i64, Option<String>);

/// Why a status page is not shown; both answer "not found" to a visitor.
fn not_found() -> StoreError {
    StoreError::NotFound
}

/// How the scope's municipalities show their status pages, for the monitors page.
#[derive(Clone, Debug, Default)]
pub struct StatusSettings {
    /// (municipality, its slug, its name, public page).
    pub pages: Vec<(TenantId, String, String, bool)>,
    /// Monitors shown on their municipality's page.
    pub shown: std::collections::HashSet<String>,
}

impl Store {
    pub async fn status_settings(&self, scope: &Scope) -> Result<StatusSettings, StoreError> {
        let pages: Vec<(String, String, String, Option<bool>)> = self
            .fetch_all(
                Sql::new("SELECT t.id, t.slug, t.name, p.public FROM tenants t LEFT JOIN status_pages p ON p.tenant_id = t.id WHERE t.kind = 'municipality' AND ")
                    .in_scope(scope, Permission::ReadAll, "t.id")
                    .push(" ORDER BY t.name"),
            )
            .await?;
        let shown: Vec<(String,)> = self
            .fetch_all(
                Sql::new("SELECT id FROM monitors WHERE on_status_page = ")
                    .push_arg(true)
                    .push(" AND ")
                    .in_scope(scope, Permission::ReadAll, "tenant_id"),
            )
            .await?;
        Ok(StatusSettings {
            pages: pages
                .into_iter()
                .map(|(id, slug, name, public)| {
                    (TenantId::from_db(id), slug, name, public.unwrap_or(false))
                })
                .collect(),
            shown: shown.into_iter().map(|(id,)| id).collect(),
        })
    }

    /// Makes a municipality's status page public or private. Needs `Operate` there.
    pub async fn set_status_page_public(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        public: bool,
    ) -> Result<(), StoreError> {
        scope.require(tenant, Permission::Operate)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO status_pages (tenant_id, public, updated_at) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET public = EXCLUDED.public, updated_at = EXCLUDED.updated_at")
                .arg(tenant.as_str())
                .arg(public)
                .arg(now),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(tenant),
                action: "status_page",
                object_type: "tenant",
                object_id: tenant.as_str(),
                before: None,
                after: Some(serde_json::json!({ "public": public })),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Shows or hides a monitor on its municipality's status page.
    pub async fn set_monitor_on_status_page(
        &self,
        scope: &Scope,
        id: &str,
        shown: bool,
    ) -> Result<(), StoreError> {
        let monitor = self.get_monitor(scope, id).await?;
        scope.require(&monitor.tenant_id, Permission::Operate)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("UPDATE monitors SET on_status_page = $1 WHERE tenant_id = $2 AND id = $3")
                .arg(shown)
                .arg(monitor.tenant_id.as_str())
                .arg(id),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&monitor.tenant_id),
                action: "status_page",
                object_type: "monitor",
                object_id: id,
                before: None,
                after: Some(serde_json::json!({ "shown": shown })),
            },
        )
        .await?;
        tx.commit().await
    }

    /// A municipality's status page by its short name. Without a scope (a visitor who is
    /// not signed in) only a public page is found; with one, also a private page of a
    /// municipality the scope sees. This reads one tenant's chosen monitors outside any
    /// scope on purpose: the municipality published them.
    pub async fn status_page(
        &self,
        slug: &str,
        viewer: Option<&Scope>,
    ) -> Result<StatusPage, StoreError> {
        let row: Option<(String, String, String, Option<bool>)> = self
            .fetch_optional(
                Sql::new("SELECT t.id, t.name, t.time_zone, p.public FROM tenants t LEFT JOIN status_pages p ON p.tenant_id = t.id WHERE t.slug = $1 AND t.kind = 'municipality'")
                    .arg(slug),
            )
            .await?;
        let (tenant_id, municipality, time_zone, public) = row.ok_or_else(not_found)?;
        let tenant_id = TenantId::from_db(tenant_id);
        let public = public.unwrap_or(false);
        if !public && !viewer.is_some_and(|s| s.sees(&tenant_id)) {
            return Err(not_found());
        }
        let monitors: Vec<ShownMonitor> = self
            .fetch_all(
                Sql::new("SELECT id, name, state, state_since, created_at, location_id FROM monitors WHERE tenant_id = $1 AND on_status_page = $2 ORDER BY name")
                    .arg(tenant_id.as_str())
                    .arg(true),
            )
            .await?;
        let now = self.now();
        let zone = jiff::tz::TimeZone::get(&time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let today = now.to_zoned(zone.clone()).date();
        let first = today
            .checked_sub(jiff::Span::new().days(STATUS_DAYS as i64 - 1))
            .unwrap_or(today);
        let mut spans = Vec::with_capacity(STATUS_DAYS);
        let mut day = first;
        for _ in 0..STATUS_DAYS {
            let next = day.tomorrow().unwrap_or(day);
            let start = day
                .to_zoned(zone.clone())
                .map(|z| z.timestamp().as_millisecond());
            let end = next
                .to_zoned(zone.clone())
                .map(|z| z.timestamp().as_millisecond());
            if let (Ok(start), Ok(end)) = (start, end) {
                spans.push((start, end));
            }
            day = next;
        }
        let window_start = spans.first().map_or(0, |s| s.0);
        let maintenance = self.status_maintenance(&tenant_id, &monitors, now).await?;
        let mut services = Vec::with_capacity(monitors.len());
        for (id, name, state, since, created, _) in monitors {
            // The state at the window's start is the last change before it (or the first
            // state, up, from creation), then every change inside the window.
            let events: Vec<(i64, String)> = self
                .fetch_all(
                    Sql::new("SELECT at, to_state FROM monitor_events WHERE monitor_id = $1 AND at >= $2 ORDER BY at")
                        .arg(id.as_str())
                        .arg(window_start),
                )
                .await?;
            let before: Option<(String,)> = self
                .fetch_optional(
                    Sql::new("SELECT to_state FROM monitor_events WHERE monitor_id = $1 AND at < $2 ORDER BY at DESC LIMIT 1")
                        .arg(id.as_str())
                        .arg(window_start),
                )
                .await?;
            let mut changes = vec![uptime::Change {
                at: created.max(window_start),
                state: before
                    .and_then(|(s,)| MonitorState::parse(&s))
                    .unwrap_or(MonitorState::Up),
            }];
            if created > window_start {
                changes[0].state = MonitorState::Up;
            }
            changes.extend(events.into_iter().filter_map(|(at, s)| {
                MonitorState::parse(&s).map(|state| uptime::Change { at, state })
            }));
            let daily = uptime_per_span(&changes, &spans, now.as_millisecond());
            let whole = uptime_per_span(
                &changes,
                &[(window_start, now.as_millisecond())],
                now.as_millisecond(),
            )[0];
            services.push(StatusService {
                name,
                state,
                since,
                daily_uptime: daily,
                uptime_90_days: whole,
            });
        }
        Ok(StatusPage {
            tenant_id,
            municipality,
            public,
            time_zone,
            first_day: first.to_string(),
            services,
            maintenance,
        })
    }

    /// The municipality's maintenance that concerns the page: the whole municipality, a
    /// shown monitor, or the location of one; now or within the coming week.
    async fn status_maintenance(
        &self,
        tenant: &TenantId,
        shown: &[ShownMonitor],
        now: jiff::Timestamp,
    ) -> Result<Vec<StatusMaintenance>, StoreError> {
        let horizon = now
            .checked_add(jiff::SignedDuration::from_hours(7 * 24))
            .unwrap_or(now);
        let mut out: Vec<StatusMaintenance> = self
            .all_maintenance()
            .await?
            .into_iter()
            .filter(|w| w.tenant_id == *tenant)
            .filter(|w| match &w.target {
                MaintenanceTarget::Tenant => true,
                MaintenanceTarget::Monitor(id) => shown.iter().any(|m| m.0 == *id),
                MaintenanceTarget::Location(id) => {
                    shown.iter().any(|m| m.5.as_deref() == Some(id.as_str()))
                }
            })
            .filter_map(|w| {
                let next = w.window()?.next_window(now)?;
                (next.start < horizon).then(|| StatusMaintenance {
                    title: w.title,
                    starts_at: next.start.as_millisecond(),
                    ends_at: next.end.as_millisecond(),
                    active: next.contains(now),
                })
            })
            .collect();
        out.sort_by_key(|m| m.starts_at);
        Ok(out)
    }
}
