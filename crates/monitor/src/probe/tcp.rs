//! TCP checks, and the connection TLS checks start from.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use drifta_core::monitor::CheckResult;
use tokio::net::TcpStream;

use super::{fail, io_reason, ok};

pub(super) async fn check(host: &str, port: u16) -> CheckResult {
    match connect(host, port).await {
        Ok((stream, latency)) => {
            let detail = match stream.peer_addr() {
                Ok(peer) => format!("connected to {peer}"),
                Err(_) => "connected".to_owned(),
            };
            ok(latency, detail)
        }
        Err(reason) => fail(reason),
    }
}

/// Resolves `host` and connects to its addresses in turn until one answers.
///
/// The time returned covers the connection attempts, not the name lookup,
/// so a slow resolver does not read as a slow service.
pub(super) async fn connect(host: &str, port: u16) -> Result<(TcpStream, Duration), String> {
    let addresses = resolve(host, port).await?;
    let start = Instant::now();
    let mut last = String::new();
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok((stream, start.elapsed())),
            Err(e) => last = format!("{} ({address})", io_reason(&e)),
        }
    }
    Err(last)
}

/// The addresses of `host`, through the system resolver (tokio runs it on
/// its blocking pool, so a hanging lookup is cut off by the check timeout).
pub(super) async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    match tokio::net::lookup_host((host, port)).await {
        Ok(addresses) => {
            let addresses: Vec<SocketAddr> = addresses.collect();
            if addresses.is_empty() {
                Err(format!("{host:?} has no addresses"))
            } else {
                Ok(addresses)
            }
        }
        Err(e) => Err(format!("could not resolve {host:?}: {e}")),
    }
}
