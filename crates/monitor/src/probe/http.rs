//! HTTP(S) checks with one shared reqwest client.

use std::time::Instant;

use drifta_core::monitor::CheckResult;
use reqwest::redirect::Policy;

use super::{HttpProbe, causes, fail, known_io_reason, ok, tls};

/// Redirects followed before giving up; more is almost always a loop.
const MAX_REDIRECTS: usize = 5;
/// How much of a body is searched for a keyword: enough for any home page,
/// and a bound on what a misbehaving server can make us read.
pub(super) const BODY_LIMIT: usize = 1 << 20;

/// The client every HTTP check shares.
pub(super) fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("Drifta-monitor/", env!("CARGO_PKG_VERSION")))
        // No idle connections: each check then measures a real connection
        // (what a visitor's browser does first), and 10,000 monitors do not
        // keep 10,000 idle sockets and their buffers.
        .pool_max_idle_per_host(0)
        .redirect(Policy::limited(MAX_REDIRECTS))
        // A monitor asks whether the service answers from here; a proxy
        // from the environment would answer for it and hide outages.
        .no_proxy()
        .build()
}

pub(super) async fn check(client: &reqwest::Client, probe: &HttpProbe) -> CheckResult {
    let start = Instant::now();
    let request = if probe.method_head && probe.keyword.is_none() {
        client.head(&probe.url)
    } else {
        client.get(&probe.url)
    };
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => return fail(error_reason(&e)),
    };
    let status = response.status().as_u16();
    let (fits, wanted) = match probe.expected_status {
        Some(code) => (status == code, code.to_string()),
        None => ((200..400).contains(&status), "2xx or 3xx".to_owned()),
    };
    if !fits {
        return fail(format!("HTTP {status} (expected {wanted})"));
    }
    // Without a keyword the body is never read: dropping the response
    // closes the connection.
    if let Some(keyword) = &probe.keyword
        && let Err(reason) = find_keyword(response, keyword).await
    {
        return fail(reason);
    }
    ok(start.elapsed(), format!("HTTP {status}"))
}

/// Reads the body until `keyword` turns up, at most [`BODY_LIMIT`] bytes.
///
/// Searches the raw bytes for the keyword's UTF-8 bytes, which finds exactly
/// what a search of the lossily decoded text would: a UTF-8 sequence never
/// starts with a continuation byte, so invalid bytes before a match cannot
/// swallow part of it. Only the keyword's length minus one byte is kept
/// between chunks, so a check holds one chunk, not the whole page.
async fn find_keyword(mut response: reqwest::Response, keyword: &str) -> Result<(), String> {
    let needle = keyword.as_bytes();
    if needle.is_empty() {
        return Ok(());
    }
    let mut window: Vec<u8> = Vec::new();
    let mut read = 0usize;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(format!("reading the body failed: {}", error_reason(&e))),
        };
        let take = chunk.len().min(BODY_LIMIT - read);
        read += take;
        window.extend_from_slice(&chunk[..take]);
        if contains(&window, needle) {
            return Ok(());
        }
        if read >= BODY_LIMIT {
            return Err(format!("keyword {keyword:?} not found in the first 1 MB"));
        }
        let keep = window.len().min(needle.len() - 1);
        window.drain(..window.len() - keep);
    }
    Err(format!(
        "keyword {keyword:?} not found in the response ({read} bytes)"
    ))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An operator's reading of a reqwest error: the TLS or socket problem
/// underneath if there is one, else the innermost message (reqwest's own
/// says little more than "error sending request for url").
fn error_reason(e: &reqwest::Error) -> String {
    if e.is_redirect() {
        return format!("more than {MAX_REDIRECTS} redirects");
    }
    if e.is_builder() {
        return format!("invalid URL: {}", innermost(e));
    }
    for err in causes(e) {
        if let Some(reason) = tls::reason_in(err) {
            return reason;
        }
        if let Some(reason) = err
            .downcast_ref::<std::io::Error>()
            .and_then(known_io_reason)
        {
            return reason.to_owned();
        }
    }
    let detail = innermost(e);
    // hyper-util's name for a failed lookup; nothing typed says it.
    if e.is_connect() && chain(e).any(|m| m == "dns error") {
        format!("could not resolve the host name: {detail}")
    } else if e.is_connect() {
        format!("could not connect: {detail}")
    } else if e.is_body() || e.is_decode() {
        format!("the response body broke off: {detail}")
    } else {
        format!("invalid HTTP response: {detail}")
    }
}

/// The messages of the errors beneath `e`.
fn chain(e: &reqwest::Error) -> impl Iterator<Item = String> {
    causes(e).skip(1).map(ToString::to_string)
}

fn innermost(e: &reqwest::Error) -> String {
    chain(e).last().unwrap_or_else(|| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_search() {
        assert!(contains(b"Velkommen til kommunen", b"kommunen"));
        assert!(!contains(b"Velkommen", b"velkommen"), "case-sensitive");
        assert!(!contains(b"ab", b"abc"));
        assert!(contains("blåbær".as_bytes(), "bær".as_bytes()));
    }
}
