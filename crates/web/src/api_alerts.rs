//! Alert routes and the delivery log under `/api/v1`, one to one with the alerts page.

use super::{ApiJson, ApiUser, Problem, parse_tenant};
use crate::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use drifta_core::Language;
use drifta_core::alert::RouteInput;
use serde::Deserialize;
use serde_json::{Value, json};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/alert-routes", get(list).post(create))
        .route("/alert-routes/{id}", axum::routing::delete(delete))
        .route("/alert-routes/{id}/test", post(test))
        .route("/alerts", get(deliveries))
}

async fn list(State(state): State<AppState>, api: ApiUser) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.list_alert_routes(&api.scope).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteBody {
    tenant_id: String,
    /// `email`, `webhook` or `sms`.
    channel: String,
    target: String,
    #[serde(default)]
    format: String,
    /// `down` or `degraded`.
    #[serde(default = "default_threshold")]
    threshold: String,
    #[serde(default)]
    delay_minutes: i64,
    /// `nb`, `da` or `en`; default the municipality's.
    #[serde(default)]
    lang: Option<String>,
}

fn default_threshold() -> String {
    "down".into()
}

async fn create(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(body): ApiJson<RouteBody>,
) -> Result<Response, Problem> {
    let tenant = parse_tenant(&body.tenant_id)?;
    let route = RouteInput {
        channel: body.channel,
        target: body.target,
        format: body.format,
        threshold: body.threshold,
        delay_minutes: body.delay_minutes.to_string(),
    }
    .validate()
    .map_err(|problems| {
        let first = &problems[0];
        Problem::field(first.field, first.code, first.message)
    })?;
    let lang = match body.lang.as_deref() {
        None => state.store.get_tenant(&api.scope, &tenant).await?.language,
        Some(code) => Language::from_code(code)
            .ok_or_else(|| Problem::field("lang", "lang-invalid", "must be nb, da or en"))?,
    };
    let created = state
        .store
        .create_alert_route(&api.scope, &tenant, &route, lang)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(created))).into_response())
}

async fn delete(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.store.delete_alert_route(&api.scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.store.send_test_alert(&api.scope, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
struct DeliveryQuery {
    #[serde(default)]
    monitor: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

async fn deliveries(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<DeliveryQuery>,
) -> Result<Json<Value>, Problem> {
    let items = state
        .store
        .list_outbox(&api.scope, q.monitor.as_deref(), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(json!({ "items": items })))
}
