//! Signing in and out.

use crate::AppState;
use crate::auth::{
    LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, Visitor, build_cookie, cookie_value, safe_next,
};
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::{Language, secret};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    shell: Option<crate::shell::Shell>,
    csrf: String,
    next: String,
    login: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

fn render(page: LoginPage, status: StatusCode, cookies: Vec<String>) -> Response {
    let tr = page.tr;
    match page.render() {
        Ok(html) => {
            let mut res = (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response();
            for c in cookies {
                if let Ok(v) = c.parse() {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(e) => PageError::Internal(tr, e.to_string()).into_response(),
    }
}

pub async fn login_page(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    if let Some(cookie) = cookie_value(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = state
            .store
            .session_by_cookie(&cookie, state.config.session_idle)
            .await
    {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    let mut cookies = Vec::new();
    let mut tr = visitor.tr;
    if let Some(lang) = q.lang.as_deref().and_then(Language::from_code) {
        tr = Tr::new(lang);
        cookies.push(build_cookie(
            LANG_COOKIE,
            lang.code().into(),
            visitor.https,
            Some(365 * 86400),
        ));
    }
    // Double-submit token: the form echoes a cookie that another site cannot read or set.
    let csrf = match visitor.login_csrf {
        Some(c) if !c.is_empty() => c,
        _ => {
            let c = secret::generate("");
            cookies.push(build_cookie(
                LOGIN_CSRF_COOKIE,
                c.clone(),
                visitor.https,
                None,
            ));
            c
        }
    };
    let page = LoginPage {
        tr,
        shell: None,
        csrf,
        next: safe_next(q.next.as_deref()),
        login: String::new(),
        error: None,
    };
    render(page, StatusCode::OK, cookies)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<LoginForm>,
) -> Response {
    let tr = visitor.tr;
    let token_ok = visitor
        .login_csrf
        .as_deref()
        .is_some_and(|c| !c.is_empty() && secret::equal(c, &form.csrf));
    if !token_ok {
        return PageError::Csrf(tr).into_response();
    }
    let login = form.login.trim().to_lowercase();
    let again = |error: String, status: StatusCode| {
        render(
            LoginPage {
                tr,
                shell: None,
                csrf: form.csrf.clone(),
                next: safe_next(Some(&form.next)),
                login: form.login.clone(),
                error: Some(error),
            },
            status,
            Vec::new(),
        )
    };
    let internal =
        |e: drifta_store::StoreError| PageError::Internal(tr, e.to_string()).into_response();
    if login.is_empty() || form.password.is_empty() {
        return again(tr.t("sign-in-missing"), StatusCode::BAD_REQUEST);
    }

    let window = state.config.login_window;
    let user_key = format!("user:{login}");
    let ip_key = format!("ip:{}", visitor.ip);
    let (by_user, by_ip) = match (
        state.store.recent_login_failures(&user_key, window).await,
        state.store.recent_login_failures(&ip_key, window).await,
    ) {
        (Ok(u), Ok(i)) => (u, i),
        (Err(e), _) | (_, Err(e)) => return internal(e),
    };
    if by_user >= state.config.max_failures_per_account || by_ip >= state.config.max_failures_per_ip
    {
        let _ = state
            .store
            .record_sign_in(None, &login, &visitor.ip, "sign_in_blocked")
            .await;
        let minutes = (window.as_secs() / 60).to_string();
        return again(
            tr.t_with("sign-in-too-many", &[("minutes", minutes.as_str())]),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }

    let found = match state.store.find_login(&login).await {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let (user, stored_hash) = match &found {
        Some((u, Some(h))) if !u.disabled => (Some(u), h.clone()),
        Some((u, _)) => (Some(u), state.dummy_hash.clone()),
        None => (None, state.dummy_hash.clone()),
    };
    let usable = found
        .as_ref()
        .is_some_and(|(u, h)| !u.disabled && h.is_some());
    // Argon2 is deliberately slow: keep it off the threads that serve other requests.
    let hasher = state.hasher.clone();
    let password = form.password.clone();
    let verified = tokio::task::spawn_blocking(move || hasher.verify(&password, &stored_hash))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(false);

    if !(usable && verified) {
        if let Err(e) = state
            .store
            .record_login_failure(&[user_key, ip_key], window)
            .await
        {
            return internal(e);
        }
        let _ = state
            .store
            .record_sign_in(user, &login, &visitor.ip, "sign_in_failed")
            .await;
        return again(tr.t("sign-in-failed"), StatusCode::UNAUTHORIZED);
    }
    let Some(user) = user else {
        return again(tr.t("sign-in-failed"), StatusCode::UNAUTHORIZED);
    };
    let _ = state.store.clear_login_failures(&user_key).await;
    let (cookie, _) = match state
        .store
        .create_session(user, &visitor.ip, state.config.session_idle)
        .await
    {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    if let Err(e) = state
        .store
        .record_sign_in(Some(user), &login, &visitor.ip, "sign_in")
        .await
    {
        return internal(e);
    }
    let mut res = Redirect::to(&safe_next(Some(&form.next))).into_response();
    let headers = res.headers_mut();
    for c in [
        build_cookie(SESSION_COOKIE, cookie, visitor.https, None),
        build_cookie(LOGIN_CSRF_COOKIE, String::new(), visitor.https, Some(0)),
    ] {
        if let Ok(v) = c.parse() {
            headers.append(header::SET_COOKIE, v);
        }
    }
    res
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    CsrfForm(ctx, _): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    state
        .store
        .delete_session(&ctx.session.token_hash)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let _ = state
        .store
        .record_sign_in(Some(&ctx.user), &ctx.user.username, &ctx.ip, "sign_out")
        .await;
    let mut res = Redirect::to("/login").into_response();
    if let Ok(v) = build_cookie(SESSION_COOKIE, String::new(), false, Some(0)).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}
