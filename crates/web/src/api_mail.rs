//! The e-mail intake under `/api/v1`, one to one with the mail pages: mailboxes (provider
//! administrators) and the intake log with the raw messages kept. A mailbox's password is
//! write-only: it goes in with POST and PUT and never comes out.

use super::{ApiJson, ApiUser, Problem, parse_tenant};
use crate::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use drifta_core::TenantId;
use drifta_store::{MailSecurity, NewMailbox};
use serde::Deserialize;
use serde_json::{Value, json};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/mailboxes", get(list).post(create))
        .route("/mailboxes/{id}", get(show).put(update).delete(delete))
        .route("/inbound-mail", get(inbound))
        .route("/inbound-mail/{id}/raw", get(raw))
}

async fn list(State(state): State<AppState>, api: ApiUser) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.list_mailboxes(&api.scope).await? }),
    ))
}

async fn show(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(json!(state.store.mailbox(&api.scope, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteBody {
    /// A domain (fjordvik.kommune.no) or an address.
    pattern: String,
    /// The municipality mail matching `pattern` belongs to.
    tenant_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MailboxBody {
    /// Required on POST; on PUT it may be left out (a mailbox cannot move).
    #[serde(default)]
    tenant_id: Option<String>,
    name: String,
    #[serde(default)]
    address: String,
    host: String,
    #[serde(default = "default_port")]
    port: i64,
    /// `tls` or `starttls`.
    #[serde(default = "default_security")]
    security: String,
    username: String,
    /// Required on POST; empty or left out on PUT keeps the stored one.
    #[serde(default)]
    password: String,
    #[serde(default = "default_folder")]
    folder: String,
    #[serde(default = "default_poll")]
    poll_seconds: i64,
    #[serde(default = "default_enabled")]
    enabled: bool,
    #[serde(default)]
    routes: Vec<RouteBody>,
}

fn default_port() -> i64 {
    993
}
fn default_security() -> String {
    "tls".into()
}
fn default_folder() -> String {
    "INBOX".into()
}
fn default_poll() -> i64 {
    60
}
fn default_enabled() -> bool {
    true
}

impl MailboxBody {
    fn into_new(self, tenant_id: TenantId) -> Result<NewMailbox, Problem> {
        let mut routes = Vec::with_capacity(self.routes.len());
        for r in self.routes {
            let tenant = TenantId::parse(r.tenant_id.trim()).map_err(|_| {
                Problem::field(
                    "routes",
                    "route-other-provider",
                    "a route must lead to one of this provider's municipalities",
                )
            })?;
            routes.push((r.pattern, tenant));
        }
        Ok(NewMailbox {
            tenant_id,
            name: self.name,
            address: self.address,
            host: self.host,
            port: self.port,
            security: MailSecurity::parse(self.security.trim()),
            username: self.username,
            password: self.password,
            folder: self.folder,
            poll_seconds: self.poll_seconds,
            enabled: self.enabled,
            routes,
        })
    }
}

async fn create(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(body): ApiJson<MailboxBody>,
) -> Result<Response, Problem> {
    let Some(tenant) = body.tenant_id.as_deref() else {
        return Err(Problem::field("tenant_id", "required", "is required"));
    };
    let tenant = parse_tenant(tenant)?;
    let new = body.into_new(tenant)?;
    let created = state.store.create_mailbox(&api.scope, &new).await?;
    Ok((StatusCode::CREATED, Json(json!(created))).into_response())
}

async fn update(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MailboxBody>,
) -> Result<Json<Value>, Problem> {
    let before = state.store.mailbox(&api.scope, &id).await?;
    let tenant = match body.tenant_id.as_deref() {
        Some(t) => parse_tenant(t)?,
        None => before.tenant_id,
    };
    let new = body.into_new(tenant)?;
    Ok(Json(json!(
        state.store.update_mailbox(&api.scope, &id, &new).await?
    )))
}

async fn delete(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.store.delete_mailbox(&api.scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct InboundQuery {
    #[serde(default)]
    problems: Option<bool>,
    #[serde(default)]
    limit: Option<i64>,
}

async fn inbound(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<InboundQuery>,
) -> Result<Json<Value>, Problem> {
    let items = state
        .store
        .list_inbound_mail(
            &api.scope,
            q.problems.unwrap_or(false),
            q.limit.unwrap_or(crate::pages::mail::LOG_ROWS),
        )
        .await?;
    Ok(Json(json!({ "items": items })))
}

async fn raw(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (entry, bytes) = state.store.inbound_mail_raw(&api.scope, &id).await?;
    Ok(crate::pages::mail::eml_response(&entry.id, bytes))
}
