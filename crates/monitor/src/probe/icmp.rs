//! ICMP echo (ping) over unprivileged "ping sockets".
//!
//! Linux lets a process open `SOCK_DGRAM` ICMP sockets without `CAP_NET_RAW`
//! when one of its groups is inside `net.ipv4.ping_group_range` (the range
//! covers IPv6 too). The kernel then fills in the identifier, filters replies
//! to this socket and strips the IP header. Raw sockets are not tried: a
//! monitor should not need root, and an administrator who wants ping widens
//! the group range.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use drifta_core::monitor::CheckResult;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use super::{fail, io_reason, ok, tcp};

/// The reason given when the system refuses ping sockets.
pub const NOT_PERMITTED: &str = "ICMP not permitted for this process: allow it with sysctl \
     net.ipv4.ping_group_range (or use a TCP check)";

const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;
/// Sent in every request and expected back, so a reply is recognisably ours.
const PAYLOAD: &[u8; 16] = b"drifta-monitor\0\0";

pub(super) async fn check(host: &str, sequence: u16) -> CheckResult {
    let address = match host.parse::<IpAddr>() {
        Ok(address) => address,
        Err(_) => match tcp::resolve(host, 0).await {
            Ok(addresses) => addresses[0].ip(),
            Err(reason) => return fail(reason),
        },
    };
    match ping(address, sequence).await {
        Ok(result) => result,
        Err(reason) => fail(reason),
    }
}

async fn ping(address: IpAddr, sequence: u16) -> Result<CheckResult, String> {
    let v6 = address.is_ipv6();
    let (domain, protocol) = if v6 {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(protocol)).map_err(|e| match e.kind() {
        ErrorKind::PermissionDenied => NOT_PERMITTED.to_owned(),
        _ => format!("cannot open an ICMP socket: {e}"),
    })?;
    socket
        .set_nonblocking(true)
        .map_err(|e| format!("cannot open an ICMP socket: {e}"))?;
    // A ping socket takes the datagram calls, so tokio's UDP wrapper can
    // drive it without any unsafe code.
    let socket = UdpSocket::from_std(std::net::UdpSocket::from(socket))
        .map_err(|e| format!("cannot open an ICMP socket: {e}"))?;
    socket
        .connect(SocketAddr::new(address, 0))
        .await
        .map_err(|e| io_reason(&e))?;
    // The kernel replaces the identifier with the socket's own; ours only
    // matters where that does not happen.
    let identifier = (std::process::id() & 0xffff) as u16;
    let request = echo_request(v6, identifier, sequence, PAYLOAD);
    let start = Instant::now();
    socket.send(&request).await.map_err(|e| io_reason(&e))?;
    let mut buffer = [0u8; 1500];
    loop {
        let n = socket.recv(&mut buffer).await.map_err(|e| io_reason(&e))?;
        if is_echo_reply(v6, &buffer[..n], sequence, PAYLOAD) {
            return Ok(ok(start.elapsed(), format!("echo reply from {address}")));
        }
    }
}

/// An ICMP(v6) echo request. The IPv4 checksum is computed here although
/// Linux recomputes it for ping sockets, so the packet is right anywhere;
/// the ICMPv6 checksum covers a pseudo-header only the kernel knows, so it
/// is left to the kernel, which always fills it in.
pub(super) fn echo_request(v6: bool, identifier: u16, sequence: u16, payload: &[u8]) -> Vec<u8> {
    let kind = if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 };
    let mut packet = Vec::with_capacity(8 + payload.len());
    packet.extend_from_slice(&[kind, 0, 0, 0]);
    packet.extend_from_slice(&identifier.to_be_bytes());
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(payload);
    if !v6 {
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    packet
}

/// The Internet checksum (RFC 1071): one's complement of the one's
/// complement sum of 16-bit words, an odd last byte padded with zero.
pub(super) fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|pair| {
            u32::from(u16::from_be_bytes([
                pair[0],
                pair.get(1).copied().unwrap_or(0),
            ]))
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Whether `packet` answers our request `sequence`. Ping sockets on Linux
/// deliver the ICMP message alone; some systems prepend the IPv4 header,
/// which is skipped (no ICMP type starts with the nibble 4 in the high bits
/// that an IPv4 header's first byte has).
pub(super) fn is_echo_reply(v6: bool, packet: &[u8], sequence: u16, payload: &[u8]) -> bool {
    let packet = match packet.first() {
        Some(&first) if !v6 && first >> 4 == 4 => {
            let header = usize::from(first & 0x0f) * 4;
            packet.get(header..).unwrap_or_default()
        }
        _ => packet,
    };
    let reply = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
    packet.len() >= 8
        && packet[0] == reply
        && packet[1] == 0
        && packet[6..8] == sequence.to_be_bytes()
        && &packet[8..] == payload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_request_layout_and_checksum() {
        let packet = echo_request(false, 0x1234, 0x0102, b"ab");
        assert_eq!(packet.len(), 10);
        assert_eq!(&packet[..2], &[8, 0], "type 8, code 0");
        assert_eq!(&packet[4..8], &[0x12, 0x34, 0x01, 0x02]);
        assert_eq!(&packet[8..], b"ab");
        // Hand-computed: 0x0800 + 0x1234 + 0x0102 + 0x6162 = 0x7c98.
        assert_eq!(&packet[2..4], &(!0x7c98u16).to_be_bytes());
        assert_eq!(
            checksum(&packet),
            0,
            "a packet with its checksum sums to zero"
        );
    }

    #[test]
    fn checksum_follows_rfc_1071() {
        // RFC 1071's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
        assert_eq!(checksum(&[0xff]), !0xff00, "odd length padded with zero");
        assert_eq!(checksum(&[]), 0xffff);
        assert_eq!(checksum(&[0xff; 4]), 0, "carries fold back in");
    }

    #[test]
    fn ipv6_request_leaves_checksum_to_the_kernel() {
        let packet = echo_request(true, 1, 2, PAYLOAD);
        assert_eq!(&packet[..4], &[128, 0, 0, 0]);
        assert_eq!(&packet[6..8], &[0, 2]);
    }

    fn reply(v6: bool, sequence: u16, payload: &[u8]) -> Vec<u8> {
        let mut packet = echo_request(v6, 7, sequence, payload);
        packet[0] = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
        packet
    }

    #[test]
    fn replies_match_on_type_sequence_and_payload() {
        assert!(is_echo_reply(false, &reply(false, 9, PAYLOAD), 9, PAYLOAD));
        assert!(is_echo_reply(true, &reply(true, 9, PAYLOAD), 9, PAYLOAD));
        assert!(
            !is_echo_reply(false, &reply(false, 8, PAYLOAD), 9, PAYLOAD),
            "other sequence"
        );
        assert!(
            !is_echo_reply(false, &reply(false, 9, b"other"), 9, PAYLOAD),
            "other payload"
        );
        assert!(
            !is_echo_reply(true, &reply(false, 9, PAYLOAD), 9, PAYLOAD),
            "v4 reply on v6"
        );
        assert!(
            !is_echo_reply(false, &echo_request(false, 7, 9, PAYLOAD), 9, PAYLOAD),
            "our own request is no reply"
        );
        let mut unreachable = reply(false, 9, PAYLOAD);
        unreachable[0] = 3;
        assert!(!is_echo_reply(false, &unreachable, 9, PAYLOAD));
        for short in [&[][..], &[0u8][..], &[0, 0, 0, 0, 0, 0, 0][..]] {
            assert!(!is_echo_reply(false, short, 0, b""), "{short:?}");
        }
    }

    #[test]
    fn an_ipv4_header_in_front_is_skipped() {
        let mut packet = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        packet.extend(reply(false, 3, PAYLOAD));
        assert!(is_echo_reply(false, &packet, 3, PAYLOAD));
        assert!(
            !is_echo_reply(false, &packet[..22], 3, PAYLOAD),
            "cut short"
        );
        assert!(
            !is_echo_reply(false, &[0x4f, 0, 0], 3, PAYLOAD),
            "header longer than packet"
        );
    }
}
