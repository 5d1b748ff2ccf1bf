//! Who is asking: session cookies for pages, bearer tokens for the API, the client's
//! address and language, and the sign-in rate limit.

use crate::error::PageError;
use crate::i18n::{Tr, from_accept_language};
use crate::{AppState, CookieSecurity};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use cookie::{Cookie, SameSite};
use drifta_core::{Language, Scope};
use drifta_store::{Session, User};
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "drifta_session";
pub const LOGIN_CSRF_COOKIE: &str = "drifta_login_csrf";
pub const LANG_COOKIE: &str = "drifta_lang";

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop when the
/// operator said a proxy sits in front.
pub fn client_ip(parts: &Parts, state: &AppState) -> String {
    if state.config.trust_proxy
        && let Some(forwarded) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return forwarded.trim().to_string();
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

pub fn is_https(headers: &HeaderMap, state: &AppState) -> bool {
    match state.config.cookie_security {
        CookieSecurity::Always => true,
        CookieSecurity::Never => false,
        CookieSecurity::Auto => {
            state.config.trust_proxy
                && headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|p| p.eq_ignore_ascii_case("https"))
        }
    }
}

/// The language of someone not signed in: an explicit choice (cookie), else the browser's.
pub fn visitor_language(headers: &HeaderMap) -> Language {
    cookie_value(headers, LANG_COOKIE)
        .and_then(|c| Language::from_code(&c))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(from_accept_language)
        })
        .unwrap_or(Language::En)
}

/// A cookie for our own use: HttpOnly, SameSite=Lax, Secure over HTTPS.
pub fn build_cookie(name: &str, value: String, secure: bool, max_age_secs: Option<i64>) -> String {
    let mut c = Cookie::build((name.to_string(), value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure);
    if let Some(age) = max_age_secs {
        c = c.max_age(cookie::time::Duration::seconds(age));
    }
    c.build().to_string()
}

/// A signed-in person on a page request: their session, account, scope and language.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub user: User,
    pub session: Session,
    /// Everything the person may see. Pages that list data narrow it with [`Ctx::view_scope`].
    pub scope: Scope,
    pub tr: Tr,
    pub ip: String,
}

impl Ctx {
    /// The scope narrowed to the municipality picked in the switcher, if any.
    pub fn view_scope(&self) -> Scope {
        match &self.session.active_tenant {
            Some(t) => self.scope.narrowed_to(t),
            None => self.scope.clone(),
        }
    }

    pub fn store_err(&self, err: drifta_store::StoreError) -> PageError {
        PageError::from_store(self.tr, err)
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let visitor_tr = Tr::new(visitor_language(&parts.headers));
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let sign_in = || PageError::SignIn { next: next.clone() };
        let cookie = cookie_value(&parts.headers, SESSION_COOKIE).ok_or_else(sign_in)?;
        let (session, user) = state
            .store
            .session_by_cookie(&cookie, state.config.session_idle)
            .await
            .map_err(|e| PageError::from_store(visitor_tr, e))?
            .ok_or_else(sign_in)?;
        let ip = client_ip(parts, state);
        let scope = state
            .store
            .scope_for(&user, &ip)
            .await
            .map_err(|e| PageError::from_store(visitor_tr, e))?;
        let lang = user
            .language
            .unwrap_or_else(|| visitor_language(&parts.headers));
        Ok(Ctx {
            user,
            session,
            scope,
            tr: Tr::new(lang),
            ip,
        })
    }
}

/// Someone not (necessarily) signed in: for the sign-in page.
#[derive(Clone, Debug)]
pub struct Visitor {
    pub tr: Tr,
    pub ip: String,
    pub https: bool,
    pub login_csrf: Option<String>,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Visitor {
            tr: Tr::new(visitor_language(&parts.headers)),
            ip: client_ip(parts, state),
            https: is_https(&parts.headers, state),
            login_csrf: cookie_value(&parts.headers, LOGIN_CSRF_COOKIE),
        })
    }
}

/// Only redirect targets on this site: an absolute path, not `//host` or a full URL.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_stay_on_site() {
        assert_eq!(safe_next(Some("/audit?x=1")), "/audit?x=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_http_only_and_lax() {
        let c = build_cookie(SESSION_COOKIE, "abc".into(), true, Some(60));
        assert!(c.contains("HttpOnly"));
        assert!(c.contains("SameSite=Lax"));
        assert!(c.contains("Secure"));
        assert!(c.contains("Max-Age=60"));
        assert!(!build_cookie("x", "y".into(), false, None).contains("Secure"));
    }

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; drifta_session=s3; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE).as_deref(), Some("s3"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }

    #[test]
    fn visitor_language_prefers_the_cookie() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, "da-DK,da;q=0.9".parse().unwrap());
        assert_eq!(visitor_language(&h), Language::Da);
        h.insert(header::COOKIE, "drifta_lang=nb".parse().unwrap());
        assert_eq!(visitor_language(&h), Language::Nb);
        assert_eq!(visitor_language(&HeaderMap::new()), Language::En);
    }
}
