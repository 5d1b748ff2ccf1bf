//! What a page shows when something goes wrong: a translated message, never a trace.

use crate::i18n::Tr;
use crate::shell::ErrorPage;
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use drifta_store::StoreError;

#[derive(Debug)]
pub enum PageError {
    /// Not signed in (or the session ended): go to the sign-in page, then come back.
    SignIn {
        next: String,
    },
    NotFound(Tr),
    Forbidden(Tr),
    /// The form's CSRF token did not match the session's.
    Csrf(Tr),
    /// A request the server could not read (malformed form or query).
    BadRequest(Tr),
    Internal(Tr, String),
}

impl PageError {
    /// Maps store errors that are not about a form field. "Not found" and "not permitted"
    /// both answer 404 for tenant data, so probing ids reveals nothing.
    pub fn from_store(tr: Tr, err: StoreError) -> PageError {
        match err {
            StoreError::NotFound => PageError::NotFound(tr),
            StoreError::Denied(_) => PageError::Forbidden(tr),
            other => PageError::Internal(tr, other.to_string()),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (tr, status, title, message) = match self {
            PageError::SignIn { next } => {
                let target = if next.is_empty() || next == "/" {
                    "/login".to_string()
                } else {
                    format!("/login?next={}", url_encode(&next))
                };
                return Redirect::to(&target).into_response();
            }
            PageError::NotFound(tr) => (
                tr,
                StatusCode::NOT_FOUND,
                "error-not-found-title",
                "error-not-found",
            ),
            PageError::Forbidden(tr) => (
                tr,
                StatusCode::FORBIDDEN,
                "error-forbidden-title",
                "error-forbidden",
            ),
            PageError::Csrf(tr) => (tr, StatusCode::FORBIDDEN, "error-csrf-title", "error-csrf"),
            PageError::BadRequest(tr) => (
                tr,
                StatusCode::BAD_REQUEST,
                "error-bad-request-title",
                "error-bad-request",
            ),
            PageError::Internal(tr, detail) => {
                tracing::error!(%detail, "request failed");
                (
                    tr,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error-internal-title",
                    "error-internal",
                )
            }
        };
        let page = ErrorPage {
            tr,
            shell: None,
            title: tr.t(title),
            message: tr.t(message),
        };
        match page.render() {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(_) => (status, tr.t(message)).into_response(),
        }
    }
}

pub(crate) fn url_encode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}
