//! The alert sender: claims due messages from the outbox, delivers them by e-mail
//! (SMTP), webhook or SMS gateway, and records how each went. Several nodes may run it
//! at once; the outbox's leases keep them from sending the same message twice, and a
//! node that dies mid-way leaves messages that another node sends once the lease runs out.
//!
//! What a message says is rendered at send time by a [`Renderer`] the caller supplies
//! (the web crate's translation catalogue), in the language of the route.

use drifta_core::Language;
use drifta_core::alert::{self, AlertEvent, Channel, Rendered};
use drifta_core::notify::{self, TicketMail};
use drifta_store::{Delivery, OutboxMessage, Payload, Store};
use lettre::message::{Mailbox, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Turns an event into text in one language.
pub type Renderer = Arc<dyn Fn(&AlertEvent, Language) -> Rendered + Send + Sync>;
/// Turns mail about a ticket into text in one language.
pub type TicketRenderer = Arc<dyn Fn(&TicketMail, Language) -> Rendered + Send + Sync>;

/// Outgoing mail.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// `smtp://host:25` (plain, for a local relay), `smtp://host:587?tls=required`
    /// (STARTTLS) or `smtps://user:password@host:465` (TLS).
    pub url: String,
    /// The sender, e.g. `Drifta <drift@provider.no>`.
    pub from: String,
    /// Certificate authorities (DER) trusted besides the public ones, for a relay with an
    /// internal CA (`mail_ca_file`).
    pub extra_roots: Vec<Vec<u8>>,
}

/// An SMS gateway reached over HTTP.
#[derive(Clone, Debug)]
pub struct SmsGateway {
    /// With `{to}` and `{message}` in it, a GET with both filled in; otherwise a POST of
    /// `{"to": …, "message": …}`.
    pub url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub token: Option<String>,
}

/// How the sender runs.
#[derive(Clone)]
pub struct AlertConfig {
    pub node_id: String,
    pub smtp: Option<SmtpConfig>,
    pub sms: Option<SmsGateway>,
    pub render: Renderer,
    /// For mail about tickets; without it such mail fails with the reason.
    pub render_ticket: Option<TicketRenderer>,
    /// How often the outbox is looked at when it was empty.
    pub poll_every: Duration,
    /// How long a claimed message stays with this node.
    pub lease: Duration,
    /// Longest wait for one delivery.
    pub timeout: Duration,
}

impl AlertConfig {
    pub fn new(node_id: impl Into<String>, render: Renderer) -> Self {
        AlertConfig {
            node_id: node_id.into(),
            smtp: None,
            sms: None,
            render,
            render_ticket: None,
            poll_every: Duration::from_secs(2),
            lease: Duration::from_secs(120),
            timeout: Duration::from_secs(20),
        }
    }
}

/// Why a configuration cannot work; reported at start-up.
#[derive(Debug, thiserror::Error)]
pub enum AlertConfigError {
    #[error(
        "smtp_url: {0}. Use smtp://host:25, smtp://host:587?tls=required or smtps://user:password@host:465"
    )]
    SmtpUrl(String),
    #[error(
        "mail_from: {0}. Use an address such as drift@provider.no or \"Drifta <drift@provider.no>\""
    )]
    From(String),
    #[error("cannot start the HTTP client for webhooks: {0}")]
    Http(String),
}

/// The TLS mode `smtp_url` asks for, trusting `roots` as well as the public authorities;
/// `None` when there are no extra roots or the URL asks for no TLS.
fn tls_with_roots(
    url: &str,
    roots: &[Vec<u8>],
) -> Result<Option<lettre::transport::smtp::client::Tls>, AlertConfigError> {
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    if roots.is_empty() {
        return Ok(None);
    }
    let bad = |e: lettre::transport::smtp::Error| AlertConfigError::SmtpUrl(e.to_string());
    let parsed = reqwest::Url::parse(url).map_err(|e| AlertConfigError::SmtpUrl(e.to_string()))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| AlertConfigError::SmtpUrl("it names no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let mut params = TlsParameters::builder(host.to_string());
    for der in roots {
        params = params.add_root_certificate(Certificate::from_der(der.clone()).map_err(bad)?);
    }
    let params = params.build_rustls().map_err(bad)?;
    let tls = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    Ok(if parsed.scheme() == "smtps" {
        Some(Tls::Wrapper(params))
    } else if tls.as_deref() == Some("required") {
        Some(Tls::Required(params))
    } else if tls.as_deref() == Some("opportunistic") {
        Some(Tls::Opportunistic(params))
    } else {
        None
    })
}

struct Sender {
    store: Store,
    config: AlertConfig,
    http: reqwest::Client,
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
}

pub struct AlertHandle {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl AlertHandle {
    /// Stops after the deliveries in flight.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Checks the configuration and starts the sender.
pub fn spawn(store: Store, config: AlertConfig) -> Result<AlertHandle, AlertConfigError> {
    let smtp = match &config.smtp {
        Some(smtp) => {
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
                .map_err(|e| AlertConfigError::SmtpUrl(e.to_string()))?
                .timeout(Some(config.timeout));
            if let Some(tls) = tls_with_roots(&smtp.url, &smtp.extra_roots)? {
                builder = builder.tls(tls);
            }
            let transport = builder.build();
            let from: Mailbox = smtp
                .from
                .parse()
                .map_err(|e: lettre::address::AddressError| {
                    AlertConfigError::From(e.to_string())
                })?;
            Some((transport, from))
        }
        None => {
            // Said once here; each undelivered mail is then logged at debug only, or an
            // installation without mail (the demo) logged a warning for every ticket event.
            tracing::warn!(
                "smtp_url is not set: ticket and alert e-mail is recorded as not sent (shown on the ticket and the alerts page)"
            );
            None
        }
    };
    let http = reqwest::Client::builder()
        .timeout(config.timeout)
        .user_agent(concat!("drifta/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AlertConfigError::Http(e.to_string()))?;
    let (shutdown, mut shutdown_rx) = watch::channel(false);
    let sender = Arc::new(Sender {
        store,
        config,
        http,
        smtp,
    });
    let task = tokio::spawn(async move {
        let mut last_sla_sweep: Option<tokio::time::Instant> = None;
        loop {
            if last_sla_sweep.is_none_or(|at| at.elapsed() >= SLA_SWEEP_EVERY) {
                last_sla_sweep = Some(tokio::time::Instant::now());
                sla_sweep(&sender.store).await;
            }
            // New tickets first, so their mail goes out in this very round.
            if let Err(e) = sender.store.send_new_ticket_mail(100).await {
                tracing::warn!(error = %e, "new-ticket mail could not be queued");
            }
            let busy = sender.clone().round().await;
            if *shutdown_rx.borrow() {
                break;
            }
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(sender.config.poll_every) => {}
                    _ = shutdown_rx.changed() => break,
                }
            }
        }
    });
    Ok(AlertHandle { shutdown, task })
}

/// How often SLA warnings and breaches are looked for. The mail they queue goes out with
/// the round that follows; every node sweeps, and the store lets one of them tell each.
const SLA_SWEEP_EVERY: Duration = Duration::from_secs(60);

/// One SLA sweep. A failure is logged and the next sweep, a minute later, tries again:
/// it finds whatever this one missed, since nothing was recorded as told.
async fn sla_sweep(store: &Store) {
    match store.sla_notify_sweep(store.now_ms()).await {
        Ok(0) => {}
        Ok(mails) => tracing::info!(mails, "SLA warnings and breaches queued for mail"),
        Err(e) => tracing::warn!(error = %e, "SLA sweep failed; retrying in a minute"),
    }
}

/// Messages claimed per round; a burst (a site's switch takes 40 monitors down) goes out
/// in a few rounds, each delivery concurrent.
const BATCH: i64 = 50;

impl Sender {
    /// One round: claim, deliver concurrently, record. True when the batch was full, so
    /// the next round should start at once.
    async fn round(self: Arc<Self>) -> bool {
        let lease = i64::try_from(self.config.lease.as_millis()).unwrap_or(120_000);
        let messages = match self
            .store
            .claim_outbox(&self.config.node_id, BATCH, lease)
            .await
        {
            Ok(messages) => messages,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the alert outbox");
                return false;
            }
        };
        let full = messages.len() as i64 == BATCH;
        let mut tasks = tokio::task::JoinSet::new();
        for message in messages {
            let sender = self.clone();
            tasks.spawn(async move {
                let outcome = sender.deliver(&message).await;
                match &outcome {
                    Delivery::Sent => {
                        tracing::info!(id = %message.id, channel = message.channel.as_str(), "alert sent")
                    }
                    Delivery::Failed(why)
                        if message.channel == Channel::Email && sender.smtp.is_none() =>
                    {
                        tracing::debug!(id = %message.id, reason = %why, "e-mail not sent")
                    }
                    Delivery::Retry(why) | Delivery::Failed(why) => {
                        tracing::warn!(id = %message.id, channel = message.channel.as_str(), reason = %why, "alert not delivered")
                    }
                    Delivery::Cancelled(_) => {}
                }
                if let Err(e) = sender
                    .store
                    .finish_outbox(&message.id, &sender.config.node_id, outcome)
                    .await
                {
                    tracing::warn!(error = %e, id = %message.id, "could not record an alert delivery; it will be sent again when its lease runs out");
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        full
    }

    async fn deliver(&self, message: &OutboxMessage) -> Delivery {
        if message.escalation {
            match self.store.escalation_wanted(message).await {
                Ok(true) => {}
                Ok(false) => {
                    return Delivery::Cancelled(
                        "the incident ended or its ticket was taken before the escalation".into(),
                    );
                }
                Err(e) => return Delivery::Retry(format!("could not check the incident: {e}")),
            }
        }
        let event = match &message.payload {
            Payload::Alert(event) => event,
            Payload::Ticket(mail) => return self.ticket_mail(message, mail).await,
        };
        let text = (self.config.render)(event, message.lang);
        match message.channel {
            Channel::Email => self.email(message, &text, None).await,
            Channel::Webhook => {
                let body = alert::webhook_body(message.format, event, &text);
                self.http_result(self.http.post(&message.target).json(&body).send().await)
            }
            Channel::Sms => self.sms(message, &text).await,
        }
    }

    /// Mail about a ticket: the ticket reference in the subject (from the catalogue) and
    /// threading headers that tie every mail of the ticket into one conversation.
    async fn ticket_mail(&self, message: &OutboxMessage, mail: &TicketMail) -> Delivery {
        let Some(render) = &self.config.render_ticket else {
            return Delivery::Failed("ticket mail cannot be rendered on this node".into());
        };
        let text = render(mail, message.lang);
        self.email(message, &text, Some(&mail.ticket_id)).await
    }

    async fn email(
        &self,
        message: &OutboxMessage,
        text: &Rendered,
        ticket: Option<&str>,
    ) -> Delivery {
        let Some((transport, from)) = &self.smtp else {
            return Delivery::Failed("e-mail is not configured: set smtp_url and mail_from".into());
        };
        let to: Mailbox = match message.target.parse() {
            Ok(to) => to,
            Err(e) => return Delivery::Failed(format!("bad address {}: {e}", message.target)),
        };
        let domain = notify::sender_domain(from.email.as_ref()).to_string();
        let mut email = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(text.subject.as_str())
            // RFC 3834: tells auto-responders (and Drifta's own mail intake) not to answer.
            .header(AutoSubmitted)
            // Our own Message-ID (the outbox row's): a reply or bounce names it, so it can
            // be traced to what was sent.
            .message_id(Some(format!("<{}@{domain}>", message.id)));
        if let Some(ticket) = ticket {
            let root = notify::thread_root(ticket, &domain);
            email = email.in_reply_to(root.clone()).references(root);
        }
        let email = email.singlepart(SinglePart::plain(text.text.clone()));
        let email = match email {
            Ok(email) => email,
            Err(e) => return Delivery::Failed(format!("cannot build the message: {e}")),
        };
        match transport.send(email).await {
            Ok(_) => Delivery::Sent,
            Err(e) if e.is_permanent() => Delivery::Failed(e.to_string()),
            Err(e) => Delivery::Retry(e.to_string()),
        }
    }

    async fn sms(&self, message: &OutboxMessage, text: &Rendered) -> Delivery {
        let Some(gateway) = &self.config.sms else {
            return Delivery::Failed("SMS is not configured: set sms_gateway_url".into());
        };
        let body = alert::sms_text(text);
        let request = match alert::sms_gateway_url(&gateway.url, &message.target, &body) {
            Some(url) => self.http.get(url),
            None => self
                .http
                .post(&gateway.url)
                .json(&serde_json::json!({ "to": message.target, "message": body })),
        };
        let request = match &gateway.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        self.http_result(request.send().await)
    }

    /// 2xx is delivered; 408, 429 and 5xx may pass; other answers will not change by waiting.
    fn http_result(&self, result: reqwest::Result<reqwest::Response>) -> Delivery {
        match result {
            Ok(response) if response.status().is_success() => Delivery::Sent,
            Ok(response) => {
                let status = response.status();
                let why = format!("the receiver answered HTTP {status}");
                if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
                    Delivery::Retry(why)
                } else {
                    Delivery::Failed(why)
                }
            }
            Err(e) => Delivery::Retry(describe(&e)),
        }
    }
}

/// reqwest's top-level message ("error sending request") hides the cause people need.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Auto-Submitted: auto-generated` (RFC 3834).
#[derive(Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-generated".into())
    }
}
