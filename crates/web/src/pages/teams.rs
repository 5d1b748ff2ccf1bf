//! Teams of technicians, managed by provider administrators.

use super::admin_users::form_errors;
use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::Shell;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::{Permission, TenantId, TenantKind, UserId};
use drifta_store::Team;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "teams.html")]
struct TeamsPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    teams: Vec<Team>,
    providers: Vec<(String, String)>,
    staff: Vec<(String, String)>,
    form_error: Option<String>,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    form_error: Option<String>,
) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::ManageUsers) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let tenants = state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let providers: Vec<(String, String)> = tenants
        .iter()
        .filter(|t| t.kind == TenantKind::Provider && ctx.scope.can(&t.id, Permission::ManageUsers))
        .map(|t| (t.id.to_string(), t.name.clone()))
        .collect();
    let mut staff = Vec::new();
    for (id, _) in &providers {
        let id = TenantId::from_db(id.clone());
        for u in state
            .store
            .technicians_of_provider(&id)
            .await
            .map_err(|e| ctx.store_err(e))?
        {
            staff.push((u.id.to_string(), u.display_name));
        }
    }
    let teams = state
        .store
        .list_teams(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|t| ctx.scope.can(&t.tenant_id, Permission::ManageUsers))
        .collect();
    let view = TeamsPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, "/admin/teams").await?),
        csrf: ctx.session.csrf_token.clone(),
        teams,
        providers,
        staff,
        form_error: form_error.clone(),
    };
    let mut res = html(ctx.tr, &view)?;
    if form_error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    page(&state, &ctx, None).await
}

#[derive(Deserialize)]
pub struct NewTeamForm {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<NewTeamForm>,
) -> Result<Response, PageError> {
    let provider = TenantId::parse(&form.provider).map_err(|_| PageError::BadRequest(ctx.tr))?;
    match state
        .store
        .create_team(&ctx.scope, &provider, &form.name)
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/teams").into_response()),
        Err(e) => {
            let (_, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            page(&state, &ctx, Some(message)).await
        }
    }
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    add: String,
}

pub async fn member(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<MemberForm>,
) -> Result<Response, PageError> {
    let user = UserId::parse(&form.user).map_err(|_| PageError::BadRequest(ctx.tr))?;
    state
        .store
        .set_team_member(&ctx.scope, &id, &user, form.add == "1")
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/admin/teams").into_response())
}
