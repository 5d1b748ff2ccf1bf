//! The knowledge base: searchable articles for everyone signed in, written by technicians,
//! shared provider-wide or kept to one municipality. Bodies are Markdown, rendered and
//! sanitised by [`crate::markdown::render`] before they reach a page.

use super::admin_users::form_errors;
use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::markdown;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::{Permission, TenantId, TenantKind};
use drifta_store::{Article, ArticleFilter, ArticleUpdate, NewArticle};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Where an article is read: "All municipalities" for a provider's, else the municipality.
pub(crate) fn scope_label(tr: &Tr, a: &Article) -> String {
    if a.shared {
        tr.t("kb-shared")
    } else {
        a.tenant_name.clone()
    }
}

pub struct ArticleRow {
    id: String,
    title: String,
    scope: String,
    published: bool,
    updated: String,
}

#[derive(Template)]
#[template(path = "kb.html")]
struct ListPage {
    tr: Tr,
    shell: Option<Shell>,
    q: String,
    can_write: bool,
    rows: Vec<ArticleRow>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let articles = state
        .store
        .list_articles(
            &ctx.scope,
            &ArticleFilter {
                // The switcher narrows to what applies to that municipality.
                tenant: ctx.session.active_tenant.clone(),
                published_only: false,
                text: q.q.clone(),
                limit: 200,
            },
        )
        .await
        .map_err(|e| ctx.store_err(e))?;
    let rows = articles
        .iter()
        .map(|a| ArticleRow {
            id: a.id.clone(),
            title: a.title.clone(),
            scope: scope_label(&ctx.tr, a),
            published: a.published,
            updated: local_time(a.updated_at, &a.time_zone),
        })
        .collect();
    let page = ListPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/kb").await?),
        q: q.q,
        can_write: ctx.scope.can_anywhere(Permission::Operate),
        rows,
    };
    html(ctx.tr, &page)
}

#[derive(Deserialize, Default)]
pub struct ArticleForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    published: String,
}

#[derive(Template)]
#[template(path = "kb_form.html")]
struct FormPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    /// `None` for a new article.
    id: Option<String>,
    form: ArticleForm,
    /// Where the author may write: (tenant id, label).
    tenants: Vec<(String, String)>,
    errors: BTreeMap<String, String>,
    form_error: Option<String>,
}

/// Tenants where the person may write articles: providers first ("all municipalities of …"),
/// then municipalities.
async fn writable_tenants(state: &AppState, ctx: &Ctx) -> Result<Vec<(String, String)>, PageError> {
    Ok(state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|t| ctx.scope.can(&t.id, Permission::Operate))
        .map(|t| {
            let label = match t.kind {
                TenantKind::Provider => ctx.tr.t_with("kb-scope-provider", &[("name", &t.name)]),
                TenantKind::Municipality => t.name,
            };
            (t.id.to_string(), label)
        })
        .collect())
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: Option<String>,
    mut form: ArticleForm,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tenants = if id.is_none() {
        let tenants = writable_tenants(state, ctx).await?;
        if tenants.is_empty() {
            return Err(PageError::Forbidden(ctx.tr));
        }
        if form.tenant.is_empty() {
            // Default to the municipality picked in the switcher, else the first choice.
            form.tenant = ctx
                .session
                .active_tenant
                .as_ref()
                .map(|t| t.to_string())
                .filter(|t| tenants.iter().any(|(id, _)| id == t))
                .unwrap_or_else(|| tenants[0].0.clone());
        }
        tenants
    } else {
        Vec::new()
    };
    let path = match &id {
        Some(id) => format!("/kb/{id}/edit"),
        None => "/kb/new".to_string(),
    };
    let form_error = (!errors.is_empty()).then(|| ctx.tr.t("form-has-errors"));
    let page = FormPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, &path).await?),
        csrf: ctx.session.csrf_token.clone(),
        id,
        form,
        tenants,
        errors,
        form_error,
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    form_page(
        &state,
        &ctx,
        None,
        ArticleForm::default(),
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<ArticleForm>,
) -> Result<Response, PageError> {
    let Ok(tenant) = TenantId::parse(&form.tenant) else {
        let errors = BTreeMap::from([("tenant".to_string(), ctx.tr.t("err-required"))]);
        return form_page(
            &state,
            &ctx,
            None,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let new = NewArticle {
        tenant_id: tenant,
        title: form.title.clone(),
        body_markdown: form.body.clone(),
        published: !form.published.is_empty(),
    };
    match state.store.create_article(&ctx.scope, new).await {
        Ok(a) => Ok(Redirect::to(&format!("/kb/{}?created=1", a.id)).into_response()),
        Err(e) => {
            let (field, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            let errors = BTreeMap::from([(field, message)]);
            form_page(
                &state,
                &ctx,
                None,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "kb_article.html")]
struct ArticlePage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    a: Article,
    scope: String,
    meta: String,
    /// Sanitised HTML from [`markdown::render`]; the only value a template marks `|safe`.
    body_html: String,
    can_edit: bool,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    created: Option<String>,
    saved: Option<String>,
}

async fn find(state: &AppState, ctx: &Ctx, id: &str) -> Result<Article, PageError> {
    state
        .store
        .get_article(&ctx.scope, id)
        .await
        .map_err(|e| ctx.store_err(e))
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let a = find(&state, &ctx, &id).await?;
    let notice = if q.created.is_some() {
        Some(ctx.tr.t("kb-created"))
    } else {
        q.saved.map(|_| ctx.tr.t("saved"))
    };
    let page = ArticlePage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, &format!("/kb/{}", a.id)).await?),
        csrf: ctx.session.csrf_token.clone(),
        scope: scope_label(&ctx.tr, &a),
        meta: ctx.tr.t_with(
            "kb-meta",
            &[
                ("time", &local_time(a.updated_at, &a.time_zone)),
                ("author", &a.author_name),
            ],
        ),
        body_html: markdown::render(&a.body_markdown),
        can_edit: ctx.scope.can(&a.tenant_id, Permission::Operate),
        notice,
        a,
    };
    html(ctx.tr, &page)
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let a = find(&state, &ctx, &id).await?;
    if !ctx.scope.can(&a.tenant_id, Permission::Operate) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let form = ArticleForm {
        title: a.title,
        body: a.body_markdown,
        tenant: a.tenant_id.to_string(),
        published: if a.published {
            "1".into()
        } else {
            String::new()
        },
    };
    form_page(
        &state,
        &ctx,
        Some(a.id),
        form,
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<ArticleForm>,
) -> Result<Response, PageError> {
    let a = find(&state, &ctx, &id).await?;
    let update = ArticleUpdate {
        title: form.title.clone(),
        body_markdown: form.body.clone(),
    };
    match state.store.update_article(&ctx.scope, &a.id, update).await {
        Ok(a) => Ok(Redirect::to(&format!("/kb/{}?saved=1", a.id)).into_response()),
        Err(e) => {
            let (field, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            let errors = BTreeMap::from([(field, message)]);
            form_page(
                &state,
                &ctx,
                Some(a.id),
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The publish and unpublish buttons post only the CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

pub async fn publish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, _): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let a = state
        .store
        .publish_article(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to(&format!("/kb/{}?saved=1", a.id)).into_response())
}

pub async fn unpublish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, _): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let a = state
        .store
        .unpublish_article(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to(&format!("/kb/{}?saved=1", a.id)).into_response())
}
