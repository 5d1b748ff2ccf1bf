//! The start page: the municipalities a person serves, and one municipality's page.

use super::{country_name, location_kind_name, role_name};
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::i18n::Tr;
use crate::shell::Shell;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use drifta_core::ticket::Level;
use drifta_core::{TenantId, TenantKind};

pub struct Card {
    pub id: String,
    pub name: String,
    pub country: String,
    pub time_zone: String,
    pub locations: i64,
    pub roles: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    tr: Tr,
    shell: Option<Shell>,
    heading: String,
    user_name: String,
    cards: Vec<Card>,
}

pub(crate) fn html<T: Template>(tr: Tr, page: &T) -> Result<Response, PageError> {
    page.render()
        .map(|h| Html(h).into_response())
        .map_err(|e| PageError::Internal(tr, e.to_string()))
}

pub async fn dashboard(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let view = ctx.view_scope();
    let tenants = state
        .store
        .list_tenants(&view)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let counts = state
        .store
        .location_counts(&view)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let cards = tenants
        .iter()
        .filter(|t| t.kind == TenantKind::Municipality)
        .map(|t| Card {
            id: t.id.to_string(),
            name: t.name.clone(),
            country: country_name(&ctx.tr, t.country),
            time_zone: t.time_zone.clone(),
            locations: counts
                .iter()
                .find(|(id, _)| *id == t.id)
                .map_or(0, |(_, n)| *n),
            roles: ctx
                .scope
                .roles_in(&t.id)
                .map(|r| role_name(&ctx.tr, r))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect::<Vec<_>>();
    let heading = match &ctx.session.active_tenant {
        Some(active) => tenants
            .iter()
            .find(|t| t.id == *active)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| ctx.tr.t("dashboard-all")),
        None => ctx.tr.t("dashboard-all"),
    };
    let page = DashboardPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/").await?),
        heading,
        user_name: ctx.user.display_name.clone(),
        cards,
    };
    html(ctx.tr, &page)
}

/// One impact level's row: its label and (field name, chosen priority code) per urgency.
type MatrixRow = (String, Vec<(String, String)>);

#[derive(Template)]
#[template(path = "tenant.html")]
struct TenantPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    /// For a provider its administrators may change: rows of (impact label, [(cell name, chosen code)]).
    matrix: Option<Vec<MatrixRow>>,
    priorities: Vec<(String, String)>,
    levels: Vec<String>,
    id: String,
    can_see_desk: bool,
    name: String,
    country: String,
    time_zone: String,
    language: String,
    locations: Vec<(String, String, String)>,
}

pub async fn tenant(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = TenantId::parse(&id).map_err(|_| PageError::NotFound(ctx.tr))?;
    let tenant = state
        .store
        .get_tenant(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let locations = state
        .store
        .list_locations(&ctx.scope, Some(&id))
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|l| (l.name, location_kind_name(&ctx.tr, l.kind), l.address))
        .collect();
    let matrix = if tenant.kind == TenantKind::Provider
        && ctx.scope.can(&id, drifta_core::Permission::ManageTenants)
    {
        let m = state
            .store
            .priority_matrix(&id)
            .await
            .map_err(|e| ctx.store_err(e))?;
        Some(
            Level::ALL
                .iter()
                .map(|impact| {
                    let cells = Level::ALL
                        .iter()
                        .map(|urgency| {
                            (
                                format!("{}_{}", impact.as_str(), urgency.as_str()),
                                m.priority(*impact, *urgency).as_str().to_string(),
                            )
                        })
                        .collect();
                    (ctx.tr.t(&format!("level-{}", impact.as_str())), cells)
                })
                .collect(),
        )
    } else {
        None
    };
    let page = TenantPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, &format!("/tenants/{id}")).await?),
        can_see_desk: ctx.scope.can(&id, drifta_core::Permission::ReadAll)
            && tenant.kind == TenantKind::Municipality,
        csrf: ctx.session.csrf_token.clone(),
        matrix,
        priorities: drifta_core::ticket::Priority::ALL
            .iter()
            .map(|p| {
                (
                    p.as_str().to_string(),
                    super::tickets::priority_name(&ctx.tr, *p),
                )
            })
            .collect(),
        levels: Level::ALL
            .iter()
            .map(|l| ctx.tr.t(&format!("level-{}", l.as_str())))
            .collect(),
        id: id.to_string(),
        name: tenant.name,
        country: country_name(&ctx.tr, tenant.country),
        time_zone: tenant.time_zone,
        language: ctx.tr.t(&format!("language-{}", tenant.language.code())),
        locations,
    };
    html(ctx.tr, &page)
}

/// Saves a provider's impact × urgency → priority matrix from the tenant page.
pub async fn save_matrix(
    State(state): State<AppState>,
    Path(id): Path<String>,
    crate::forms::CsrfForm(ctx, form): crate::forms::CsrfForm<
        std::collections::HashMap<String, String>,
    >,
) -> Result<Response, PageError> {
    use drifta_core::ticket::{Priority, PriorityMatrix};
    let id = TenantId::parse(&id).map_err(|_| PageError::NotFound(ctx.tr))?;
    let mut m = PriorityMatrix::default();
    for (i, impact) in Level::ALL.iter().enumerate() {
        for (j, urgency) in Level::ALL.iter().enumerate() {
            let key = format!("{}_{}", impact.as_str(), urgency.as_str());
            let value = form.get(&key).map(String::as_str).unwrap_or_default();
            m.0[i][j] = Priority::parse(value).ok_or(PageError::BadRequest(ctx.tr))?;
        }
    }
    state
        .store
        .set_priority_matrix(&ctx.scope, &id, &m)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(axum::response::Redirect::to(&format!("/tenants/{id}")).into_response())
}
