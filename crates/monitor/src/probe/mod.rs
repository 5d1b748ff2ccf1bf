//! Probes: one check of one target.
//!
//! A [`Probe`] says what to check and is stored with the monitor (as JSON,
//! tagged by `kind`); a [`Prober`] holds what checks share (one HTTP client,
//! two TLS configurations) and runs [`Prober::check`], which always returns a
//! [`CheckOutcome`] within the timeout and never panics, whatever the target
//! does. Reasons are short English sentences for operators, because they end
//! up in tickets and logs.
//!
//! Probes report what they saw, including latency; whether a slow answer
//! makes a monitor degraded is the engine's decision (`CheckSettings` in
//! `drifta_core::monitor`).

mod dns;
mod http;
mod icmp;
mod tcp;
mod tls;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use drifta_core::monitor::{
    self, CheckOutcome, CheckResult, MonitorKind, TargetError, TargetProblem,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The reason an ICMP check gives when the system refuses ping sockets, so
/// the engine can tell "cannot ping from here" from "host down".
pub use icmp::NOT_PERMITTED as ICMP_NOT_PERMITTED;

/// What to check. Stored as JSON tagged by `kind`, with the same names as
/// [`MonitorKind`], e.g. `{"kind":"tcp","host":"db1","port":5432}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Probe {
    /// An HTTP(S) request.
    Http(HttpProbe),
    /// A TCP connection.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port, 1-65535.
        port: u16,
    },
    /// An ICMP echo (ping).
    Icmp {
        /// Host name or address.
        host: String,
    },
    /// A DNS lookup.
    Dns(DnsProbe),
    /// The remaining validity of a TLS certificate.
    TlsExpiry(TlsProbe),
}

/// An HTTP(S) check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpProbe {
    /// `http://` or `https://` URL.
    pub url: String,
    /// The status the answer must have; `None` accepts any 2xx or 3xx
    /// (after following up to five redirects).
    #[serde(default)]
    pub expected_status: Option<u16>,
    /// Text the body must contain (case-sensitive, within the first 1 MiB).
    #[serde(default)]
    pub keyword: Option<String>,
    /// Ask with HEAD instead of GET, for servers where GET is expensive.
    /// Cannot be combined with a keyword, which needs the body.
    #[serde(default)]
    pub method_head: bool,
}

/// DNS record types a DNS check can ask for.
///
/// Written in upper case as in zone files and `dig` output, which is what
/// operators type; [`DnsRecord::parse`] also takes lower case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DnsRecord {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Alias.
    Cname,
    /// Mail exchange.
    Mx,
    /// Text.
    Txt,
    /// Name server.
    Ns,
}

impl DnsRecord {
    /// Every value, for pickers and exhaustive tests.
    pub const ALL: &'static [DnsRecord] = &[
        DnsRecord::A,
        DnsRecord::Aaaa,
        DnsRecord::Cname,
        DnsRecord::Mx,
        DnsRecord::Txt,
        DnsRecord::Ns,
    ];

    /// The same name serde uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            DnsRecord::A => "A",
            DnsRecord::Aaaa => "AAAA",
            DnsRecord::Cname => "CNAME",
            DnsRecord::Mx => "MX",
            DnsRecord::Txt => "TXT",
            DnsRecord::Ns => "NS",
        }
    }

    /// The inverse of `as_str`, ignoring case; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for DnsRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DnsRecord {
    type Err = ProbeError;

    /// Like [`DnsRecord::parse`], with an error naming the `record` field.
    fn from_str(text: &str) -> Result<Self, ProbeError> {
        let text = text.trim();
        Self::parse(text).ok_or_else(|| {
            ProbeProblem::UnknownRecord {
                text: text.chars().take(16).collect(),
            }
            .at("record")
        })
    }
}

/// A DNS check: `name` must resolve to records of type `record`.
///
/// One query over UDP with EDNS (1232 bytes); there is no TCP fallback, so
/// an answer truncated with no records of the type fails and says so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsProbe {
    /// The name to look up.
    pub name: String,
    /// The record type to ask for.
    pub record: DnsRecord,
    /// A value the answers must contain (an address, a host name, for MX
    /// the mail exchanger's host, for TXT the whole text), compared without
    /// regard to case or a trailing dot.
    #[serde(default)]
    pub expected: Option<String>,
    /// The server to ask; `None` asks the first name server in
    /// `/etc/resolv.conf`, read at each check so changes apply at once.
    #[serde(default)]
    pub server: Option<SocketAddr>,
}

/// A TLS certificate expiry check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsProbe {
    /// Host name or address; also the name the certificate must be valid for.
    pub host: String,
    /// Port, 443 unless given.
    #[serde(default = "TlsProbe::default_port")]
    pub port: u16,
    /// Fewer days of validity left than this makes the check degraded.
    #[serde(default = "TlsProbe::default_warn_days")]
    pub warn_days: u16,
    /// Accept any certificate chain and host name, only reading the expiry:
    /// for services with certificates from an internal CA.
    #[serde(default)]
    pub accept_invalid: bool,
}

impl TlsProbe {
    /// Longest warning period accepted: no certificate a public CA issues
    /// today lives longer than about 400 days.
    pub const MAX_WARN_DAYS: u16 = 365;

    fn default_port() -> u16 {
        443
    }

    /// Two weeks: enough time to renew by hand before it expires.
    fn default_warn_days() -> u16 {
        14
    }
}

// ---- Validation -------------------------------------------------------------

/// Longest keyword accepted.
pub const MAX_KEYWORD_LEN: usize = 256;
/// Longest expected DNS value accepted (TXT records are the long ones).
pub const MAX_EXPECTED_LEN: usize = 1024;

/// A probe setting that cannot be used, naming the field (as in the JSON
/// form) so forms can show the message beside it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ProbeError {
    /// `url`, `expected_status`, `keyword`, `host`, `port`, `name`,
    /// `record`, `expected`, `server` or `warn_days`.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: ProbeProblem,
}

/// What is wrong with a probe setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbeProblem {
    /// A URL, host or port rule from `drifta_core::monitor`.
    #[error("{0}")]
    Target(TargetProblem),
    /// Nothing was given where something is needed.
    #[error("is required")]
    Empty,
    /// Longer than allowed.
    #[error("is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Control characters (line breaks, tabs) that no page contains.
    #[error("must not contain control characters")]
    Control,
    /// Not an HTTP status code.
    #[error("{status} is not an HTTP status code (100-599)")]
    Status {
        /// As given.
        status: u16,
    },
    /// A keyword on a HEAD check, which has no body to search.
    #[error("cannot be checked with a HEAD request, which has no body")]
    KeywordWithHead,
    /// An IP address where a DNS name belongs.
    #[error("is an IP address; a DNS check looks up a name")]
    NameIsAddress,
    /// An unknown DNS record type.
    #[error("{text:?} is not a supported record type (A, AAAA, CNAME, MX, TXT, NS)")]
    UnknownRecord {
        /// As given (shortened).
        text: String,
    },
    /// An expected value that no answer of this record type can have.
    #[error("{text:?} is not an {kind} address, which is what {record} records hold")]
    NotAnAddress {
        /// As given (shortened).
        text: String,
        /// `IPv4` or `IPv6`.
        kind: &'static str,
        /// The record type asked for.
        record: DnsRecord,
    },
    /// A DNS server without an address or port.
    #[error("{server} is not a usable DNS server address")]
    Server {
        /// As given.
        server: SocketAddr,
    },
    /// A warning period of zero days or too many.
    #[error("{days} days is outside 1-{max}")]
    WarnDays {
        /// As given.
        days: u16,
        /// [`TlsProbe::MAX_WARN_DAYS`].
        max: u16,
    },
}

impl ProbeProblem {
    fn at(self, field: &'static str) -> ProbeError {
        ProbeError {
            field,
            problem: self,
        }
    }
}

impl From<TargetError> for ProbeError {
    fn from(e: TargetError) -> Self {
        ProbeProblem::Target(e.problem).at(e.field)
    }
}

impl Probe {
    /// Which monitor kind this probe serves.
    pub const fn kind(&self) -> MonitorKind {
        match self {
            Probe::Http(_) => MonitorKind::Http,
            Probe::Tcp { .. } => MonitorKind::Tcp,
            Probe::Icmp { .. } => MonitorKind::Icmp,
            Probe::Dns(_) => MonitorKind::Dns,
            Probe::TlsExpiry(_) => MonitorKind::TlsExpiry,
        }
    }

    /// The first problem with the settings, naming its field.
    ///
    /// [`Prober::check`] copes with any settings (a bad one simply fails),
    /// so this is for the store and web layers, to refuse what can never work.
    pub fn validate(&self) -> Result<(), ProbeError> {
        match self {
            Probe::Http(http) => http.validate(),
            Probe::Tcp { host, port } => {
                monitor::host(host)?;
                monitor::port_number(i64::from(*port))?;
                Ok(())
            }
            Probe::Icmp { host } => monitor::host(host).map(drop).map_err(Into::into),
            Probe::Dns(dns) => dns.validate(),
            Probe::TlsExpiry(tls) => tls.validate(),
        }
    }
}

impl HttpProbe {
    fn validate(&self) -> Result<(), ProbeError> {
        monitor::http_url(&self.url)?;
        if let Some(status) = self.expected_status
            && !(100..=599).contains(&status)
        {
            return Err(ProbeProblem::Status { status }.at("expected_status"));
        }
        if let Some(keyword) = &self.keyword {
            text_value(keyword, MAX_KEYWORD_LEN).map_err(|p| p.at("keyword"))?;
            if self.method_head {
                return Err(ProbeProblem::KeywordWithHead.at("keyword"));
            }
        }
        Ok(())
    }
}

impl DnsProbe {
    fn validate(&self) -> Result<(), ProbeError> {
        dns_name(&self.name).map_err(|p| p.at("name"))?;
        if let Some(expected) = &self.expected {
            text_value(expected, MAX_EXPECTED_LEN).map_err(|p| p.at("expected"))?;
            expected_value(self.record, expected.trim()).map_err(|p| p.at("expected"))?;
        }
        if let Some(server) = self.server
            && (server.port() == 0 || server.ip().is_unspecified())
        {
            return Err(ProbeProblem::Server { server }.at("server"));
        }
        Ok(())
    }
}

impl TlsProbe {
    fn validate(&self) -> Result<(), ProbeError> {
        monitor::host(&self.host)?;
        monitor::port_number(i64::from(self.port))?;
        if !(1..=Self::MAX_WARN_DAYS).contains(&self.warn_days) {
            return Err(ProbeProblem::WarnDays {
                days: self.warn_days,
                max: Self::MAX_WARN_DAYS,
            }
            .at("warn_days"));
        }
        Ok(())
    }
}

fn text_value(text: &str, max: usize) -> Result<(), ProbeProblem> {
    if text.trim().is_empty() {
        Err(ProbeProblem::Empty)
    } else if text.chars().count() > max {
        Err(ProbeProblem::TooLong { max })
    } else if text.chars().any(char::is_control) {
        Err(ProbeProblem::Control)
    } else {
        Ok(())
    }
}

/// A name to look up: a host name by core's rules, except that labels may
/// begin with an underscore (RFC 8552: `_dmarc.example.no` is a common TXT
/// check), and not an IP address.
fn dns_name(name: &str) -> Result<(), ProbeProblem> {
    let name = name.trim();
    if name.parse::<IpAddr>().is_ok() {
        return Err(ProbeProblem::NameIsAddress);
    }
    // Core's rules see an `x` for each leading underscore; a label quoted in
    // an error is put back as typed.
    let labels: Vec<(&str, String)> = name
        .split('.')
        .map(|label| match label.strip_prefix('_') {
            Some(rest) => (label, format!("x{rest}")),
            None => (label, label.to_owned()),
        })
        .collect();
    let plain: Vec<&str> = labels.iter().map(|(_, plain)| plain.as_str()).collect();
    let as_typed = |label: String| {
        labels
            .iter()
            .find(|(_, plain)| *plain == label)
            .map_or(label.clone(), |(typed, _)| (*typed).to_owned())
    };
    match monitor::host(&plain.join(".")) {
        Ok(_) => Ok(()),
        Err(e) => Err(ProbeProblem::Target(match e.problem {
            TargetProblem::LabelLength { label } => TargetProblem::LabelLength {
                label: as_typed(label),
            },
            TargetProblem::LabelHyphen { label } => TargetProblem::LabelHyphen {
                label: as_typed(label),
            },
            problem => problem,
        })),
    }
}

/// Whether `expected` is something a `record` answer can be.
fn expected_value(record: DnsRecord, expected: &str) -> Result<(), ProbeProblem> {
    let short = || expected.chars().take(64).collect();
    match record {
        DnsRecord::A if expected.parse::<std::net::Ipv4Addr>().is_err() => {
            Err(ProbeProblem::NotAnAddress {
                text: short(),
                kind: "IPv4",
                record,
            })
        }
        DnsRecord::Aaaa if expected.parse::<std::net::Ipv6Addr>().is_err() => {
            Err(ProbeProblem::NotAnAddress {
                text: short(),
                kind: "IPv6",
                record,
            })
        }
        DnsRecord::Cname | DnsRecord::Mx | DnsRecord::Ns => monitor::host(expected)
            .map(drop)
            .map_err(|e| ProbeProblem::Target(e.problem)),
        _ => Ok(()),
    }
}

// ---- Running checks ----------------------------------------------------------

/// Why a [`Prober`] could not be built (the TLS library refused its
/// configuration); not expected outside a broken build.
#[derive(Debug, thiserror::Error)]
pub enum ProbeSetupError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(reqwest::Error),
    /// The TLS configuration was refused.
    #[error("cannot set up TLS: {0}")]
    Tls(tokio_rustls::rustls::Error),
    /// The certificate verifier could not be built.
    #[error("cannot set up certificate verification: {0}")]
    Verifier(tokio_rustls::rustls::client::VerifierBuilderError),
}

/// Runs checks. Cheap to clone (everything inside is shared), so one per
/// process serves every monitor.
#[derive(Clone, Debug)]
pub struct Prober {
    http: reqwest::Client,
    tls: tls::Configs,
    /// ICMP sequence numbers, so concurrent pings never take each other's
    /// replies for their own.
    icmp_sequence: Arc<AtomicU16>,
}

impl Prober {
    /// Builds the shared HTTP client and TLS configurations.
    pub fn new() -> Result<Prober, ProbeSetupError> {
        Ok(Prober {
            http: http::client().map_err(ProbeSetupError::Http)?,
            tls: tls::Configs::new()?,
            icmp_sequence: Arc::new(AtomicU16::new(1)),
        })
    }

    /// One check.
    ///
    /// Never panics, returns within `timeout` (plus scheduling delay) and
    /// always returns an outcome, stamped with the instant the check began.
    pub async fn check(&self, probe: &Probe, timeout: Duration) -> CheckOutcome {
        let at = Timestamp::now();
        let result = match tokio::time::timeout(timeout, self.run(probe)).await {
            Ok(result) => result,
            Err(_) => fail(format!("timed out after {}", seconds(timeout))),
        };
        CheckOutcome {
            at,
            result: bounded(result),
        }
    }

    async fn run(&self, probe: &Probe) -> CheckResult {
        match probe {
            Probe::Http(http) => http::check(&self.http, http).await,
            Probe::Tcp { host, port } => tcp::check(host, *port).await,
            Probe::Icmp { host } => {
                let sequence = self.icmp_sequence.fetch_add(1, Ordering::Relaxed);
                icmp::check(host, sequence).await
            }
            Probe::Dns(dns) => dns::check(dns).await,
            Probe::TlsExpiry(tls) => tls::check(&self.tls, tls).await,
        }
    }
}

// ---- Shared helpers ----------------------------------------------------------

/// Longest reason or detail kept: they go into tickets and log lines, and a
/// server controls part of them (TXT records, error texts).
const MAX_TEXT: usize = 300;

fn bounded(result: CheckResult) -> CheckResult {
    match result {
        CheckResult::Ok { latency_ms, detail } => CheckResult::Ok {
            latency_ms,
            detail: detail.map(shorten),
        },
        CheckResult::Degraded { reason } => CheckResult::Degraded {
            reason: shorten(reason),
        },
        CheckResult::Fail { reason } => CheckResult::Fail {
            reason: shorten(reason),
        },
    }
}

fn shorten(text: String) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

fn ok(latency: Duration, detail: impl Into<String>) -> CheckResult {
    CheckResult::Ok {
        latency_ms: millis(latency),
        detail: Some(detail.into()),
    }
}

fn fail(reason: impl Into<String>) -> CheckResult {
    CheckResult::Fail {
        reason: reason.into(),
    }
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// `10 s`, `1.5 s`, `0.25 s`.
fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    let (whole, fraction) = (ms / 1000, ms % 1000);
    if fraction == 0 {
        format!("{whole} s")
    } else {
        let fraction = format!("{fraction:03}");
        format!("{whole}.{} s", fraction.trim_end_matches('0'))
    }
}

/// `e` and the errors beneath it. Unlike `source()`, this steps into the
/// error an `io::Error` wraps (`io::Error::source` skips it), which is where
/// TLS libraries put theirs, sometimes two `io::Error`s deep.
fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |&err| {
        match err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        }
    })
}

/// The usual socket errors in words; anything else as the system puts it.
fn io_reason(e: &std::io::Error) -> String {
    known_io_reason(e).map_or_else(|| e.to_string(), str::to_owned)
}

fn known_io_reason(e: &std::io::Error) -> Option<&'static str> {
    use std::io::ErrorKind::*;
    Some(match e.kind() {
        ConnectionRefused => "connection refused",
        ConnectionReset => "connection reset by the server",
        ConnectionAborted => "connection aborted",
        HostUnreachable => "host unreachable",
        NetworkUnreachable => "network unreachable",
        TimedOut => "connection timed out",
        UnexpectedEof => "the server closed the connection",
        AddrNotAvailable => "no route from this machine (address not available)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn http(url: &str) -> HttpProbe {
        HttpProbe {
            url: url.into(),
            expected_status: None,
            keyword: None,
            method_head: false,
        }
    }

    fn dns(name: &str, record: DnsRecord, expected: Option<&str>) -> DnsProbe {
        DnsProbe {
            name: name.into(),
            record,
            expected: expected.map(Into::into),
            server: None,
        }
    }

    fn tls(host: &str, port: u16, warn_days: u16) -> TlsProbe {
        TlsProbe {
            host: host.into(),
            port,
            warn_days,
            accept_invalid: false,
        }
    }

    fn field(probe: Probe) -> &'static str {
        probe.validate().expect_err("must be refused").field
    }

    #[test]
    fn good_probes_pass() {
        let good = [
            Probe::Http(HttpProbe {
                expected_status: Some(204),
                keyword: Some("Velkommen".into()),
                ..http("https://www.kommune.no/")
            }),
            Probe::Tcp {
                host: "db1.kommune.local".into(),
                port: 5432,
            },
            Probe::Icmp {
                host: "10.0.0.1".into(),
            },
            Probe::Dns(dns("kommune.no", DnsRecord::A, Some("192.0.2.7"))),
            Probe::Dns(dns("kommune.no", DnsRecord::Aaaa, Some("2001:db8::1"))),
            Probe::Dns(dns("kommune.no", DnsRecord::Mx, Some("mx.kommune.no."))),
            Probe::Dns(dns(
                "_dmarc.kommune.no",
                DnsRecord::Txt,
                Some("v=DMARC1; p=none"),
            )),
            Probe::TlsExpiry(tls("www.kommune.no", 443, 14)),
        ];
        for probe in good {
            assert_eq!(probe.validate(), Ok(()), "{probe:?}");
        }
    }

    #[test]
    fn each_bad_setting_names_its_field() {
        assert_eq!(field(Probe::Http(http("ftp://x.no"))), "url");
        assert_eq!(field(Probe::Http(http(""))), "url");
        let status = Probe::Http(HttpProbe {
            expected_status: Some(99),
            ..http("http://x.no")
        });
        assert_eq!(
            status.validate().unwrap_err().problem,
            ProbeProblem::Status { status: 99 }
        );
        assert_eq!(field(status), "expected_status");
        for keyword in ["", "  ", "a\nb", &"x".repeat(MAX_KEYWORD_LEN + 1)] {
            let probe = Probe::Http(HttpProbe {
                keyword: Some(keyword.into()),
                ..http("http://x.no")
            });
            assert_eq!(field(probe), "keyword", "{keyword:?}");
        }
        let head = Probe::Http(HttpProbe {
            keyword: Some("ok".into()),
            method_head: true,
            ..http("http://x.no")
        });
        assert_eq!(
            head.validate().unwrap_err().problem,
            ProbeProblem::KeywordWithHead
        );
        let tcp = |host: &str, port| Probe::Tcp {
            host: host.into(),
            port,
        };
        assert_eq!(field(tcp("bad host", 22)), "host");
        assert_eq!(field(tcp("x.no", 0)), "port");
        assert_eq!(
            field(Probe::Icmp {
                host: "-x.no".into()
            }),
            "host"
        );
        assert_eq!(
            field(Probe::Dns(dns("192.0.2.1", DnsRecord::A, None))),
            "name"
        );
        assert_eq!(field(Probe::Dns(dns("a..b", DnsRecord::A, None))), "name");
        assert_eq!(field(Probe::Dns(dns("", DnsRecord::A, None))), "name");
        for (record, expected) in [
            (DnsRecord::A, "2001:db8::1"),
            (DnsRecord::Aaaa, "192.0.2.1"),
            (DnsRecord::Mx, "not a host"),
            (DnsRecord::Txt, ""),
            (DnsRecord::Txt, "a\tb"),
        ] {
            let probe = Probe::Dns(dns("x.no", record, Some(expected)));
            assert_eq!(field(probe), "expected", "{record} {expected:?}");
        }
        let server = Probe::Dns(DnsProbe {
            server: Some("0.0.0.0:53".parse().unwrap()),
            ..dns("x.no", DnsRecord::A, None)
        });
        assert_eq!(field(server), "server");
        let no_port = Probe::Dns(DnsProbe {
            server: Some("192.0.2.1:0".parse().unwrap()),
            ..dns("x.no", DnsRecord::A, None)
        });
        assert_eq!(field(no_port), "server");
        assert_eq!(field(Probe::TlsExpiry(tls("x y", 443, 14))), "host");
        assert_eq!(field(Probe::TlsExpiry(tls("x.no", 0, 14))), "port");
        assert_eq!(field(Probe::TlsExpiry(tls("x.no", 443, 0))), "warn_days");
        assert_eq!(field(Probe::TlsExpiry(tls("x.no", 443, 366))), "warn_days");
        assert_eq!(
            "SRV".parse::<DnsRecord>().unwrap_err().to_string(),
            "record: \"SRV\" is not a supported record type (A, AAAA, CNAME, MX, TXT, NS)"
        );
    }

    #[test]
    fn dns_names_allow_service_labels_but_report_real_problems() {
        assert_eq!(dns_name("_dmarc.kommune.no"), Ok(()));
        assert_eq!(dns_name("_sip._tcp.kommune.no."), Ok(()));
        assert_eq!(
            dns_name("_bad-.kommune.no"),
            Err(ProbeProblem::Target(TargetProblem::LabelHyphen {
                label: "_bad-".into()
            })),
            "the label as typed"
        );
        assert_eq!(
            dns_name("_.kommune.no"),
            Ok(()),
            "a lone underscore is a label like any other"
        );
        assert_eq!(
            dns_name("a_b.no"),
            Err(ProbeProblem::Target(TargetProblem::Character {
                found: '_'
            })),
            "underscores only start a label"
        );
        assert_eq!(dns_name("::1"), Err(ProbeProblem::NameIsAddress));
    }

    #[test]
    fn record_codes_round_trip() {
        for &r in DnsRecord::ALL {
            assert_eq!(DnsRecord::parse(r.as_str()), Some(r));
            assert_eq!(DnsRecord::parse(&r.as_str().to_lowercase()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), json!(r.as_str()));
            assert_eq!(r.to_string(), r.as_str());
        }
        assert_eq!(" mx ".parse::<DnsRecord>(), Ok(DnsRecord::Mx));
        assert_eq!(DnsRecord::parse("PTR"), None);
    }

    #[test]
    fn probes_serialise_tagged_and_round_trip() {
        let probe = Probe::Http(HttpProbe {
            keyword: Some("Velkommen".into()),
            ..http("https://www.kommune.no/")
        });
        assert_eq!(
            serde_json::to_value(&probe).unwrap(),
            json!({"kind": "http", "url": "https://www.kommune.no/", "expected_status": null,
                   "keyword": "Velkommen", "method_head": false})
        );
        let all = [
            probe,
            Probe::Tcp {
                host: "db1".into(),
                port: 5432,
            },
            Probe::Icmp { host: "::1".into() },
            Probe::Dns(DnsProbe {
                server: Some("[2001:db8::53]:5353".parse().unwrap()),
                ..dns("kommune.no", DnsRecord::Aaaa, Some("2001:db8::1"))
            }),
            Probe::TlsExpiry(TlsProbe {
                accept_invalid: true,
                ..tls("intranet", 8443, 30)
            }),
        ];
        for probe in all {
            let text = serde_json::to_string(&probe).unwrap();
            assert_eq!(
                serde_json::from_str::<Probe>(&text).unwrap(),
                probe,
                "{text}"
            );
            assert_eq!(
                serde_json::to_value(&probe).unwrap()["kind"],
                json!(probe.kind().as_str()),
                "the tag is the monitor kind's code"
            );
        }
        // Optional settings may be left out; TLS defaults to port 443 and two weeks.
        let minimal: Probe =
            serde_json::from_value(json!({"kind": "tls_expiry", "host": "x.no"})).unwrap();
        assert_eq!(minimal, Probe::TlsExpiry(tls("x.no", 443, 14)));
        let minimal: Probe =
            serde_json::from_value(json!({"kind": "dns", "name": "x.no", "record": "MX"})).unwrap();
        assert_eq!(minimal, Probe::Dns(dns("x.no", DnsRecord::Mx, None)));
        for bad in [
            json!({"kind": "smtp", "host": "x"}),
            json!({"kind": "tcp", "host": "x", "port": 70000}),
            json!({"kind": "tcp", "host": "x"}),
            json!({"kind": "dns", "name": "x", "record": "SRV"}),
            json!({"url": "http://x"}),
        ] {
            assert!(
                serde_json::from_value::<Probe>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn timeouts_read_as_seconds() {
        assert_eq!(seconds(Duration::from_secs(10)), "10 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(seconds(Duration::from_millis(250)), "0.25 s");
        assert_eq!(seconds(Duration::ZERO), "0 s");
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        let long = "æ".repeat(MAX_TEXT + 5);
        let CheckResult::Fail { reason } = bounded(fail(long)) else {
            panic!("kind changed")
        };
        assert_eq!(reason.chars().count(), MAX_TEXT + 1);
        assert!(reason.ends_with('…'));
        assert_eq!(shorten("short".into()), "short");
        assert_eq!(millis(Duration::from_secs(u64::MAX)), u32::MAX);
    }
}
