//! Heartbeat monitors: the list with states, and creating one (its URL is shown once).

use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use drifta_core::monitor::MonitorKind;
use drifta_core::{Permission, TenantId, TenantKind};
use drifta_monitor::probe::DnsRecord;
use drifta_store::{Maintenance, MaintenanceSchedule, MaintenanceTarget, PingOutcome, StoreError};
use jiff::SignedDuration;
use serde::Deserialize;

pub struct MonitorRow {
    name: String,
    tenant: String,
    state: String,
    state_name: String,
    reason: String,
    since: String,
    last_success: String,
    payload: String,
    expected: String,
    ticket: Option<i64>,
    /// The watched inventory item: (id, name).
    item: Option<(String, String)>,
    id: String,
    on_status_page: bool,
    can_edit: bool,
    /// An active check (not a heartbeat): its kind and what it probes.
    check: Option<(String, String)>,
    paused: bool,
}

/// A maintenance window as the monitors page lists it.
pub struct MaintenanceRow {
    id: String,
    title: String,
    tenant: String,
    applies_to: String,
    when: String,
    can_edit: bool,
}

/// A municipality's status page as the monitors page lists it.
pub struct StatusPageRow {
    tenant: String,
    slug: String,
    name: String,
    public: bool,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "monitors.html")]
struct MonitorsPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    rows: Vec<MonitorRow>,
    tenants: Vec<(String, String)>,
    status_pages: Vec<StatusPageRow>,
    new_url: Option<String>,
    form_error: Option<String>,
    kinds: Vec<(&'static str, String)>,
    records: Vec<&'static str>,
    /// Where a check or window can apply: (value, label), per municipality.
    locations: Vec<(String, String)>,
    maintenance: Vec<MaintenanceRow>,
    weekdays: Vec<(u8, String)>,
}

fn public_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

pub(super) async fn page(
    state: &AppState,
    ctx: &Ctx,
    new_url: Option<String>,
    form_error: Option<String>,
) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::ReadAll) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let view = ctx.view_scope();
    let monitors = state
        .store
        .list_monitors(&view)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let settings = state
        .store
        .status_settings(&view)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let mut rows = Vec::new();
    for m in monitors {
        let zone = m.time_zone.clone();
        let zone = zone.as_str();
        let ticket = match &m.ticket_id {
            Some(id) => state
                .store
                .get_ticket(&ctx.scope, id)
                .await
                .ok()
                .map(|t| t.number),
            None => None,
        };
        rows.push(MonitorRow {
            state_name: ctx.tr.t(&format!("monitor-state-{}", m.state)),
            reason: m.reason,
            since: local_time(m.state_since, zone),
            // Active checks are judged by their state; only heartbeats report successes.
            last_success: match m.last_success_at {
                Some(t) => local_time(t, zone),
                None if m.kind == "heartbeat" => ctx.tr.t("never"),
                None => "–".into(),
            },
            payload: m.last_payload,
            expected: if m.kind == "heartbeat" {
                ctx.tr.t_with(
                    "monitors-every",
                    &[
                        ("period", &(m.period_secs / 60).to_string()),
                        ("grace", &(m.grace_secs / 60).to_string()),
                    ],
                )
            } else {
                ctx.tr.t_with(
                    "monitors-check-every",
                    &[("seconds", &m.period_secs.to_string())],
                )
            },
            check: (m.kind != "heartbeat").then(|| {
                (
                    ctx.tr
                        .t(&format!("monitor-kind-{}", m.kind.replace('_', "-"))),
                    super::checks::probe_summary(&m.probe),
                )
            }),
            paused: m.state == "paused",
            item: m.item_id.map(|id| (id, m.item_name)),
            on_status_page: settings.shown.contains(&m.id),
            can_edit: ctx.scope.can(&m.tenant_id, Permission::Operate),
            id: m.id,
            name: m.name,
            tenant: m.tenant_name,
            state: m.state,
            ticket,
        });
    }
    let tenants: Vec<(String, String)> = state
        .store
        .list_tenants(&view)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|t| t.kind == TenantKind::Municipality && ctx.scope.can(&t.id, Permission::Operate))
        .map(|t| (t.id.to_string(), t.name))
        .collect();
    let locations = state
        .store
        .list_locations(&view, None)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|l| ctx.scope.can(&l.tenant_id, Permission::Operate))
        .map(|l| {
            let tenant = tenants
                .iter()
                .find(|(id, _)| *id == l.tenant_id.to_string())
                .map(|(_, name)| name.as_str())
                .unwrap_or_default();
            (l.id.to_string(), format!("{tenant}: {}", l.name))
        })
        .collect();
    let maintenance = state
        .store
        .list_maintenance(&view)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|w| maintenance_row(&ctx.tr, ctx, w))
        .collect();
    let status = if form_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = MonitorsPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, "/monitors").await?),
        csrf: ctx.session.csrf_token.clone(),
        rows,
        tenants,
        status_pages: settings
            .pages
            .into_iter()
            .map(|(id, slug, name, public)| StatusPageRow {
                can_edit: ctx.scope.can(&id, Permission::Operate),
                tenant: id.to_string(),
                slug,
                name,
                public,
            })
            .collect(),
        new_url,
        form_error,
        kinds: MonitorKind::ALL
            .iter()
            .filter(|k| k.is_active())
            .map(|k| {
                (
                    k.as_str(),
                    ctx.tr
                        .t(&format!("monitor-kind-{}", k.as_str().replace('_', "-"))),
                )
            })
            .collect(),
        records: DnsRecord::ALL.iter().map(|r| r.as_str()).collect(),
        locations,
        maintenance,
        weekdays: (1..=7)
            .map(|d| (d, ctx.tr.t(&format!("weekday-{d}"))))
            .collect(),
    };
    let mut res = html(ctx.tr, &body)?;
    *res.status_mut() = status;
    Ok(res)
}

fn maintenance_row(tr: &crate::i18n::Tr, ctx: &Ctx, w: Maintenance) -> MaintenanceRow {
    let when = match w.schedule {
        MaintenanceSchedule::Once { starts_at, ends_at } => format!(
            "{} – {}",
            local_time(starts_at, &w.time_zone),
            local_time(ends_at, &w.time_zone)
        ),
        MaintenanceSchedule::Weekly {
            weekdays,
            start_minute,
            duration_mins,
        } => {
            let days: Vec<String> = (1..=7u8)
                .filter(|d| weekdays & (1 << (d - 1)) != 0)
                .map(|d| tr.t(&format!("weekday-{d}")))
                .collect();
            tr.t_with(
                "maintenance-weekly-at",
                &[
                    ("days", &days.join(", ")),
                    (
                        "time",
                        &format!("{:02}:{:02}", start_minute / 60, start_minute % 60),
                    ),
                    ("minutes", &duration_mins.to_string()),
                ],
            )
        }
    };
    MaintenanceRow {
        applies_to: match &w.target {
            MaintenanceTarget::Tenant => tr.t("maintenance-whole-municipality"),
            _ => w.target_name.clone(),
        },
        can_edit: ctx.scope.can(&w.tenant_id, Permission::Operate),
        id: w.id,
        title: w.title,
        tenant: w.tenant_name,
        when,
    }
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    page(&state, &ctx, None, None).await
}

#[derive(Deserialize)]
pub struct HeartbeatForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    period_minutes: String,
    #[serde(default)]
    grace_minutes: String,
    /// The watched item, by host name, serial number or asset tag; optional.
    #[serde(default)]
    item: String,
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(ctx, form): CsrfForm<HeartbeatForm>,
) -> Result<Response, PageError> {
    let tenant = TenantId::parse(&form.tenant).map_err(|_| PageError::BadRequest(ctx.tr))?;
    let minutes = |v: &str| {
        v.trim()
            .parse::<i64>()
            .ok()
            .filter(|m| (1..=60 * 24 * 31).contains(m))
    };
    let (Some(period), Some(grace)) = (minutes(&form.period_minutes), minutes(&form.grace_minutes))
    else {
        let message = ctx.tr.t("err-heartbeat-settings");
        return page(&state, &ctx, None, Some(message)).await;
    };
    let item = match watched_item(&state, &ctx, &form.item).await? {
        Ok(item) => item,
        Err(message) => return page(&state, &ctx, None, Some(message)).await,
    };
    match state
        .store
        .create_heartbeat(
            &ctx.scope,
            &tenant,
            &form.name,
            SignedDuration::from_mins(period),
            SignedDuration::from_mins(grace),
        )
        .await
    {
        Ok((secret, monitor)) => {
            if let Some(item) = item {
                state
                    .store
                    .set_monitor_item(&ctx.scope, &monitor.id, Some(&item))
                    .await
                    .map_err(|e| ctx.store_err(e))?;
            }
            let url = format!("{}/ping/{secret}", public_base(&headers));
            page(&state, &ctx, Some(url), None).await
        }
        Err(StoreError::Invalid(f)) => {
            let message = super::admin_users::field_message(&ctx.tr, &f);
            page(&state, &ctx, None, Some(message)).await
        }
        Err(e) => Err(ctx.store_err(e)),
    }
}

/// The inventory item a monitor form names (host name, serial number or asset tag; empty
/// for none), found before the monitor is created so a typo leaves nothing half set up.
/// `Ok(Err(message))` when no single item matches.
pub(super) async fn watched_item(
    state: &AppState,
    ctx: &Ctx,
    text: &str,
) -> Result<Result<Option<String>, String>, PageError> {
    if text.trim().is_empty() {
        return Ok(Ok(None));
    }
    Ok(
        match super::inventory::resolve_item(state, ctx, text, None).await? {
            super::inventory::Resolved::One(id) => Ok(Some(id)),
            _ => Err(ctx.tr.t("inventory-relation-none-found")),
        },
    )
}

/// The heartbeat endpoint jobs call: tiny, unauthenticated (the secret in the URL is the
/// credential), GET or POST; a POST body is kept as the payload (e.g. the backup size).
pub async fn ping(
    State(state): State<AppState>,
    Path(path): Path<String>,
    body: Bytes,
) -> Response {
    let (secret, outcome) = match path.split_once('/') {
        None => (path.as_str(), PingOutcome::Success),
        Some((s, "start")) => (s, PingOutcome::Start),
        Some((s, "fail")) => (s, PingOutcome::Fail),
        Some((s, "success")) => (s, PingOutcome::Success),
        Some(_) => {
            return (
                StatusCode::NOT_FOUND,
                "unknown heartbeat action: use /start, /fail or nothing\n",
            )
                .into_response();
        }
    };
    let payload = String::from_utf8_lossy(&body);
    match state.store.heartbeat_ping(secret, outcome, &payload).await {
        Ok(()) => "OK\n".into_response(),
        Err(StoreError::NotFound) => {
            (StatusCode::NOT_FOUND, "unknown heartbeat: check the URL\n").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "heartbeat ping failed");
            (StatusCode::SERVICE_UNAVAILABLE, "try again\n").into_response()
        }
    }
}
