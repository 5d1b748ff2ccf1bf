//! Monitoring under `/api/v1`: monitors (heartbeats and active checks), pausing, hourly
//! history, the monthly uptime report, and maintenance windows. Scoping is the store's: a
//! monitor outside the token owner's scope answers 404 like one that does not exist.

use super::{ApiJson, ApiUser, Problem, parse_tenant};
use crate::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use drifta_monitor::probe::Probe;
use drifta_store::{MaintenanceSchedule, MaintenanceTarget, NewCheck, NewMaintenance};
use serde::Deserialize;
use serde_json::{Value, json};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/monitors", get(list).post(create))
        .route("/monitors/report", get(report))
        .route("/monitors/{id}", get(show))
        .route("/monitors/{id}/pause", post(pause))
        .route("/monitors/{id}/resume", post(resume))
        .route("/monitors/{id}/history", get(history))
        .route(
            "/maintenance",
            get(list_maintenance).post(create_maintenance),
        )
        .route(
            "/maintenance/{id}",
            axum::routing::delete(delete_maintenance),
        )
}

async fn list(State(state): State<AppState>, api: ApiUser) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.list_monitors(&api.scope).await? }),
    ))
}

async fn show(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(json!(state.store.get_monitor(&api.scope, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckInput {
    tenant_id: String,
    name: String,
    probe: Value,
    #[serde(default = "default_interval")]
    interval_secs: i64,
    #[serde(default = "default_timeout")]
    timeout_secs: i64,
    #[serde(default = "default_retries")]
    retries: i64,
    #[serde(default)]
    degraded_above_ms: Option<i64>,
    #[serde(default)]
    location_id: Option<String>,
}

fn default_interval() -> i64 {
    60
}
fn default_timeout() -> i64 {
    10
}
fn default_retries() -> i64 {
    2
}

async fn create(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(body): ApiJson<CheckInput>,
) -> Result<Response, Problem> {
    let tenant = parse_tenant(&body.tenant_id)?;
    let probe: Probe = serde_json::from_value(body.probe.clone())
        .map_err(|e| Problem::field("probe", "probe-invalid", &e.to_string()))?;
    probe.validate().map_err(|e| {
        Problem::field(
            &format!("probe.{}", e.field),
            "probe-invalid",
            &e.problem.to_string(),
        )
    })?;
    let monitor = state
        .store
        .create_check_monitor(
            &api.scope,
            NewCheck {
                tenant_id: tenant,
                name: body.name,
                kind: probe.kind(),
                probe: serde_json::to_value(&probe)
                    .map_err(|e| Problem::field("probe", "probe-invalid", &e.to_string()))?,
                interval_secs: body.interval_secs,
                timeout_secs: body.timeout_secs,
                retries: body.retries,
                degraded_above_ms: body.degraded_above_ms,
                location_id: body.location_id.filter(|l| !l.trim().is_empty()),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(monitor))).into_response())
}

async fn pause(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(json!(
        state
            .store
            .set_monitor_paused(&api.scope, &id, true)
            .await?
    )))
}

async fn resume(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(json!(
        state
            .store
            .set_monitor_paused(&api.scope, &id, false)
            .await?
    )))
}

#[derive(Deserialize)]
struct HistoryQuery {
    hours: Option<String>,
}

async fn history(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Value>, Problem> {
    let hours = match q.hours.as_deref().map(str::trim) {
        None | Some("") => 24,
        Some(h) => h
            .parse::<i64>()
            .ok()
            .filter(|h| (1..=24 * 400).contains(h))
            .ok_or_else(|| {
                Problem::field(
                    "hours",
                    "hours-invalid",
                    "must be a whole number from 1 to 9600",
                )
            })?,
    };
    let since = state.store.now_ms() - hours * 3_600_000;
    let rows = state.store.monitor_hours(&api.scope, &id, since).await?;
    Ok(Json(json!({ "items": rows })))
}

/// The monthly uptime report (`?month=YYYY-MM`, default the current month; `&tenant=` an
/// id or short name, default every municipality in scope).
async fn report(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<crate::pages::uptime_report::ReportQuery>,
) -> Result<Json<Value>, Problem> {
    use crate::pages::uptime_report::{ReportProblem, load, resolve};
    let problem = |e: ReportProblem| match e {
        ReportProblem::Month => {
            Problem::field("month", "month-invalid", "must be a month like 2026-11")
        }
        ReportProblem::NotFound => Problem::not_found(),
        ReportProblem::Store(e) => Problem::from(e),
    };
    let request = resolve(&state.store, &api.scope, &q)
        .await
        .map_err(problem)?;
    let report = load(&state.store, &request).await.map_err(problem)?;
    Ok(Json(json!(report)))
}

async fn list_maintenance(
    State(state): State<AppState>,
    api: ApiUser,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.list_maintenance(&api.scope).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaintenanceInput {
    tenant_id: String,
    title: String,
    /// `tenant`, `location` or `monitor`.
    #[serde(default = "default_applies_to")]
    applies_to: String,
    #[serde(default)]
    target_id: Option<String>,
    /// `once` (with `starts_at`, `ends_at` in RFC 3339) or `weekly` (with `weekdays` 1–7,
    /// `start_time` HH:MM in the municipality's zone and `duration_mins`).
    schedule: String,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default)]
    weekdays: Vec<u8>,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    duration_mins: Option<u32>,
}

fn default_applies_to() -> String {
    "tenant".into()
}

fn timestamp(field: &str, value: Option<&str>) -> Result<i64, Problem> {
    value
        .and_then(|v| v.trim().parse::<jiff::Timestamp>().ok())
        .map(drifta_core::clock::to_millis)
        .ok_or_else(|| {
            Problem::field(
                field,
                "timestamp-invalid",
                "must be an RFC 3339 time such as 2026-11-24T22:00:00+01:00",
            )
        })
}

async fn create_maintenance(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(body): ApiJson<MaintenanceInput>,
) -> Result<Response, Problem> {
    let tenant = parse_tenant(&body.tenant_id)?;
    let target_id = || {
        body.target_id
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| Problem::field("target_id", "target-missing", "is required here"))
    };
    let target = match body.applies_to.as_str() {
        "tenant" => MaintenanceTarget::Tenant,
        "location" => MaintenanceTarget::Location(target_id()?),
        "monitor" => MaintenanceTarget::Monitor(target_id()?),
        _ => {
            return Err(Problem::field(
                "applies_to",
                "applies-to-invalid",
                "must be tenant, location or monitor",
            ));
        }
    };
    let schedule = match body.schedule.as_str() {
        "once" => MaintenanceSchedule::Once {
            starts_at: timestamp("starts_at", body.starts_at.as_deref())?,
            ends_at: timestamp("ends_at", body.ends_at.as_deref())?,
        },
        "weekly" => {
            let mut bits = 0u8;
            for d in &body.weekdays {
                if !(1..=7).contains(d) {
                    return Err(Problem::field(
                        "weekdays",
                        "maintenance-weekdays",
                        "days are 1 (Monday) to 7 (Sunday)",
                    ));
                }
                bits |= 1 << (d - 1);
            }
            let time = body
                .start_time
                .as_deref()
                .and_then(|t| t.trim().parse::<jiff::civil::Time>().ok())
                .ok_or_else(|| {
                    Problem::field("start_time", "maintenance-start", "must be HH:MM")
                })?;
            MaintenanceSchedule::Weekly {
                weekdays: bits,
                start_minute: u16::try_from(i32::from(time.hour()) * 60 + i32::from(time.minute()))
                    .unwrap_or(0),
                duration_mins: body.duration_mins.unwrap_or(0),
            }
        }
        _ => {
            return Err(Problem::field(
                "schedule",
                "schedule-invalid",
                "must be once or weekly",
            ));
        }
    };
    let window = state
        .store
        .create_maintenance(
            &api.scope,
            NewMaintenance {
                tenant_id: tenant,
                title: body.title,
                target,
                schedule,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(window))).into_response())
}

async fn delete_maintenance(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.store.delete_maintenance(&api.scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
