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
    let poll = state.config.live_poll;
    let deadline = tokio::time::Instant::now() + MAX_STREAM;
    let shutdown = state.shutdown.subscribe();
    let start = (state, scope, q.ticket, None::<i64>, shutdown);
    let stream = futures_util::stream::unfold(
        start,
        move |(state, scope, ticket, mut last, mut shutdown)| async move {
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
                let Ok(version) = state.store.tickets_version(&scope, ticket.as_deref()).await
                else {
                    continue;
                };
                match last {
                    None => last = Some(version),
                    Some(previous) if previous != version => {
                        let event = Event::default().event("changed").data(version.to_string());
                        return Some((Ok(event), (state, scope, ticket, Some(version), shutdown)));
                    }
                    Some(_) => {}
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
