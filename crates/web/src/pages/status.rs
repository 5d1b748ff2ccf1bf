//! Status pages: per municipality, the services it chose to show, their state and 90 days
//! of uptime, public or for signed-in people who see the municipality; also as JSON.

use super::dashboard::html;
use crate::AppState;
use crate::auth::{Ctx, Visitor};
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::TenantId;
use drifta_store::{StatusPage, StoreError};
use serde::Deserialize;

pub struct ServiceView {
    name: String,
    state: String,
    state_name: String,
    since: String,
    uptime: String,
    /// (css class, title) per day, oldest first.
    days: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusView {
    tr: Tr,
    shell: Option<Shell>,
    municipality: String,
    overall: String,
    overall_class: &'static str,
    services: Vec<ServiceView>,
    first_day: String,
    json_href: String,
    /// (title, from – to, going on now).
    maintenance: Vec<(String, String, bool)>,
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_string(), |s| format!("{:.2} %", s * 100.0))
}

async fn load(
    state: &AppState,
    slug: &str,
    ctx: &Result<Ctx, PageError>,
) -> Result<StatusPage, StoreError> {
    let scope = ctx.as_ref().ok().map(|c| &c.scope);
    state.store.status_page(slug, scope).await
}

/// The page. A private page, or one that does not exist, is "not found" to a visitor.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    ctx: Result<Ctx, PageError>,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    if let Some(slug) = slug.strip_suffix(".json") {
        return json(&state, slug, &ctx).await;
    }
    let tr = ctx.as_ref().map_or(visitor.tr, |c| c.tr);
    let page = load(&state, &slug, &ctx).await.map_err(|e| match e {
        StoreError::NotFound => PageError::NotFound(tr),
        e => PageError::Internal(tr, e.to_string()),
    })?;
    let zone = page.time_zone.as_str();
    let first = page
        .first_day
        .parse::<jiff::civil::Date>()
        .unwrap_or(jiff::civil::date(2000, 1, 1));
    let services: Vec<ServiceView> = page
        .services
        .iter()
        .map(|s| ServiceView {
            name: s.name.clone(),
            state_name: tr.t(&format!("monitor-state-{}", s.state)),
            state: s.state.clone(),
            since: local_time(s.since, zone),
            uptime: percent(s.uptime_90_days),
            days: s
                .daily_uptime
                .iter()
                .enumerate()
                .map(|(i, share)| {
                    let day = first
                        .checked_add(jiff::Span::new().days(i as i64))
                        .map(|d| d.to_string())
                        .unwrap_or_default();
                    let class = match share {
                        None => "none",
                        Some(s) if *s >= 0.999 => "up",
                        Some(s) if *s >= 0.95 => "partial",
                        Some(_) => "down",
                    };
                    (class, format!("{day}: {}", percent(*share)))
                })
                .collect(),
        })
        .collect();
    let any_down = page.services.iter().any(|s| s.state == "down");
    let any_other = page
        .services
        .iter()
        .any(|s| s.state != "up" && s.state != "down");
    let (overall, overall_class) = if any_down {
        (tr.t("status-some-down"), "down")
    } else if any_other {
        (tr.t("status-some-degraded"), "degraded")
    } else {
        (tr.t("status-all-up"), "up")
    };
    let shell = match &ctx {
        Ok(c) => Some(Shell::build(&state, c, &format!("/status/{slug}")).await?),
        Err(_) => None,
    };
    let view = StatusView {
        tr,
        shell,
        municipality: page.municipality.clone(),
        overall,
        overall_class,
        services,
        first_day: page.first_day.clone(),
        json_href: format!("/status/{slug}.json"),
        maintenance: page
            .maintenance
            .iter()
            .map(|m| {
                (
                    m.title.clone(),
                    format!(
                        "{} – {}",
                        local_time(m.starts_at, &page.time_zone),
                        local_time(m.ends_at, &page.time_zone)
                    ),
                    m.active,
                )
            })
            .collect(),
    };
    html(tr, &view)
}

async fn json(
    state: &AppState,
    slug: &str,
    ctx: &Result<Ctx, PageError>,
) -> Result<Response, PageError> {
    match load(state, slug, ctx).await {
        Ok(page) => Ok(Json(page).into_response()),
        Err(StoreError::NotFound) => Ok((
            axum::http::StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": "no public status page with that name" })),
        )
            .into_response()),
        Err(e) => {
            tracing::error!(error = %e, "status page failed");
            Ok(axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

#[derive(Deserialize, Default)]
pub struct PublicForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    public: String,
}

/// Makes a municipality's status page public or private (from the monitors page).
pub async fn set_public(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<PublicForm>,
) -> Result<Response, PageError> {
    let tenant = TenantId::parse(&form.tenant).map_err(|_| PageError::BadRequest(ctx.tr))?;
    state
        .store
        .set_status_page_public(&ctx.scope, &tenant, form.public == "1")
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/monitors").into_response())
}

#[derive(Deserialize, Default)]
pub struct ShownForm {
    #[serde(default)]
    shown: String,
}

/// Shows or hides one monitor on its municipality's status page.
pub async fn set_shown(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<ShownForm>,
) -> Result<Response, PageError> {
    state
        .store
        .set_monitor_on_status_page(&ctx.scope, &id, form.shown == "1")
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/monitors").into_response())
}
