//! A person's own account: language, password, API tokens.

use super::admin_users::password_message;
use super::dashboard::html;
use super::role_name;
use crate::AppState;
use crate::auth::{Ctx, SESSION_COOKIE, safe_next};
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::{Language, TokenId, password};
use serde::Deserialize;

pub struct TokenRow {
    id: String,
    name: String,
    prefix: String,
    created: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    username: String,
    email: String,
    roles: Vec<String>,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    notice: Option<String>,
    password_error: Option<String>,
}

async fn account_page(
    state: &AppState,
    ctx: &Ctx,
    new_token: Option<String>,
    notice: Option<String>,
    password_error: Option<String>,
) -> Result<Response, PageError> {
    let tenants = state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let zone = tenants
        .first()
        .map_or("UTC".to_string(), |t| t.time_zone.clone());
    let roles = tenants
        .iter()
        .map(|t| {
            let names: Vec<String> = ctx
                .scope
                .roles_in(&t.id)
                .map(|r| role_name(&ctx.tr, r))
                .collect();
            format!("{}: {}", t.name, names.join(", "))
        })
        .collect();
    let tokens = state
        .store
        .list_tokens(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            name: t.name,
            prefix: t.prefix,
            created: local_time(t.created_at, &zone),
            last_used: t
                .last_used_at
                .map(|ms| local_time(ms, &zone))
                .unwrap_or_else(|| ctx.tr.t("never")),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let status = if password_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = AccountPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, "/account").await?),
        csrf: ctx.session.csrf_token.clone(),
        username: ctx.user.username.clone(),
        email: ctx.user.email.clone(),
        roles,
        tokens,
        new_token,
        notice,
        password_error,
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize)]
pub struct AccountQuery {
    saved: Option<String>,
}

pub async fn account(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<AccountQuery>,
) -> Result<Response, PageError> {
    let notice = q.saved.map(|_| ctx.tr.t("saved"));
    account_page(&state, &ctx, None, notice, None).await
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    language: String,
    #[serde(default)]
    back: String,
}

pub async fn set_language(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<LanguageForm>,
) -> Result<Response, PageError> {
    let language = match form.language.as_str() {
        "" => None,
        code => Some(Language::from_code(code).ok_or(PageError::BadRequest(ctx.tr))?),
    };
    state
        .store
        .set_language(&ctx.scope, &ctx.user.id, language)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to(&safe_next(Some(&form.back))).into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    CsrfForm(ctx, form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let tr = ctx.tr;
    let stored = state
        .store
        .find_login(&ctx.user.username)
        .await
        .map_err(|e| ctx.store_err(e))?
        .and_then(|(_, h)| h)
        .unwrap_or_else(|| state.dummy_hash.clone());
    let hasher = state.hasher.clone();
    let current = form.current.clone();
    let current_ok = tokio::task::spawn_blocking(move || hasher.verify(&current, &stored))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(false);
    if !current_ok {
        return account_page(&state, &ctx, None, None, Some(tr.t("err-current-password"))).await;
    }
    if form.new_password != form.repeat {
        return account_page(&state, &ctx, None, None, Some(tr.t("err-passwords-differ"))).await;
    }
    if let Err(e) = password::check_policy(&form.new_password, &ctx.user.username) {
        return account_page(&state, &ctx, None, None, Some(password_message(&tr, &e))).await;
    }
    let hasher = state.hasher.clone();
    let new_password = form.new_password.clone();
    let hash = tokio::task::spawn_blocking(move || hasher.hash(&new_password))
        .await
        .map_err(|e| PageError::Internal(tr, e.to_string()))?
        .map_err(|e| PageError::Internal(tr, e.to_string()))?;
    let own_cookie = crate::auth::cookie_value(&headers, SESSION_COOKIE);
    state
        .store
        .set_password(&ctx.scope, &ctx.user.id, &hash, own_cookie.as_deref())
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/account?saved=1").into_response())
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<TokenForm>,
) -> Result<Response, PageError> {
    match state.store.create_token(&ctx.scope, &form.name).await {
        // Shown in this response only; the database keeps a digest.
        Ok((secret, _)) => account_page(&state, &ctx, Some(secret), None, None).await,
        Err(drifta_store::StoreError::Invalid(f)) => {
            let message = super::admin_users::field_message(&ctx.tr, &f);
            account_page(&state, &ctx, None, Some(message), None).await
        }
        Err(e) => Err(ctx.store_err(e)),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, _): CsrfForm<super::login::Empty>,
) -> Result<Response, PageError> {
    let id = TokenId::parse(&id).map_err(|_| PageError::NotFound(ctx.tr))?;
    state
        .store
        .revoke_token(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/account?saved=1").into_response())
}
