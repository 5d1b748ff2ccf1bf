//! Form bodies that must carry the session's CSRF token.
//!
//! Handlers of state-changing pages take [`CsrfForm`] instead of axum's `Form`: there is no
//! way to read a posted form without the token being checked first.

use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use drifta_core::secret;
use serde::de::DeserializeOwned;

/// Posted forms are small; anything bigger is refused before parsing. The largest is a
/// knowledge-base article (100,000 characters, percent-encoded in up to 9 bytes each).
const MAX_FORM_BYTES: usize = 1024 * 1024;

pub struct CsrfForm<T>(pub Ctx, pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| PageError::Csrf(ctx.tr))?;
        check_token(&bytes, &ctx.session.csrf_token).map_err(|_| PageError::Csrf(ctx.tr))?;
        let form =
            serde_urlencoded::from_bytes::<T>(&bytes).map_err(|_| PageError::BadRequest(ctx.tr))?;
        Ok(CsrfForm(ctx, form))
    }
}

/// The `csrf` field of an url-encoded body must equal `expected`.
pub fn check_token(body: &Bytes, expected: &str) -> Result<(), ()> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| ())?;
    let given = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .ok_or(())?;
    if !expected.is_empty() && secret::equal(given, expected) {
        Ok(())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_must_be_present_and_equal() {
        assert!(check_token(&Bytes::from("a=1&csrf=abc"), "abc").is_ok());
        assert!(check_token(&Bytes::from("a=1&csrf=abd"), "abc").is_err());
        assert!(check_token(&Bytes::from("a=1"), "abc").is_err());
        assert!(check_token(&Bytes::from("csrf="), "").is_err());
        assert!(check_token(&Bytes::from("%%%"), "abc").is_err());
    }
}
