//! Probes against real servers on the loopback interface, started by each
//! test: no outside network is needed.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use drifta_core::monitor::{CheckOutcome, CheckResult};
use drifta_monitor::probe::{DnsProbe, DnsRecord, HttpProbe, Probe, Prober, TlsProbe};
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const TIMEOUT: Duration = Duration::from_secs(5);
/// For checks that are meant to time out.
const SHORT: Duration = Duration::from_secs(1);

async fn check(probe: &Probe, timeout: Duration) -> CheckOutcome {
    let prober = Prober::new().expect("prober");
    let before = Timestamp::now();
    let started = Instant::now();
    let outcome = prober.check(probe, timeout).await;
    assert!(
        started.elapsed() < timeout + Duration::from_secs(1),
        "{probe:?} took {:?} with a timeout of {timeout:?}",
        started.elapsed()
    );
    assert!(outcome.at >= before && outcome.at <= Timestamp::now());
    outcome
}

fn ok_detail(outcome: &CheckOutcome) -> &str {
    match &outcome.result {
        CheckResult::Ok { detail, .. } => detail.as_deref().unwrap_or_default(),
        other => panic!("expected Ok, got {other:?}"),
    }
}

fn fail_reason(outcome: &CheckOutcome) -> &str {
    match &outcome.result {
        CheckResult::Fail { reason } => reason,
        other => panic!("expected Fail, got {other:?}"),
    }
}

// ---- Servers -----------------------------------------------------------------

/// A small HTTP/1.1 server with canned answers by path. Counts the bytes it
/// manages to send of `/endless`, so a test can see the client stop reading.
struct HttpServer {
    address: SocketAddr,
    endless_sent: Arc<AtomicUsize>,
}

const PAGE: &str = "<html><body><h1>Velkommen til kommunen</h1></body></html>";

async fn http_server() -> HttpServer {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    let endless_sent = Arc::new(AtomicUsize::new(0));
    let counter = endless_sent.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer_http(stream, counter.clone()));
        }
    });
    HttpServer {
        address,
        endless_sent,
    }
}

async fn answer_http(mut stream: TcpStream, endless_sent: Arc<AtomicUsize>) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request).into_owned();
    let mut words = request.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let user_agent = request
        .lines()
        .find_map(|line| line.strip_prefix("user-agent: "))
        .unwrap_or("none")
        .to_owned();
    let reply = |status: &str, headers: &str, body: &str| {
        let body = if method == "HEAD" { "" } else { body };
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
            if method == "HEAD" { 0 } else { body.len() }
        )
    };
    let text = match path {
        "/ok" => reply("200 OK", "", PAGE),
        "/agent" => reply("200 OK", "", &user_agent),
        "/down" => reply("503 Service Unavailable", "", "maintenance"),
        "/redirect" => reply("302 Found", "Location: /ok\r\n", ""),
        "/loop" => reply("302 Found", "Location: /loop\r\n", ""),
        "/garbage" => "SSH-2.0-OpenSSH_9.6\r\n\r\n".to_owned(),
        "/hang" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        "/endless" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                .await;
            let chunk = vec![b'a'; 64 * 1024];
            // Far more than any check may read; stops when the client hangs up.
            for _ in 0..1024 {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
                endless_sent.fetch_add(chunk.len(), Ordering::Relaxed);
            }
            return;
        }
        "/trickle" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nno keyword yet")
                .await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        _ => reply("404 Not Found", "", "no such page"),
    };
    let _ = stream.write_all(text.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A server that greets every connection with an SSH banner, as SSH and
/// SMTP servers do before the client says anything: neither HTTP nor TLS.
/// Connections stay open, so the client sees the banner rather than a reset.
async fn banner_server() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n").await;
            held.push(stream);
        }
    });
    address
}

/// A server that accepts connections and never says a word.
async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    address
}

/// A port nothing listens on (bound, then released).
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    listener.local_addr().unwrap()
}

fn http(url: String) -> HttpProbe {
    HttpProbe {
        url,
        expected_status: None,
        keyword: None,
        method_head: false,
    }
}

// ---- HTTP --------------------------------------------------------------------

#[tokio::test]
async fn http_200_is_ok() {
    let server = http_server().await;
    let outcome = check(
        &Probe::Http(http(format!("http://{}/ok", server.address))),
        TIMEOUT,
    )
    .await;
    assert_eq!(ok_detail(&outcome), "HTTP 200");
    let head = HttpProbe {
        method_head: true,
        ..http(format!("http://{}/ok", server.address))
    };
    assert_eq!(
        ok_detail(&check(&Probe::Http(head), TIMEOUT).await),
        "HTTP 200"
    );
}

#[tokio::test]
async fn http_503_fails_unless_expected() {
    let server = http_server().await;
    let url = format!("http://{}/down", server.address);
    let outcome = check(&Probe::Http(http(url.clone())), TIMEOUT).await;
    assert_eq!(fail_reason(&outcome), "HTTP 503 (expected 2xx or 3xx)");
    let expected = HttpProbe {
        expected_status: Some(503),
        ..http(url)
    };
    assert_eq!(
        ok_detail(&check(&Probe::Http(expected), TIMEOUT).await),
        "HTTP 503"
    );
    let wrong = HttpProbe {
        expected_status: Some(204),
        ..http(format!("http://{}/ok", server.address))
    };
    assert_eq!(
        fail_reason(&check(&Probe::Http(wrong), TIMEOUT).await),
        "HTTP 200 (expected 204)"
    );
}

#[tokio::test]
async fn http_keyword_present_and_absent() {
    let server = http_server().await;
    let with = |keyword: &str| {
        Probe::Http(HttpProbe {
            keyword: Some(keyword.into()),
            ..http(format!("http://{}/ok", server.address))
        })
    };
    assert_eq!(
        ok_detail(&check(&with("Velkommen"), TIMEOUT).await),
        "HTTP 200"
    );
    assert_eq!(
        fail_reason(&check(&with("velkommen"), TIMEOUT).await),
        format!(
            "keyword \"velkommen\" not found in the response ({} bytes)",
            PAGE.len()
        ),
        "the match is case-sensitive"
    );
}

#[tokio::test]
async fn http_sends_its_user_agent() {
    let server = http_server().await;
    let probe = Probe::Http(HttpProbe {
        keyword: Some(format!("Drifta-monitor/{}", env!("CARGO_PKG_VERSION"))),
        ..http(format!("http://{}/agent", server.address))
    });
    assert_eq!(ok_detail(&check(&probe, TIMEOUT).await), "HTTP 200");
}

#[tokio::test]
async fn http_follows_redirects_but_not_loops() {
    let server = http_server().await;
    let redirected = Probe::Http(HttpProbe {
        keyword: Some("Velkommen".into()),
        ..http(format!("http://{}/redirect", server.address))
    });
    assert_eq!(ok_detail(&check(&redirected, TIMEOUT).await), "HTTP 200");
    let looping = Probe::Http(http(format!("http://{}/loop", server.address)));
    assert_eq!(
        fail_reason(&check(&looping, TIMEOUT).await),
        "more than 5 redirects"
    );
}

#[tokio::test]
async fn http_server_that_never_answers_times_out() {
    let server = http_server().await;
    let probe = Probe::Http(http(format!("http://{}/hang", server.address)));
    assert_eq!(
        fail_reason(&check(&probe, SHORT).await),
        "timed out after 1 s"
    );
    let trickle = Probe::Http(HttpProbe {
        keyword: Some("Velkommen".into()),
        ..http(format!("http://{}/trickle", server.address))
    });
    assert_eq!(
        fail_reason(&check(&trickle, SHORT).await),
        "timed out after 1 s",
        "a body that never ends is cut off too"
    );
}

#[tokio::test]
async fn http_garbage_response_fails() {
    let server = http_server().await;
    let outcome = check(
        &Probe::Http(http(format!("http://{}/garbage", server.address))),
        TIMEOUT,
    )
    .await;
    assert_eq!(
        fail_reason(&outcome),
        "invalid HTTP response: invalid HTTP version parsed"
    );
    // A server that talks first (SSH, SMTP) before the request is sent.
    let banner = banner_server().await;
    let outcome = check(&Probe::Http(http(format!("http://{banner}/"))), TIMEOUT).await;
    let reason = fail_reason(&outcome);
    assert!(reason.starts_with("invalid HTTP response: "), "{reason}");
}

#[tokio::test]
async fn http_huge_body_is_read_only_up_to_one_megabyte() {
    let server = http_server().await;
    let probe = Probe::Http(HttpProbe {
        keyword: Some("Velkommen".into()),
        ..http(format!("http://{}/endless", server.address))
    });
    let outcome = check(&probe, TIMEOUT).await;
    assert_eq!(
        fail_reason(&outcome),
        "keyword \"Velkommen\" not found in the first 1 MB"
    );
    // Wait for the server to notice the hang-up, then look at what it sent:
    // 1 MiB plus what socket buffers held, far from the 64 MiB on offer.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = server.endless_sent.load(Ordering::Relaxed);
    assert!(sent < 32 << 20, "the server sent {sent} bytes");
}

#[tokio::test]
async fn http_refused_and_bad_urls_fail_with_reasons() {
    let closed = closed_port().await;
    let outcome = check(&Probe::Http(http(format!("http://{closed}/"))), TIMEOUT).await;
    assert_eq!(fail_reason(&outcome), "connection refused");
    let outcome = check(&Probe::Http(http("not a url".into())), TIMEOUT).await;
    assert!(
        fail_reason(&outcome).starts_with("invalid URL: "),
        "{outcome:?}"
    );
}

// ---- TCP ---------------------------------------------------------------------

#[tokio::test]
async fn tcp_open_port_is_ok_and_closed_port_fails() {
    let server = http_server().await;
    let open = Probe::Tcp {
        host: "127.0.0.1".into(),
        port: server.address.port(),
    };
    let outcome = check(&open, TIMEOUT).await;
    assert_eq!(
        ok_detail(&outcome),
        format!("connected to {}", server.address)
    );
    let closed = closed_port().await;
    let outcome = check(
        &Probe::Tcp {
            host: "127.0.0.1".into(),
            port: closed.port(),
        },
        TIMEOUT,
    )
    .await;
    assert_eq!(
        fail_reason(&outcome),
        format!("connection refused ({closed})")
    );
    let nonsense = Probe::Tcp {
        host: "".into(),
        port: 0,
    };
    let reason = fail_reason(&check(&nonsense, TIMEOUT).await).to_owned();
    assert!(reason.starts_with("could not resolve \"\""), "{reason}");
}

// ---- DNS ---------------------------------------------------------------------

#[derive(Clone, Copy)]
enum DnsMode {
    /// Answers as a DNS server should.
    Normal,
    /// Sends junk and an answer with the wrong id before the real one.
    Noisy,
    /// Reads queries and never answers.
    Silent,
}

/// A DNS server for one zone: `intranet.test.` has A 192.0.2.7, other
/// types of it have no records, other names do not exist.
async fn dns_server(mode: DnsMode) -> SocketAddr {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buffer = [0u8; 2048];
        while let Ok((n, peer)) = socket.recv_from(&mut buffer).await {
            let Ok(query) = Message::from_vec(&buffer[..n]) else {
                continue;
            };
            if matches!(mode, DnsMode::Silent) {
                continue;
            }
            let mut response = Message::response(query.metadata.id, OpCode::Query);
            response.metadata.recursion_desired = query.metadata.recursion_desired;
            let Some(question) = query.queries.first() else {
                continue;
            };
            response.add_query(question.clone());
            let zone = Name::from_ascii("intranet.test.").unwrap();
            if *question.name() != zone {
                response.metadata.response_code = ResponseCode::NXDomain;
            } else if question.query_type() == RecordType::A {
                response.add_answer(Record::from_rdata(zone, 60, RData::A(A::new(192, 0, 2, 7))));
            }
            if matches!(mode, DnsMode::Noisy) {
                let _ = socket.send_to(b"\x00junk", peer).await;
                let mut stray = response.clone();
                stray.metadata.id = stray.metadata.id.wrapping_add(1);
                stray.answers.clear();
                let _ = socket.send_to(&stray.to_vec().unwrap(), peer).await;
            }
            assert_eq!(response.metadata.message_type, MessageType::Response);
            let _ = socket.send_to(&response.to_vec().unwrap(), peer).await;
        }
    });
    address
}

fn dns(server: SocketAddr, name: &str, record: DnsRecord, expected: Option<&str>) -> Probe {
    Probe::Dns(DnsProbe {
        name: name.into(),
        record,
        expected: expected.map(Into::into),
        server: Some(server),
    })
}

#[tokio::test]
async fn dns_answer_is_ok() {
    let server = dns_server(DnsMode::Normal).await;
    let outcome = check(&dns(server, "intranet.test", DnsRecord::A, None), TIMEOUT).await;
    assert_eq!(ok_detail(&outcome), "A 192.0.2.7");
    let expected = dns(server, "Intranet.Test.", DnsRecord::A, Some("192.0.2.7"));
    assert_eq!(ok_detail(&check(&expected, TIMEOUT).await), "A 192.0.2.7");
}

#[tokio::test]
async fn dns_expected_mismatch_fails() {
    let server = dns_server(DnsMode::Normal).await;
    let probe = dns(server, "intranet.test", DnsRecord::A, Some("192.0.2.8"));
    assert_eq!(
        fail_reason(&check(&probe, TIMEOUT).await),
        "expected 192.0.2.8, got 192.0.2.7"
    );
    let no_records = dns(server, "intranet.test", DnsRecord::Mx, None);
    assert_eq!(
        fail_reason(&check(&no_records, TIMEOUT).await),
        "no MX records for intranet.test"
    );
}

#[tokio::test]
async fn dns_nxdomain_fails() {
    let server = dns_server(DnsMode::Normal).await;
    let probe = dns(server, "extranet.test", DnsRecord::A, None);
    assert_eq!(
        fail_reason(&check(&probe, TIMEOUT).await),
        "extranet.test does not exist (NXDOMAIN)"
    );
}

#[tokio::test]
async fn dns_ignores_junk_and_stray_answers() {
    let server = dns_server(DnsMode::Noisy).await;
    let outcome = check(&dns(server, "intranet.test", DnsRecord::A, None), TIMEOUT).await;
    assert_eq!(ok_detail(&outcome), "A 192.0.2.7");
}

#[tokio::test]
async fn dns_server_that_never_answers_times_out() {
    let server = dns_server(DnsMode::Silent).await;
    let probe = dns(server, "intranet.test", DnsRecord::A, None);
    assert_eq!(
        fail_reason(&check(&probe, SHORT).await),
        "timed out after 1 s"
    );
}

// ---- TLS expiry ----------------------------------------------------------------

fn today() -> Date {
    Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// A self-signed certificate for localhost and 127.0.0.1, valid until
/// midnight UTC at the start of `not_after`.
fn certificate(not_after: Date) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    let month = u8::try_from(not_after.month()).unwrap();
    let day = u8::try_from(not_after.day()).unwrap();
    params.not_after = rcgen::date_time_ymd(i32::from(not_after.year()), month, day);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (
        cert.der().clone(),
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

/// A TLS server with the given certificate that answers any request with
/// an HTTP 200.
async fn tls_server(not_after: Date) -> SocketAddr {
    let (cert, key) = certificate(not_after);
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut buffer = [0u8; 1024];
                if let Ok(n) = tls.read(&mut buffer).await
                    && n > 0
                {
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .await;
                }
                let _ = tls.shutdown().await;
            });
        }
    });
    address
}

fn tls(address: SocketAddr, warn_days: u16, accept_invalid: bool) -> Probe {
    Probe::TlsExpiry(TlsProbe {
        host: "127.0.0.1".into(),
        port: address.port(),
        warn_days,
        accept_invalid,
    })
}

#[tokio::test]
async fn tls_certificate_expiring_soon_is_degraded() {
    // Midnight six days ahead: between five and six whole days left.
    let not_after = today().checked_add(6.days()).unwrap();
    let server = tls_server(not_after).await;
    let outcome = check(&tls(server, 14, true), TIMEOUT).await;
    assert_eq!(
        outcome.result,
        CheckResult::Degraded {
            reason: format!("certificate expires in 5 days ({not_after})")
        }
    );
    let relaxed = check(&tls(server, 5, true), TIMEOUT).await;
    assert_eq!(
        ok_detail(&relaxed),
        format!("certificate valid until {not_after}")
    );
}

#[tokio::test]
async fn tls_certificate_valid_for_60_days_is_ok() {
    let not_after = today().checked_add(60.days()).unwrap();
    let server = tls_server(not_after).await;
    let outcome = check(&tls(server, 14, true), TIMEOUT).await;
    assert_eq!(
        ok_detail(&outcome),
        format!("certificate valid until {not_after}")
    );
}

#[tokio::test]
async fn tls_expired_certificate_fails_with_its_date() {
    let not_after = today().checked_sub(3.days()).unwrap();
    let server = tls_server(not_after).await;
    for accept_invalid in [true, false] {
        let outcome = check(&tls(server, 14, accept_invalid), TIMEOUT).await;
        assert_eq!(
            fail_reason(&outcome),
            format!("certificate expired on {not_after}"),
            "accept_invalid {accept_invalid}"
        );
    }
}

#[tokio::test]
async fn tls_untrusted_certificate_fails_unless_accepted() {
    let server = tls_server(today().checked_add(60.days()).unwrap()).await;
    let outcome = check(&tls(server, 14, false), TIMEOUT).await;
    assert_eq!(
        fail_reason(&outcome),
        "TLS: invalid peer certificate: issued by an unknown authority (self-signed or an internal CA)"
    );
    let https = Probe::Http(http(format!("https://127.0.0.1:{}/", server.port())));
    assert_eq!(
        fail_reason(&check(&https, TIMEOUT).await),
        "TLS: invalid peer certificate: issued by an unknown authority (self-signed or an internal CA)",
        "HTTPS checks say the same"
    );
}

#[tokio::test]
async fn tls_against_something_else_fails_or_times_out() {
    let banner = banner_server().await;
    let reason = fail_reason(&check(&tls(banner, 14, true), TIMEOUT).await).to_owned();
    assert!(reason.starts_with("TLS"), "{reason}");
    let silent = silent_server().await;
    assert_eq!(
        fail_reason(&check(&tls(silent, 14, true), SHORT).await),
        "timed out after 1 s"
    );
    let closed = closed_port().await;
    assert_eq!(
        fail_reason(&check(&tls(closed, 14, true), TIMEOUT).await),
        format!("connection refused ({closed})")
    );
}

// ---- ICMP --------------------------------------------------------------------

/// Whether the kernel lets this process open ping sockets: its effective
/// group or a supplementary group lies within `net.ipv4.ping_group_range`.
fn ping_sockets_allowed() -> bool {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap();
    let bounds: Vec<u64> = range
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let numbers = |key: &str| -> Vec<u64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .unwrap_or_default()
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect()
    };
    let effective = numbers("Gid:")[1];
    std::iter::once(effective)
        .chain(numbers("Groups:"))
        .any(|group| bounds[0] <= group && group <= bounds[1])
}

#[tokio::test]
async fn icmp_to_loopback_pings_or_says_why_not() {
    let outcome = check(
        &Probe::Icmp {
            host: "127.0.0.1".into(),
        },
        TIMEOUT,
    )
    .await;
    if ping_sockets_allowed() {
        assert_eq!(ok_detail(&outcome), "echo reply from 127.0.0.1");
    } else {
        assert_eq!(
            fail_reason(&outcome),
            "ICMP not permitted for this process: allow it with sysctl \
             net.ipv4.ping_group_range (or use a TCP check)"
        );
    }
}
