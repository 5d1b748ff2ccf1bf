//! Live views: server-sent events telling a queue or ticket page that something changed.
//!
//! Each stream polls a cheap fingerprint of what the page shows (see
//! `Store::tickets_version`) instead of relying on in-process notifications, so a change
//! made on any node behind the load balancer reaches every open page.

use crate::AppState;
use crate::auth::Ctx;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// Streams end after this long; the browser reconnects, which re-checks the session.
const MAX_STREAM: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
pub struct LiveQuery {
    ticket: Option<String>,
}

pub async fn tickets(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LiveQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let scope = ctx.view_scope();
    changes(state, move |state| {
        let scope = scope.clone();
        let ticket = q.ticket.clone();
        async move {
            state
                .store
                .tickets_version(&scope, ticket.as_deref())
                .await
                .ok()
        }
    })
}

/// The operations wall's stream: any monitor in view changing state.
pub async fn monitors(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let scope = ctx.view_scope();
    changes(state, move |state| {
        let scope = scope.clone();
        async move {
            state
                .store
                .monitors_version(&scope)
                .await
                .map_err(|e| tracing::warn!(error = %e, "monitor fingerprint"))
                .ok()
        }
    })
}

/// Sends a `changed` event whenever `version` gives a new value (polled every
/// `live_poll`); ends on shutdown and after `MAX_STREAM`.
fn changes<F, Fut>(
    state: AppState,
    version: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<i64>> + Send,
{
    let poll = state.config.live_poll;
    let deadline = tokio::time::Instant::now() + MAX_STREAM;
    let shutdown = state.shutdown.subscribe();
    let start = (state, version, None::<i64>, shutdown);
    let stream = futures_util::stream::unfold(
        start,
        move |(state, version, mut last, mut shutdown)| async move {
            loop {
                if *shutdown.borrow() || tokio::time::Instant::now() >= deadline {
                    return None;
                }
                if last.is_some() {
                    tokio::select! {
                        _ = tokio::time::sleep(poll) => {}
                        _ = shutdown.changed() => return None,
                    }
                }
                let Some(now) = version(state.clone()).await else {
                    // A failed read (database busy or gone) is retried after a pause, never
                    // in a tight loop.
                    tokio::select! {
                        _ = tokio::time::sleep(poll) => {}
                        _ = shutdown.changed() => return None,
                    }
                    continue;
                };
                match last {
                    None => last = Some(now),
                    Some(previous) if previous != now => {
                        let event = Event::default().event("changed").data(now.to_string());
                        return Some((Ok(event), (state, version, Some(now), shutdown)));
                    }
                    Some(_) => {}
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
