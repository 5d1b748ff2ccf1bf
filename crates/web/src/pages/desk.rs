//! A municipality's service-desk settings: opening hours, half-days, closures, SLA targets.

use super::dashboard::html;
use super::tickets::priority_name;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::Shell;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::desk::{DeskSettings, HOUR_FIELDS};
use drifta_core::ticket::Priority;
use drifta_core::{Permission, TenantId};
use serde::Deserialize;
use std::collections::HashMap;

type Targets = Vec<(Priority, Option<i64>, Option<i64>)>;

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    tenant_id: String,
    tenant_name: String,
    can_edit: bool,
    hours: Vec<(String, String, String)>,
    half_days: String,
    closures: String,
    sla: Vec<(String, String, String, String)>,
    notice: Option<String>,
    form_error: Option<String>,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    tenant: &TenantId,
    shown: Option<(DeskSettings, Targets)>,
    notice: Option<String>,
    form_error: Option<String>,
) -> Result<Response, PageError> {
    let t = state
        .store
        .get_tenant(&ctx.scope, tenant)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let (settings, targets) = match shown {
        Some(s) => s,
        None => state
            .store
            .desk_settings(&ctx.scope, tenant)
            .await
            .map_err(|e| ctx.store_err(e))?,
    };
    let day_keys = [
        "day-mon", "day-tue", "day-wed", "day-thu", "day-fri", "day-sat", "day-sun",
    ];
    let minutes = |m: Option<i64>| m.map(|v| v.to_string()).unwrap_or_default();
    let view = DeskPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, &format!("/tenants/{tenant}/desk")).await?),
        csrf: ctx.session.csrf_token.clone(),
        tenant_id: tenant.to_string(),
        tenant_name: t.name,
        can_edit: ctx.scope.can(tenant, Permission::ManageTenants),
        hours: (0..7)
            .map(|i| {
                (
                    HOUR_FIELDS[i].to_string(),
                    ctx.tr.t(day_keys[i]),
                    settings.hours[i].clone(),
                )
            })
            .collect(),
        half_days: settings.half_days,
        closures: settings.closures,
        sla: targets
            .iter()
            .map(|(p, a, b)| {
                (
                    p.as_str().to_string(),
                    priority_name(&ctx.tr, *p),
                    minutes(*a),
                    minutes(*b),
                )
            })
            .collect(),
        notice,
        form_error: form_error.clone(),
    };
    let mut res = html(ctx.tr, &view)?;
    if form_error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let tenant = TenantId::parse(&id).map_err(|_| PageError::NotFound(ctx.tr))?;
    if !ctx.scope.can(&tenant, Permission::ReadAll) {
        return Err(PageError::NotFound(ctx.tr));
    }
    page(
        &state,
        &ctx,
        &tenant,
        None,
        q.saved.map(|_| ctx.tr.t("saved")),
        None,
    )
    .await
}

pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let tenant = TenantId::parse(&id).map_err(|_| PageError::NotFound(ctx.tr))?;
    if !ctx.scope.can(&tenant, Permission::ManageTenants) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let settings = DeskSettings {
        hours: std::array::from_fn(|i| get(HOUR_FIELDS[i]).trim().to_string()),
        half_days: get("half_days"),
        closures: get("closures"),
    };
    let mut targets = Vec::new();
    let mut bad_number = false;
    for p in Priority::ALL {
        let mut read = |field: String| -> Option<i64> {
            let text = get(&field);
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            let parsed = text.parse::<i64>().ok();
            bad_number |= parsed.is_none();
            parsed
        };
        let a = read(format!("response_{}", p.as_str()));
        let b = read(format!("resolution_{}", p.as_str()));
        targets.push((*p, a, b));
    }
    let tr = ctx.tr;
    let t = state
        .store
        .get_tenant(&ctx.scope, &tenant)
        .await
        .map_err(|e| ctx.store_err(e))?;
    // Check here too, so the message can name the line that is wrong.
    let problem = if bad_number {
        Some(tr.t("err-sla-range"))
    } else {
        settings.calendar(t.country, &t.time_zone).err().map(|e| {
            tr.t_with(
                "err-desk-settings",
                &[
                    (
                        "field",
                        &tr.t(&format!("desk-field-{}", e.field.replace('_', "-"))),
                    ),
                    ("line", &e.line.to_string()),
                    ("detail", &e.message),
                ],
            )
        })
    };
    if let Some(message) = problem {
        return page(
            &state,
            &ctx,
            &tenant,
            Some((settings, targets)),
            None,
            Some(message),
        )
        .await;
    }
    match state
        .store
        .save_desk_settings(&ctx.scope, &tenant, &settings, &targets)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/tenants/{tenant}/desk?saved=1")).into_response()),
        Err(e) => {
            let (_, message) =
                super::admin_users::form_errors(&tr, e).map_err(|e| ctx.store_err(e))?;
            page(
                &state,
                &ctx,
                &tenant,
                Some((settings, targets)),
                None,
                Some(message),
            )
            .await
        }
    }
}
