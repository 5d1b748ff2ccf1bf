//! User administration: list, create, grant roles per municipality, disable, reset password.

use super::dashboard::html;
use super::role_name;
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
use drifta_core::password::{self, PasswordError};
use drifta_core::validate::FieldError;
use drifta_core::{Language, Permission, Role, TenantId, TenantKind, UserId};
use drifta_store::{NewUser, StoreError, User};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A field error in the reader's language; falls back to the English text of the rule.
pub(crate) fn field_message(tr: &Tr, err: &FieldError) -> String {
    let key = format!("err-{}", err.code);
    let text = tr.t(&key);
    if text == key {
        err.message.to_string()
    } else {
        text
    }
}

pub(crate) fn password_message(tr: &Tr, err: &PasswordError) -> String {
    tr.t(&format!("err-{}", err.code()))
}

/// Store errors that belong beside a form field, as (field, message); others pass through.
pub(crate) fn form_errors(tr: &Tr, err: StoreError) -> Result<(String, String), StoreError> {
    match err {
        StoreError::Invalid(f) => Ok((f.field.to_string(), field_message(tr, &f))),
        StoreError::Taken { field } => Ok((field.to_string(), tr.t(&format!("err-taken-{field}")))),
        other => Err(other),
    }
}

pub struct UserRow {
    id: String,
    name: String,
    username: String,
    email: String,
    home: String,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    tr: Tr,
    shell: Option<Shell>,
    rows: Vec<UserRow>,
}

async fn tenant_names(
    state: &AppState,
    ctx: &Ctx,
) -> Result<BTreeMap<TenantId, (String, TenantKind)>, PageError> {
    Ok(state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|t| (t.id, (t.name, t.kind)))
        .collect())
}

fn require_admin(ctx: &Ctx) -> Result<(), PageError> {
    if ctx.scope.can_anywhere(Permission::ManageUsers) {
        Ok(())
    } else {
        Err(PageError::Forbidden(ctx.tr))
    }
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    require_admin(&ctx)?;
    let names = tenant_names(&state, &ctx).await?;
    let users = state
        .store
        .list_users(&ctx.view_scope(), None)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let rows = users
        .into_iter()
        .map(|u| UserRow {
            id: u.id.to_string(),
            name: u.display_name,
            username: u.username,
            email: u.email,
            home: names
                .get(&u.tenant_id)
                .map(|(n, _)| n.clone())
                .unwrap_or_default(),
            disabled: u.disabled,
        })
        .collect();
    let page = UsersPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/admin/users").await?),
        rows,
    };
    html(ctx.tr, &page)
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    home: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "user_new.html")]
struct NewUserPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    form: NewUserForm,
    homes: Vec<(String, String)>,
    roles: Vec<(String, String)>,
    errors: BTreeMap<String, String>,
    form_error: Option<String>,
}

async fn new_user_page(
    state: &AppState,
    ctx: &Ctx,
    form: NewUserForm,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let names = tenant_names(state, ctx).await?;
    let homes = names
        .iter()
        .filter(|(id, _)| ctx.scope.can(id, Permission::ManageUsers))
        .map(|(id, (name, _))| (id.to_string(), name.clone()))
        .collect();
    let roles = Role::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), role_name(&ctx.tr, *r)))
        .collect();
    let form_error = (!errors.is_empty()).then(|| ctx.tr.t("form-has-errors"));
    let page = NewUserPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, "/admin/users/new").await?),
        csrf: ctx.session.csrf_token.clone(),
        form: NewUserForm {
            password: String::new(),
            ..form
        },
        homes,
        roles,
        errors,
        form_error,
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    require_admin(&ctx)?;
    let form = NewUserForm {
        role: Role::Requester.as_str().into(),
        home: ctx
            .session
            .active_tenant
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        ..NewUserForm::default()
    };
    new_user_page(&state, &ctx, form, BTreeMap::new(), StatusCode::OK).await
}

fn role_fits(role: Role, kind: TenantKind) -> bool {
    match kind {
        TenantKind::Provider => role.may_be_granted_on_provider(),
        TenantKind::Municipality => role != Role::ProviderAdmin,
    }
}

pub async fn create(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<NewUserForm>,
) -> Result<Response, PageError> {
    require_admin(&ctx)?;
    let tr = ctx.tr;
    let mut errors = BTreeMap::new();
    let names = tenant_names(&state, &ctx).await?;
    let home = TenantId::parse(&form.home)
        .ok()
        .filter(|h| ctx.scope.can(h, Permission::ManageUsers));
    let role = Role::parse(&form.role);
    match (&home, role) {
        (None, _) => {
            errors.insert("home".to_string(), tr.t("err-required"));
        }
        (_, None) => {
            errors.insert("role".to_string(), tr.t("err-required"));
        }
        (Some(h), Some(r)) => {
            let kind = names.get(h).map_or(TenantKind::Municipality, |(_, k)| *k);
            if !role_fits(r, kind) {
                let code = if kind == TenantKind::Provider {
                    "role-municipality-only"
                } else {
                    "role-provider-only"
                };
                errors.insert("role".to_string(), tr.t(&format!("err-{code}")));
            }
        }
    }
    if let Err(e) = password::check_policy(&form.password, &form.username) {
        errors.insert("password".to_string(), password_message(&tr, &e));
    }
    let (Some(home), Some(role), true) = (home, role, errors.is_empty()) else {
        return new_user_page(&state, &ctx, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let hasher = state.hasher.clone();
    let plain = form.password.clone();
    let hash = tokio::task::spawn_blocking(move || hasher.hash(&plain))
        .await
        .map_err(|e| PageError::Internal(tr, e.to_string()))?
        .map_err(|e| PageError::Internal(tr, e.to_string()))?;
    let created = state
        .store
        .create_user(
            &ctx.scope,
            NewUser {
                tenant_id: home.clone(),
                username: form.username.clone(),
                email: form.email.clone(),
                display_name: form.display_name.clone(),
                phone: form.phone.clone(),
                language: Language::from_code(&form.language),
                password_hash: Some(hash),
            },
        )
        .await;
    let user = match created {
        Ok(u) => u,
        Err(e) => {
            let (field, message) = form_errors(&tr, e).map_err(|e| ctx.store_err(e))?;
            errors.insert(field, message);
            return new_user_page(&state, &ctx, form, errors, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    state
        .store
        .set_grants(&ctx.scope, &user.id, &[(home, role)])
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to(&format!("/admin/users/{}?created=1", user.id)).into_response())
}

pub struct GrantCell {
    value: String,
    label: String,
    allowed: bool,
    checked: bool,
}

pub struct GrantRow {
    name: String,
    cells: Vec<GrantCell>,
}

#[derive(Template)]
#[template(path = "user_edit.html")]
struct EditUserPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    user: User,
    roles: Vec<(String, String)>,
    grant_rows: Vec<GrantRow>,
    notice: Option<String>,
    form_error: Option<String>,
}

async fn edit_page(
    state: &AppState,
    ctx: &Ctx,
    id: &UserId,
    notice: Option<String>,
    form_error: Option<String>,
) -> Result<Response, PageError> {
    let user = state
        .store
        .get_user(&ctx.scope, id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    if !ctx.scope.can(&user.tenant_id, Permission::ManageUsers) {
        return Err(PageError::NotFound(ctx.tr));
    }
    let grants = state
        .store
        .grants_of(&ctx.scope, id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let names = tenant_names(state, ctx).await?;
    let mut tenants: Vec<(&TenantId, &(String, TenantKind))> = names
        .iter()
        .filter(|(t, _)| ctx.scope.can(t, Permission::ManageUsers))
        .collect();
    tenants.sort_by_key(|(_, (name, kind))| (*kind != TenantKind::Provider, name.clone()));
    let grant_rows = tenants
        .into_iter()
        .map(|(tid, (name, kind))| GrantRow {
            name: name.clone(),
            cells: Role::ALL
                .iter()
                .map(|r| GrantCell {
                    value: format!("{tid}:{}", r.as_str()),
                    label: role_name(&ctx.tr, *r),
                    allowed: role_fits(*r, *kind),
                    checked: grants.iter().any(|(t, g)| t == tid && g == r),
                })
                .collect(),
        })
        .collect();
    let page = EditUserPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, &format!("/admin/users/{id}")).await?),
        csrf: ctx.session.csrf_token.clone(),
        user,
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str().to_string(), role_name(&ctx.tr, *r)))
            .collect(),
        grant_rows,
        notice,
        form_error,
    };
    let status = if page.form_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize)]
pub struct EditQuery {
    created: Option<String>,
    saved: Option<String>,
}

pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<EditQuery>,
) -> Result<Response, PageError> {
    require_admin(&ctx)?;
    let id = UserId::parse(&id).map_err(|_| PageError::NotFound(ctx.tr))?;
    let notice = if q.created.is_some() {
        Some(ctx.tr.t("user-created"))
    } else if q.saved.is_some() {
        Some(ctx.tr.t("saved"))
    } else {
        None
    };
    edit_page(&state, &ctx, &id, notice, None).await
}

pub async fn save_grants(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    require_admin(&ctx)?;
    let id = UserId::parse(&id).map_err(|_| PageError::NotFound(ctx.tr))?;
    let mut grants = Vec::new();
    for (key, value) in pairs.iter().filter(|(k, _)| k == "grant") {
        let _ = key;
        let (tenant, role) = value.split_once(':').ok_or(PageError::BadRequest(ctx.tr))?;
        let tenant = TenantId::parse(tenant).map_err(|_| PageError::BadRequest(ctx.tr))?;
        let role = Role::parse(role).ok_or(PageError::BadRequest(ctx.tr))?;
        grants.push((tenant, role));
    }
    match state.store.set_grants(&ctx.scope, &id, &grants).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(e) => {
            let (_, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            edit_page(&state, &ctx, &id, None, Some(message)).await
        }
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    disabled: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    require_admin(&ctx)?;
    let id = UserId::parse(&id).map_err(|_| PageError::NotFound(ctx.tr))?;
    match state
        .store
        .set_disabled(&ctx.scope, &id, form.disabled == "true")
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(e) => {
            let (_, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            edit_page(&state, &ctx, &id, None, Some(message)).await
        }
    }
}

#[derive(Deserialize)]
pub struct AdminPasswordForm {
    #[serde(default)]
    new_password: String,
}

pub async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<AdminPasswordForm>,
) -> Result<Response, PageError> {
    require_admin(&ctx)?;
    let id = UserId::parse(&id).map_err(|_| PageError::NotFound(ctx.tr))?;
    let user = state
        .store
        .get_user(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    if let Err(e) = password::check_policy(&form.new_password, &user.username) {
        let message = password_message(&ctx.tr, &e);
        return edit_page(&state, &ctx, &id, None, Some(message)).await;
    }
    let hasher = state.hasher.clone();
    let tr = ctx.tr;
    let hash = tokio::task::spawn_blocking(move || hasher.hash(&form.new_password))
        .await
        .map_err(|e| PageError::Internal(tr, e.to_string()))?
        .map_err(|e| PageError::Internal(tr, e.to_string()))?;
    state
        .store
        .set_password(&ctx.scope, &id, &hash, None)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response())
}
