//! DNS checks: one query over UDP to one server.
//!
//! A truncated answer (TC) is used as far as it goes; there is no TCP
//! fallback, so a record set too large for a 1232-byte EDNS answer fails
//! with a reason saying so. Checks ask a named server rather than the
//! system resolver so they test that server, and see NXDOMAIN, SERVFAIL
//! and the records themselves, which `getaddrinfo` hides.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use drifta_core::monitor::CheckResult;
use hickory_proto::op::{Edns, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

use super::{DnsProbe, DnsRecord, fail, io_reason, ok};

/// Where the system's name servers are listed.
const RESOLV_CONF: &str = "/etc/resolv.conf";
/// The EDNS payload size recommended since DNS Flag Day 2020: large enough
/// for most answers, small enough not to be fragmented.
const EDNS_PAYLOAD: u16 = 1232;

impl DnsRecord {
    fn record_type(self) -> RecordType {
        match self {
            DnsRecord::A => RecordType::A,
            DnsRecord::Aaaa => RecordType::AAAA,
            DnsRecord::Cname => RecordType::CNAME,
            DnsRecord::Mx => RecordType::MX,
            DnsRecord::Txt => RecordType::TXT,
            DnsRecord::Ns => RecordType::NS,
        }
    }
}

pub(super) async fn check(probe: &DnsProbe) -> CheckResult {
    let server = match probe.server {
        Some(server) => server,
        None => match tokio::fs::read_to_string(RESOLV_CONF).await {
            Ok(text) => match first_nameserver(&text) {
                Some(server) => server,
                None => {
                    return fail(format!(
                        "no name server in {RESOLV_CONF}; give this check a DNS server"
                    ));
                }
            },
            Err(e) => return fail(format!("cannot read {RESOLV_CONF}: {e}")),
        },
    };
    let name = probe.name.trim();
    let Ok(mut query_name) = Name::from_ascii(name) else {
        return fail(format!("{name:?} is not a DNS name"));
    };
    query_name.set_fqdn(true);
    let started = Instant::now();
    let response = match exchange(server, &query_name, probe.record).await {
        Ok(response) => response,
        Err(reason) => return fail(reason),
    };
    let latency = started.elapsed();
    match evaluate(&response, name, probe.record, probe.expected.as_deref()) {
        Ok(answers) => ok(latency, format!("{} {}", probe.record, answers.join(", "))),
        Err(reason) => fail(reason),
    }
}

/// Sends one query and waits for its answer, ignoring datagrams that do
/// not answer it (late answers to an earlier check, spoofing attempts).
async fn exchange(server: SocketAddr, name: &Name, record: DnsRecord) -> Result<Message, String> {
    // `Message::query` draws a random id; with the random source port the
    // socket gets, a forged answer has to guess both.
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(name.clone(), record.record_type()));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    query.set_edns(edns);
    let bytes = query
        .to_vec()
        .map_err(|e| format!("cannot build the DNS query: {e}"))?;
    let local: SocketAddr = if server.is_ipv6() {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    let unreachable = |e: std::io::Error| format!("{} ({server})", io_reason(&e));
    socket.connect(server).await.map_err(unreachable)?;
    socket.send(&bytes).await.map_err(unreachable)?;
    let mut buffer = vec![0u8; 4096];
    loop {
        let n = socket.recv(&mut buffer).await.map_err(|e| match e.kind() {
            // An ICMP port unreachable came back: nothing listens there.
            std::io::ErrorKind::ConnectionRefused => format!("no DNS server answers on {server}"),
            _ => unreachable(e),
        })?;
        let Ok(response) = Message::from_vec(&buffer[..n]) else {
            continue;
        };
        if response.metadata.id == query.metadata.id
            && response.metadata.message_type == MessageType::Response
            && response
                .queries
                .first()
                .is_none_or(|q| q.name() == name && q.query_type() == record.record_type())
        {
            return Ok(response);
        }
    }
}

/// The answers of the requested type as text, or why the check fails.
pub(super) fn evaluate(
    response: &Message,
    name: &str,
    record: DnsRecord,
    expected: Option<&str>,
) -> Result<Vec<String>, String> {
    let name = name.trim_end_matches('.');
    match response.metadata.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Err(format!("{name} does not exist (NXDOMAIN)")),
        ResponseCode::ServFail => {
            return Err(format!(
                "the DNS server could not answer for {name} (SERVFAIL)"
            ));
        }
        ResponseCode::Refused => {
            return Err(format!(
                "the DNS server refused to answer for {name} (REFUSED)"
            ));
        }
        other => {
            return Err(format!(
                "the DNS server answered with error {} ({other})",
                u16::from(other)
            ));
        }
    }
    let answers: Vec<Answer> = response
        .answers
        .iter()
        .filter_map(|r| answer(r, record))
        .collect();
    if answers.is_empty() {
        return Err(if response.metadata.truncation {
            format!("the answer for {name} was truncated and there is no TCP fallback")
        } else {
            format!("no {record} records for {name}")
        });
    }
    if let Some(expected) = expected
        && !answers.iter().any(|a| matches(record, &a.key, expected))
    {
        let got: Vec<&str> = answers.iter().map(|a| a.text.as_str()).collect();
        return Err(format!(
            "expected {}, got {}",
            expected.trim(),
            got.join(", ")
        ));
    }
    Ok(answers.into_iter().map(|a| a.text).collect())
}

/// One answer: as shown, and the part `expected` is compared with (for MX
/// the exchange without its preference).
struct Answer {
    text: String,
    key: String,
}

fn answer(record: &Record, wanted: DnsRecord) -> Option<Answer> {
    let host = |name: &Name| name.to_ascii().trim_end_matches('.').to_owned();
    let text = match (&record.data, wanted) {
        (RData::A(a), DnsRecord::A) => a.0.to_string(),
        (RData::AAAA(a), DnsRecord::Aaaa) => a.0.to_string(),
        (RData::CNAME(c), DnsRecord::Cname) => host(&c.0),
        (RData::NS(n), DnsRecord::Ns) => host(&n.0),
        (RData::TXT(t), DnsRecord::Txt) => {
            // A long TXT value is split into strings of 255 bytes at most;
            // it means the concatenation (as SPF and DKIM read it).
            let bytes: Vec<u8> = t.txt_data.iter().flat_map(|s| s.iter().copied()).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        (RData::MX(mx), DnsRecord::Mx) => {
            return Some(Answer {
                text: format!("{} {}", mx.preference, host(&mx.exchange)),
                key: host(&mx.exchange),
            });
        }
        _ => return None,
    };
    Some(Answer {
        key: text.clone(),
        text,
    })
}

/// Compares an answer with the expected value: addresses as addresses (so
/// `2001:db8::1` equals `2001:DB8:0::1`), everything else without regard to
/// case, surrounding space or a trailing dot.
pub(super) fn matches(record: DnsRecord, answer: &str, expected: &str) -> bool {
    let expected = expected.trim();
    if matches!(record, DnsRecord::A | DnsRecord::Aaaa)
        && let (Ok(a), Ok(b)) = (answer.parse::<IpAddr>(), expected.parse::<IpAddr>())
    {
        return a == b;
    }
    let normal = |s: &str| {
        let s = s.trim();
        if record == DnsRecord::Txt {
            s.to_lowercase()
        } else {
            s.trim_end_matches('.').to_lowercase()
        }
    };
    normal(answer) == normal(expected)
}

/// The first usable `nameserver` of a resolv.conf text, on port 53.
///
/// Comments start with `#` or `;`. An IPv6 address with a zone by interface
/// name (`fe80::1%eth0`) is skipped, because turning the name into an index
/// needs a system call for a case that hardly occurs on servers.
pub(super) fn first_nameserver(text: &str) -> Option<SocketAddr> {
    text.lines().find_map(|line| {
        let line = line.split(['#', ';']).next().unwrap_or_default();
        let mut words = line.split_whitespace();
        if words.next() != Some("nameserver") {
            return None;
        }
        let address = words.next()?;
        match address.split_once('%') {
            None => address
                .parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 53)),
            Some((ip, zone)) => {
                let ip = ip.parse::<Ipv6Addr>().ok()?;
                let zone = zone.parse::<u32>().ok()?;
                Some(std::net::SocketAddrV6::new(ip, 53, 0, zone).into())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::OpCode;
    use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, TXT};

    fn response(code: ResponseCode, answers: Vec<RData>) -> Message {
        let mut m = Message::response(1, OpCode::Query);
        m.metadata.response_code = code;
        let name = Name::from_ascii("x.test.").unwrap();
        for data in answers {
            m.add_answer(Record::from_rdata(name.clone(), 60, data));
        }
        m
    }

    fn host(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn error_codes_fail_with_their_name() {
        let cases = [
            (ResponseCode::NXDomain, "x.test does not exist (NXDOMAIN)"),
            (
                ResponseCode::ServFail,
                "the DNS server could not answer for x.test (SERVFAIL)",
            ),
            (
                ResponseCode::Refused,
                "the DNS server refused to answer for x.test (REFUSED)",
            ),
        ];
        for (code, reason) in cases {
            assert_eq!(
                evaluate(&response(code, vec![]), "x.test.", DnsRecord::A, None),
                Err(reason.into())
            );
        }
        let Err(reason) = evaluate(
            &response(ResponseCode::NotImp, vec![]),
            "x.test",
            DnsRecord::A,
            None,
        ) else {
            panic!("NOTIMP is an error")
        };
        assert!(
            reason.starts_with("the DNS server answered with error 4"),
            "{reason}"
        );
    }

    #[test]
    fn no_records_of_the_type_fails() {
        let only_cname = response(
            ResponseCode::NoError,
            vec![RData::CNAME(CNAME(host("y.test.")))],
        );
        assert_eq!(
            evaluate(&only_cname, "x.test", DnsRecord::A, None),
            Err("no A records for x.test".into())
        );
        let mut truncated = response(ResponseCode::NoError, vec![]);
        truncated.metadata.truncation = true;
        assert_eq!(
            evaluate(&truncated, "x.test", DnsRecord::Txt, None),
            Err("the answer for x.test was truncated and there is no TCP fallback".into())
        );
    }

    #[test]
    fn answers_are_listed_and_compared() {
        let alias_then_addresses = response(
            ResponseCode::NoError,
            vec![
                RData::CNAME(CNAME(host("www.x.test."))),
                RData::A(A::new(192, 0, 2, 7)),
                RData::A(A::new(192, 0, 2, 8)),
            ],
        );
        assert_eq!(
            evaluate(&alias_then_addresses, "x.test", DnsRecord::A, None),
            Ok(vec!["192.0.2.7".into(), "192.0.2.8".into()])
        );
        assert!(
            evaluate(
                &alias_then_addresses,
                "x.test",
                DnsRecord::A,
                Some(" 192.0.2.8 ")
            )
            .is_ok()
        );
        assert_eq!(
            evaluate(
                &alias_then_addresses,
                "x.test",
                DnsRecord::A,
                Some("192.0.2.9")
            ),
            Err("expected 192.0.2.9, got 192.0.2.7, 192.0.2.8".into())
        );
        assert_eq!(
            evaluate(
                &alias_then_addresses,
                "x.test",
                DnsRecord::Cname,
                Some("WWW.X.TEST.")
            ),
            Ok(vec!["www.x.test".into()])
        );

        let mail = response(
            ResponseCode::NoError,
            vec![
                RData::MX(MX::new(10, host("mx1.x.test."))),
                RData::MX(MX::new(20, host("mx2.x.test."))),
            ],
        );
        assert_eq!(
            evaluate(&mail, "x.test", DnsRecord::Mx, Some("MX2.x.test")),
            Ok(vec!["10 mx1.x.test".into(), "20 mx2.x.test".into()]),
            "MX compares the exchange host"
        );
        assert_eq!(
            evaluate(&mail, "x.test", DnsRecord::Mx, Some("mx3.x.test")),
            Err("expected mx3.x.test, got 10 mx1.x.test, 20 mx2.x.test".into())
        );

        let text = response(
            ResponseCode::NoError,
            vec![RData::TXT(TXT::new(vec![
                "v=spf1 include:".into(),
                "_spf.x.test ~all".into(),
            ]))],
        );
        assert_eq!(
            evaluate(
                &text,
                "x.test",
                DnsRecord::Txt,
                Some("V=SPF1 include:_spf.x.test ~all")
            ),
            Ok(vec!["v=spf1 include:_spf.x.test ~all".into()]),
            "TXT strings are joined"
        );
        let servers = response(
            ResponseCode::NoError,
            vec![RData::NS(NS(host("ns1.x.test.")))],
        );
        assert!(evaluate(&servers, "x.test", DnsRecord::Ns, Some("ns1.x.test.")).is_ok());
        let six = response(
            ResponseCode::NoError,
            vec![RData::AAAA(AAAA::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))],
        );
        assert!(evaluate(&six, "x.test", DnsRecord::Aaaa, Some("2001:DB8:0::1")).is_ok());
        assert!(evaluate(&six, "x.test", DnsRecord::Aaaa, Some("2001:db8::2")).is_err());
    }

    #[test]
    fn comparison_rules() {
        assert!(matches(DnsRecord::A, "192.0.2.7", "192.0.2.7"));
        assert!(!matches(DnsRecord::A, "192.0.2.7", "192.0.2.70"));
        assert!(matches(DnsRecord::Cname, "a.test", "A.TEST."));
        assert!(!matches(DnsRecord::Cname, "a.test", "b.test"));
        assert!(matches(DnsRecord::Txt, "Hello", "hello"));
        assert!(
            !matches(DnsRecord::Txt, "hello.", "hello"),
            "a dot in text is text"
        );
    }

    #[test]
    fn resolv_conf_gives_the_first_usable_name_server() {
        let text = "# generated\nsearch kommune.local\n; nameserver 10.9.9.9\n\
                    nameserver fe80::1%eth0\nnameserver   10.0.0.53  # office\nnameserver 10.0.0.54\n";
        assert_eq!(
            first_nameserver(text),
            Some("10.0.0.53:53".parse().unwrap())
        );
        assert_eq!(
            first_nameserver("nameserver 2001:db8::53\n"),
            Some("[2001:db8::53]:53".parse().unwrap())
        );
        assert_eq!(
            first_nameserver("nameserver fe80::1%2\n"),
            Some(std::net::SocketAddrV6::new("fe80::1".parse().unwrap(), 53, 0, 2).into())
        );
        for none in [
            "",
            "search x\n",
            "nameserver\n",
            "nameserver not-an-address\n",
            "nameservers 10.0.0.1\n",
        ] {
            assert_eq!(first_nameserver(none), None, "{none:?}");
        }
    }
}
