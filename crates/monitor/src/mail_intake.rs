//! The mail intake: polls each configured mailbox over IMAP (TLS or STARTTLS, never in the
//! clear) and hands every new message to the store, which turns it into a ticket or a
//! reply. One node polls a mailbox at a time, through the mailbox's lease in the database.
//!
//! Exactly once: messages are fetched with `BODY.PEEK[]`, which leaves them unread, and are
//! marked `\Seen $DriftaProcessed` on the server only after the store has committed them. A
//! crash in between fetches them again, and the store's unique (mailbox, Message-ID) key
//! turns the second take into "already done".

use async_imap::Session;
use async_imap::types::Flag;
use drifta_core::mail::{self, MailError, MailLimits};
use drifta_store::{Ingested, MailSecurity, MailboxJob, Store};
use futures_util::TryStreamExt;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// The keyword that marks a message as taken; with `\Seen`, so people reading the mailbox
/// see it as handled. Servers that refuse keywords get `\Seen` alone.
const KEYWORD: &str = "$DriftaProcessed";
/// Messages fetched per round trip.
const BATCH: usize = 50;

#[derive(Clone)]
pub struct IntakeConfig {
    pub node_id: String,
    /// Extra certificate authorities to trust besides the public ones, for a municipality's
    /// own mail server with an internal CA (`mail_ca_file`).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// How often the intake looks for a mailbox whose time has come.
    pub poll_every: Duration,
    /// How long a claimed mailbox stays with this node; renewed between batches.
    pub lease: Duration,
    /// Longest wait for connecting, logging in and each IMAP command.
    pub timeout: Duration,
    pub limits: MailLimits,
}

impl IntakeConfig {
    pub fn new(node_id: impl Into<String>) -> Self {
        IntakeConfig {
            node_id: node_id.into(),
            extra_roots: Vec::new(),
            poll_every: Duration::from_secs(5),
            lease: Duration::from_secs(120),
            timeout: Duration::from_secs(30),
            limits: MailLimits::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeConfigError {
    #[error(
        "mail_ca_file {path}: {reason}. Give a PEM file with the certificate authority of your mail server"
    )]
    CaFile { path: String, reason: String },
    #[error("cannot set up TLS for mail: {0}")]
    Tls(String),
}

/// Reads a PEM file of CA certificates for [`IntakeConfig::extra_roots`].
pub fn read_ca_file(path: &str) -> Result<Vec<CertificateDer<'static>>, IntakeConfigError> {
    let fail = |reason: String| IntakeConfigError::CaFile {
        path: path.to_string(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| fail(e.to_string()))?;
    if certs.is_empty() {
        return Err(fail("it holds no certificate".into()));
    }
    Ok(certs)
}

/// Why one poll of one mailbox failed; shown on the mailbox page.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("cannot connect to {host}:{port}: {reason}")]
    Connect {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("TLS with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("the server refused STARTTLS: {0}")]
    Starttls(String),
    #[error("the server refused the user name or password: {0}")]
    Login(String),
    #[error("the folder {folder:?} cannot be opened: {reason}")]
    Folder { folder: String, reason: String },
    #[error("IMAP error: {0}")]
    Imap(String),
    #[error("the server did not answer within {0} s")]
    Timeout(u64),
    #[error("another node took over the mailbox")]
    LeaseLost,
    #[error("could not record a message: {0}")]
    Store(#[from] drifta_store::StoreError),
}

/// What one poll did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PollReport {
    pub tickets: usize,
    pub replies: usize,
    pub ignored: usize,
    pub kept_aside: usize,
    pub duplicates: usize,
}

impl PollReport {
    pub fn total(&self) -> usize {
        self.tickets + self.replies + self.ignored + self.kept_aside + self.duplicates
    }
}

pub struct IntakeHandle {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl IntakeHandle {
    /// Stops after the message in hand; its mailbox's lease runs out for another node.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

struct Intake {
    store: Store,
    config: IntakeConfig,
    tls: TlsConnector,
}

fn tls_connector(extra: &[CertificateDer<'static>]) -> Result<TlsConnector, IntakeConfigError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| IntakeConfigError::Tls(e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| IntakeConfigError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Starts the intake loop.
pub fn spawn(store: Store, config: IntakeConfig) -> Result<IntakeHandle, IntakeConfigError> {
    let tls = tls_connector(&config.extra_roots)?;
    let (shutdown, mut shutdown_rx) = watch::channel(false);
    let intake = Intake { store, config, tls };
    let task = tokio::spawn(async move {
        loop {
            if *shutdown_rx.borrow() {
                break;
            }
            match intake.round(&shutdown_rx).await {
                // A mailbox was polled: look again at once, another may be due.
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "mail intake: cannot claim a mailbox"),
            }
            tokio::select! {
                _ = tokio::time::sleep(intake.config.poll_every) => {}
                _ = shutdown_rx.changed() => {}
            }
        }
    });
    Ok(IntakeHandle { shutdown, task })
}

/// Polls one mailbox now, outside the loop: for `drifta-bench mail` and tests.
pub async fn poll_once(
    store: &Store,
    config: &IntakeConfig,
    job: &MailboxJob,
) -> Result<PollReport, PollError> {
    let tls = tls_connector(&config.extra_roots).map_err(|e| PollError::Imap(e.to_string()))?;
    let intake = Intake {
        store: store.clone(),
        config: config.clone(),
        tls,
    };
    let (_tx, rx) = watch::channel(false);
    intake.poll(job, &rx).await
}

type ImapSession = Session<TlsStream<TcpStream>>;

impl Intake {
    /// Claims one due mailbox and polls it; false when none was due.
    async fn round(
        &self,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<bool, drifta_store::StoreError> {
        let lease = self.config.lease.as_millis() as i64;
        let Some(job) = self
            .store
            .claim_mailbox(&self.config.node_id, lease)
            .await?
        else {
            return Ok(false);
        };
        let outcome = self.poll(&job, shutdown).await;
        let result = match &outcome {
            Ok(report) => {
                if report.total() > 0 {
                    tracing::info!(mailbox = %job.name, tickets = report.tickets, replies = report.replies, ignored = report.ignored, kept_aside = report.kept_aside, "mail taken");
                }
                Ok(report.total())
            }
            Err(e) => {
                tracing::warn!(mailbox = %job.name, error = %e, "mail poll failed");
                Err(e.to_string())
            }
        };
        self.store
            .finish_mailbox_poll(&job.id, &self.config.node_id, job.poll_seconds, result)
            .await?;
        Ok(true)
    }

    async fn poll(
        &self,
        job: &MailboxJob,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<PollReport, PollError> {
        let mut session = self.connect(job).await?;
        let outcome = self.take_new(job, &mut session, shutdown).await;
        // Logging out is a courtesy; the work is done or failed either way.
        let _ = tokio::time::timeout(self.config.timeout, session.logout()).await;
        outcome
    }

    async fn timed<T, E: std::fmt::Display>(
        &self,
        f: impl std::future::Future<Output = Result<T, E>>,
        wrap: impl FnOnce(String) -> PollError,
    ) -> Result<T, PollError> {
        match tokio::time::timeout(self.config.timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(wrap(e.to_string())),
            Err(_) => Err(PollError::Timeout(self.config.timeout.as_secs())),
        }
    }

    async fn connect(&self, job: &MailboxJob) -> Result<ImapSession, PollError> {
        let host = job
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let tcp = self
            .timed(TcpStream::connect((host.as_str(), job.port)), |reason| {
                PollError::Connect {
                    host: job.host.clone(),
                    port: job.port,
                    reason,
                }
            })
            .await?;
        let name = ServerName::try_from(host.clone()).map_err(|e| PollError::Tls {
            host: job.host.clone(),
            reason: e.to_string(),
        })?;
        let tls_err = |reason: String| PollError::Tls {
            host: job.host.clone(),
            reason,
        };
        let client = match job.security {
            MailSecurity::Tls => {
                let stream = self.timed(self.tls.connect(name, tcp), tls_err).await?;
                let mut client = async_imap::Client::new(stream);
                // Client::new does not read the greeting; the login would read it instead.
                self.timed(client.read_response(), PollError::Imap).await?;
                client
            }
            MailSecurity::Starttls => {
                let mut plain = async_imap::Client::new(tcp);
                self.timed(plain.read_response(), PollError::Imap).await?;
                self.timed(
                    plain.run_command_and_check_ok("STARTTLS", None),
                    PollError::Starttls,
                )
                .await?;
                let stream = self
                    .timed(self.tls.connect(name, plain.into_inner()), tls_err)
                    .await?;
                // No greeting after STARTTLS.
                async_imap::Client::new(stream)
            }
        };
        match tokio::time::timeout(
            self.config.timeout,
            client.login(&job.username, &job.password),
        )
        .await
        {
            Ok(Ok(session)) => Ok(session),
            Ok(Err((e, _))) => Err(PollError::Login(e.to_string())),
            Err(_) => Err(PollError::Timeout(self.config.timeout.as_secs())),
        }
    }

    async fn take_new(
        &self,
        job: &MailboxJob,
        session: &mut ImapSession,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<PollReport, PollError> {
        let folder = self
            .timed(session.select(&job.folder), |reason| PollError::Folder {
                folder: job.folder.clone(),
                reason,
            })
            .await?;
        let keywords = folder
            .permanent_flags
            .iter()
            .any(|f| matches!(f, Flag::MayCreate));
        // Mail that arrived before the mailbox was added is history, not new requests: a
        // support address with years of mail must not turn them all into tickets.
        let since = since_date(job.created_at);
        let (query, mark) = if keywords {
            (
                format!("UNDELETED UNKEYWORD {KEYWORD} SINCE {since}"),
                format!("+FLAGS.SILENT (\\Seen {KEYWORD})"),
            )
        } else {
            (
                format!("UNDELETED UNSEEN SINCE {since}"),
                "+FLAGS.SILENT (\\Seen)".to_string(),
            )
        };
        let uids: BTreeSet<u32> = self
            .timed(session.uid_search(&query), PollError::Imap)
            .await?
            .into_iter()
            .collect();
        let uids: Vec<u32> = uids.into_iter().collect();
        let mut report = PollReport::default();
        let lease = self.config.lease.as_millis() as i64;
        for batch in uids.chunks(BATCH) {
            if *shutdown.borrow() {
                break;
            }
            let done = self.take_batch(job, session, batch, &mut report).await?;
            if !done.is_empty() {
                let set = uid_set(&done);
                // Marked only now, after every message of the batch is committed.
                self.timed(
                    async {
                        session
                            .uid_store(&set, &mark)
                            .await?
                            .try_collect::<Vec<_>>()
                            .await
                    },
                    PollError::Imap,
                )
                .await?;
            }
            if !self
                .store
                .renew_mailbox_lease(&job.id, &self.config.node_id, lease)
                .await?
            {
                return Err(PollError::LeaseLost);
            }
        }
        Ok(report)
    }

    /// Fetches and records one batch; returns the UIDs that may now be marked.
    async fn take_batch(
        &self,
        job: &MailboxJob,
        session: &mut ImapSession,
        batch: &[u32],
        report: &mut PollReport,
    ) -> Result<Vec<u32>, PollError> {
        let limits = &self.config.limits;
        // Sizes first, so a mail bomb is never downloaded whole.
        let sizes = self
            .timed(
                async {
                    session
                        .uid_fetch(uid_set(batch), "(UID RFC822.SIZE)")
                        .await?
                        .try_collect::<Vec<_>>()
                        .await
                },
                PollError::Imap,
            )
            .await?;
        let (mut small, mut large) = (Vec::new(), Vec::new());
        for fetch in &sizes {
            let Some(uid) = fetch.uid else { continue };
            if fetch.size.unwrap_or(0) as usize <= limits.max_message_bytes {
                small.push(uid);
            } else {
                large.push(uid);
            }
        }
        let mut done = Vec::with_capacity(batch.len());
        let full = if small.is_empty() {
            Vec::new()
        } else {
            self.timed(
                async {
                    session
                        .uid_fetch(uid_set(&small), "(UID BODY.PEEK[])")
                        .await?
                        .try_collect::<Vec<_>>()
                        .await
                },
                PollError::Imap,
            )
            .await?
        };
        for fetch in &full {
            let (Some(uid), Some(raw)) = (fetch.uid, fetch.body()) else {
                continue;
            };
            let parsed = mail::parse(raw, limits);
            let outcome = self.store.ingest_mail(job, raw, parsed).await?;
            count(report, &outcome);
            done.push(uid);
        }
        if !large.is_empty() {
            // Only the header is kept of an oversized message, with the reason.
            let heads = self
                .timed(
                    async {
                        session
                            .uid_fetch(uid_set(&large), "(UID RFC822.SIZE BODY.PEEK[HEADER])")
                            .await?
                            .try_collect::<Vec<_>>()
                            .await
                    },
                    PollError::Imap,
                )
                .await?;
            for fetch in &heads {
                let Some(uid) = fetch.uid else { continue };
                let header = fetch.header().unwrap_or_default();
                let size = fetch.size.unwrap_or(0) as usize;
                let too_large = Err(MailError::TooLarge {
                    size,
                    limit: limits.max_message_bytes,
                });
                let outcome = self.store.ingest_mail(job, header, too_large).await?;
                count(report, &outcome);
                done.push(uid);
            }
        }
        done.sort_unstable();
        Ok(done)
    }
}

fn count(report: &mut PollReport, outcome: &Ingested) {
    match outcome {
        Ingested::Ticket { .. } => report.tickets += 1,
        Ingested::Reply { .. } => report.replies += 1,
        Ingested::Ignored { .. } => report.ignored += 1,
        Ingested::KeptAside { .. } => report.kept_aside += 1,
        Ingested::Duplicate => report.duplicates += 1,
    }
}

/// The day before `millis` (UTC) in IMAP's date form, "02-Dec-2026": SINCE compares whole
/// days in the server's zone, so a day's margin never misses a message.
fn since_date(millis: i64) -> String {
    let day = jiff::Timestamp::from_millisecond(millis)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .yesterday()
        .unwrap_or(jiff::civil::date(1970, 1, 1));
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02}-{}-{}",
        day.day(),
        MONTHS[(day.month() - 1) as usize],
        day.year()
    )
}

/// An IMAP sequence set of UIDs, with runs folded: "1:5,8,10:12".
fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_the_day_before_in_imap_form() {
        // 2026-12-03T02:30Z
        assert_eq!(since_date(1_796_265_000_000), "02-Dec-2026");
        assert_eq!(since_date(1_767_225_600_000), "31-Dec-2025"); // 2026-01-01T00:00Z
        assert_eq!(since_date(0), "31-Dec-1969");
    }

    #[test]
    fn uid_sets_fold_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 8, 9]), "1:3,5,8:9");
        assert_eq!(uid_set(&[7]), "7");
        assert_eq!(uid_set(&[3, 1, 2, 2]), "1:3");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn a_ca_file_that_is_missing_or_empty_is_named_in_the_error() {
        let missing = read_ca_file("/nonexistent/ca.pem").unwrap_err().to_string();
        assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
        let dir = std::env::temp_dir().join(format!("drifta-ca-{}", std::process::id()));
        std::fs::write(&dir, "not a certificate\n").unwrap();
        let empty = read_ca_file(dir.to_str().unwrap()).unwrap_err().to_string();
        std::fs::remove_file(&dir).ok();
        assert!(empty.contains("no certificate"), "{empty}");
    }
}
