//! Drifta's HTTP shell: server-rendered pages, the JSON API under `/api/v1`, sessions,
//! CSRF protection, security headers and the translation catalogue.
//!
//! Handlers stay thin: they turn requests into calls on [`drifta_store::Store`] with the
//! caller's [`drifta_core::Scope`], and results into pages or JSON.

mod api;
mod assets;
mod auth;
mod error;
mod forms;
mod headers;
pub mod i18n;
mod live;
mod markdown;
mod pages;
mod shell;

use axum::Router;
use drifta_core::password::PasswordHasher;
use drifta_store::Store;
use jiff::SignedDuration;
use std::net::SocketAddr;
use std::sync::Arc;

pub use error::PageError;
pub use i18n::Tr;
pub use pages::alerts::{alert_text, ticket_mail_text};

/// When to mark cookies `Secure`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieSecurity {
    /// When the request came over HTTPS, as seen directly or (with `trust_proxy`) as a
    /// reverse proxy reports in `X-Forwarded-Proto`.
    Auto,
    Always,
    Never,
}

#[derive(Clone, Debug)]
pub struct WebConfig {
    /// A session ends after this long without a request.
    pub session_idle: SignedDuration,
    pub cookie_security: CookieSecurity,
    /// Believe `X-Forwarded-For` / `X-Forwarded-Proto` (only behind a proxy you run).
    pub trust_proxy: bool,
    /// Failed sign-ins are counted over this window ...
    pub login_window: SignedDuration,
    /// ... and refused beyond this many per account ...
    pub max_failures_per_account: i64,
    /// ... or this many per client address.
    pub max_failures_per_ip: i64,
    /// How often live views (server-sent events) check for changes.
    pub live_poll: std::time::Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            session_idle: SignedDuration::from_hours(8),
            cookie_security: CookieSecurity::Auto,
            trust_proxy: false,
            login_window: SignedDuration::from_mins(15),
            max_failures_per_account: 5,
            max_failures_per_ip: 30,
            live_poll: std::time::Duration::from_secs(2),
        }
    }
}

pub struct AppInner {
    pub store: Store,
    pub hasher: PasswordHasher,
    pub config: WebConfig,
    /// Verified against when a sign-in names an unknown user, so that answer takes as long
    /// as a wrong password and does not reveal which names exist.
    dummy_hash: String,
    /// Flips to true when the server shuts down, so long-lived event streams end and the
    /// graceful shutdown does not wait for them.
    shutdown: tokio::sync::watch::Sender<bool>,
    /// Inventory imports running or finished on this node, by job id (see pages::import).
    pub(crate) imports: pages::import::Jobs,
}

#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, hasher: PasswordHasher, config: WebConfig) -> AppState {
        let dummy_hash = hasher.dummy_hash();
        AppState(Arc::new(AppInner {
            store: store.with_texts(Arc::new(i18n::CatalogueTexts)),
            hasher,
            config,
            dummy_hash,
            shutdown: tokio::sync::watch::channel(false).0,
            imports: Default::default(),
        }))
    }
}

/// Every route of the product.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .merge(assets::routes())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let signal = state.shutdown.clone();
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        signal.send_replace(true);
    })
    .await
}
