//! TLS certificate expiry checks, and TLS errors in words for HTTP checks.
//!
//! The handshake uses tokio-rustls with the ring provider, which reqwest
//! already brings along, and the leaf certificate's validity is read with
//! x509-cert.

use std::sync::Arc;
use std::time::Instant;

use drifta_core::monitor::CheckResult;
use jiff::{SignedDuration, Timestamp};
use tokio::io::AsyncWriteExt;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{self, WebPkiSupportedAlgorithms};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use x509_cert::Certificate;
use x509_cert::der::Decode;

use super::{ProbeSetupError, TlsProbe, causes, fail, io_reason, millis, tcp};

/// The two client configurations TLS checks choose between.
#[derive(Clone, Debug)]
pub(super) struct Configs {
    /// Verifies the chain against the Mozilla roots and the host name, but
    /// lets an expired certificate through so its date can be reported.
    verified: Arc<ClientConfig>,
    /// Accepts any certificate (still checking the handshake signature), for
    /// internal CAs.
    any: Arc<ClientConfig>,
}

impl Configs {
    pub(super) fn new() -> Result<Configs, ProbeSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = Arc::new(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(ProbeSetupError::Verifier)?;
        let algorithms = provider.signature_verification_algorithms;
        let config = |verifier: Arc<dyn ServerCertVerifier>| {
            ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map(|builder| {
                    Arc::new(
                        builder
                            .dangerous()
                            .with_custom_certificate_verifier(verifier)
                            .with_no_client_auth(),
                    )
                })
                .map_err(ProbeSetupError::Tls)
        };
        Ok(Configs {
            verified: config(Arc::new(Verifier {
                chain: Some(webpki),
                algorithms,
            }))?,
            any: config(Arc::new(Verifier {
                chain: None,
                algorithms,
            }))?,
        })
    }
}

pub(super) async fn check(configs: &Configs, probe: &TlsProbe) -> CheckResult {
    let host = probe.host.trim();
    let Ok(server_name) = ServerName::try_from(host.to_owned()) else {
        return fail(format!("{host:?} is not a host name or address"));
    };
    let (tcp, connected) = match tcp::connect(host, probe.port).await {
        Ok(connection) => connection,
        Err(reason) => return fail(reason),
    };
    let started = Instant::now();
    let config = if probe.accept_invalid {
        &configs.any
    } else {
        &configs.verified
    };
    let mut stream = match TlsConnector::from(config.clone())
        .connect(server_name, tcp)
        .await
    {
        Ok(stream) => stream,
        Err(e) => {
            return fail(
                causes(&e)
                    .find_map(reason_in)
                    .unwrap_or_else(|| format!("TLS handshake failed: {}", io_reason(&e))),
            );
        }
    };
    let latency = connected + started.elapsed();
    let leaf = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|der| Certificate::from_der(der.as_ref()));
    // Say goodbye properly so servers do not log an aborted handshake; the
    // answer does not matter.
    let _ = stream.shutdown().await;
    let (not_before, not_after) = match leaf {
        None => return fail("the server sent no certificate"),
        Some(Err(e)) => return fail(format!("cannot read the server's certificate: {e}")),
        Some(Ok(cert)) => {
            let validity = cert.tbs_certificate().validity();
            (
                timestamp(validity.not_before.to_unix_duration()),
                timestamp(validity.not_after.to_unix_duration()),
            )
        }
    };
    judge(
        Timestamp::now(),
        not_before,
        not_after,
        probe.warn_days,
        millis(latency),
    )
}

fn timestamp(since_epoch: std::time::Duration) -> Timestamp {
    let seconds = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    Timestamp::from_second(seconds).unwrap_or(Timestamp::MAX)
}

fn date(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

/// What a certificate's validity means at `now`: expired or not yet valid
/// fails, fewer than `warn_days` whole days left is degraded.
pub(super) fn judge(
    now: Timestamp,
    not_before: Timestamp,
    not_after: Timestamp,
    warn_days: u16,
    latency_ms: u32,
) -> CheckResult {
    if now < not_before {
        return CheckResult::Fail {
            reason: format!("certificate not valid before {}", date(not_before)),
        };
    }
    if now >= not_after {
        return CheckResult::Fail {
            reason: format!("certificate expired on {}", date(not_after)),
        };
    }
    let left = not_after.duration_since(now);
    let days = left.as_secs() / SignedDuration::from_hours(24).as_secs();
    if days < i64::from(warn_days) {
        let when = match days {
            0 => "in less than a day".to_owned(),
            1 => "in 1 day".to_owned(),
            n => format!("in {n} days"),
        };
        return CheckResult::Degraded {
            reason: format!("certificate expires {when} ({})", date(not_after)),
        };
    }
    CheckResult::Ok {
        latency_ms,
        detail: Some(format!("certificate valid until {}", date(not_after))),
    }
}

/// A TLS error in words, if `e` is one.
pub(super) fn reason_in(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let e = e.downcast_ref::<rustls::Error>()?;
    Some(match e {
        rustls::Error::InvalidCertificate(problem) => {
            format!(
                "TLS: invalid peer certificate: {}",
                certificate_problem(problem)
            )
        }
        other => format!("TLS: {other}"),
    })
}

fn certificate_problem(problem: &CertificateError) -> String {
    let unix = |t: &UnixTime| date(timestamp(std::time::Duration::from_secs(t.as_secs())));
    match problem {
        CertificateError::Expired => "expired".into(),
        CertificateError::ExpiredContext { not_after, .. } => {
            format!("expired on {}", unix(not_after))
        }
        CertificateError::NotValidYet => "not valid yet".into(),
        CertificateError::NotValidYetContext { not_before, .. } => {
            format!("not valid before {}", unix(not_before))
        }
        CertificateError::UnknownIssuer => {
            "issued by an unknown authority (self-signed or an internal CA)".into()
        }
        CertificateError::NotValidForName => "not valid for this host name".into(),
        CertificateError::BadSignature => "bad signature".into(),
        CertificateError::Revoked => "revoked".into(),
        other => other.to_string(),
    }
}

/// Verifies the handshake signature always, and the chain when `chain` is
/// set, letting an expired certificate pass: the check then reads the date
/// and reports the expiry itself, which says more than a handshake error.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn expiry_thresholds() {
        let now = at("2026-11-23T12:00:00Z");
        let before = at("2026-01-01T00:00:00Z");
        let judge_at = |after: &str, warn| judge(now, before, at(after), warn, 42);
        assert_eq!(
            judge_at("2026-11-28T12:00:01Z", 14),
            CheckResult::Degraded {
                reason: "certificate expires in 5 days (2026-11-28)".into()
            }
        );
        assert_eq!(
            judge_at("2026-11-24T12:00:00Z", 14),
            CheckResult::Degraded {
                reason: "certificate expires in 1 day (2026-11-24)".into()
            }
        );
        assert_eq!(
            judge_at("2026-11-23T13:00:00Z", 1),
            CheckResult::Degraded {
                reason: "certificate expires in less than a day (2026-11-23)".into()
            }
        );
        assert_eq!(
            judge_at("2026-12-07T12:00:00Z", 14),
            CheckResult::Ok {
                latency_ms: 42,
                detail: Some("certificate valid until 2026-12-07".into())
            },
            "exactly 14 days left is not within 14"
        );
        assert_eq!(
            judge_at("2026-11-23T12:00:00Z", 14),
            CheckResult::Fail {
                reason: "certificate expired on 2026-11-23".into()
            }
        );
        assert_eq!(
            judge(
                now,
                at("2026-12-01T00:00:00Z"),
                at("2027-12-01T00:00:00Z"),
                14,
                0
            ),
            CheckResult::Fail {
                reason: "certificate not valid before 2026-12-01".into()
            }
        );
    }

    #[test]
    fn certificate_errors_in_words() {
        let reason = |e: rustls::Error| reason_in(&e).unwrap();
        assert_eq!(
            reason(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            )),
            "TLS: invalid peer certificate: issued by an unknown authority (self-signed or an internal CA)"
        );
        assert_eq!(
            reason(rustls::Error::InvalidCertificate(
                CertificateError::ExpiredContext {
                    time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000)),
                    not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                        1_700_000_000
                    )),
                }
            )),
            "TLS: invalid peer certificate: expired on 2023-11-14"
        );
        assert!(reason(rustls::Error::General("x".into())).starts_with("TLS: "));
        let io = std::io::Error::other("not TLS");
        assert_eq!(reason_in(&io), None);
        assert_eq!(
            timestamp(std::time::Duration::from_secs(u64::MAX)),
            Timestamp::MAX
        );
    }
}
