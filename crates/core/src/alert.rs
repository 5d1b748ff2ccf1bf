//! Alert rules: where a municipality's monitoring alerts go, which states each
//! destination hears about, how long an escalation waits, and how often a failed
//! delivery is retried.
//!
//! # One alert per incident
//!
//! An *incident* starts when a monitor leaves a healthy state for a problem state
//! (degraded or down) and ends when it is healthy again. Each route gets at most one
//! problem alert and one recovery alert per incident, whatever the number of failed
//! checks or problem-to-problem changes in between: the store keys the queued alert by
//! route, monitor, incident start and kind, so a second insert is a no-op.
//!
//! # Escalation
//!
//! A route with a delay (say 30 minutes to the head of IT's phone) is an escalation
//! step: its alert waits until the delay has passed and is dropped if by then the
//! incident is over or somebody has taken the outage ticket (it has an assignee). A
//! route without delay hears at once.

use serde::{Deserialize, Serialize};

use crate::monitor::MonitorState;
use crate::validate::{self, FieldError};

/// How an alert travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Webhook,
    Sms,
}

/// The body a webhook receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// Drifta's own JSON document (event, monitor, municipality, state, reason, text).
    Generic,
    /// `{"text": …}`, which Slack incoming webhooks (and Mattermost, Rocket.Chat) accept.
    Slack,
    /// A MessageCard, which Microsoft Teams incoming webhooks accept.
    Teams,
}

/// Whether an alert says something broke or that it works again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Problem,
    Recovery,
}

macro_rules! codes {
    ($ty:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        impl $ty {
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $code),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($code => Some($ty::$variant),)+ _ => None }
            }
        }
    };
}
codes!(Channel { Email => "email", Webhook => "webhook", Sms => "sms" });
codes!(WebhookFormat { Generic => "generic", Slack => "slack", Teams => "teams" });
codes!(AlertKind { Problem => "problem", Recovery => "recovery" });

/// The least severe state a route hears about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// Degraded and down (slow services, sites on their backup link, certificates
    /// about to expire).
    Degraded,
    /// Down only.
    Down,
}
codes!(Threshold { Degraded => "degraded", Down => "down" });

impl Threshold {
    /// Whether a monitor entering `state` concerns a route with this threshold.
    pub const fn wants(self, state: MonitorState) -> bool {
        match self {
            Threshold::Degraded => state.is_problem(),
            Threshold::Down => matches!(state, MonitorState::Down),
        }
    }
}

/// Longest escalation delay: a step later than a day is a report, not an alert.
pub const MAX_DELAY_MINUTES: i64 = 24 * 60;

/// A route as a person entered it, checked and normalised by [`RouteInput::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteInput {
    pub channel: String,
    pub target: String,
    pub format: String,
    pub threshold: String,
    pub delay_minutes: String,
}

/// A valid route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub channel: Channel,
    /// An e-mail address, a webhook URL or a phone number in international form.
    pub target: String,
    pub format: WebhookFormat,
    pub threshold: Threshold,
    pub delay_minutes: i64,
}

impl RouteInput {
    /// Every problem with the input, field by field (empty when valid).
    pub fn validate(&self) -> Result<Route, Vec<FieldError>> {
        let mut problems = Vec::new();
        let channel = Channel::parse(self.channel.trim());
        if channel.is_none() {
            problems.push(FieldError::new(
                "channel",
                "alert-channel-invalid",
                "must be email, webhook or sms",
            ));
        }
        let target = match channel {
            Some(Channel::Email) => validate::email(&self.target).map_err(|e| FieldError {
                field: "target",
                ..e
            }),
            Some(Channel::Webhook) => webhook_url(&self.target),
            Some(Channel::Sms) => phone_number(&self.target),
            None => Ok(String::new()),
        };
        let target = target.unwrap_or_else(|e| {
            problems.push(e);
            String::new()
        });
        let format = match self.format.trim() {
            "" => Some(WebhookFormat::Generic),
            text => WebhookFormat::parse(text),
        };
        if format.is_none() {
            problems.push(FieldError::new(
                "format",
                "alert-format-invalid",
                "must be generic, slack or teams",
            ));
        }
        let threshold = Threshold::parse(self.threshold.trim());
        if threshold.is_none() {
            problems.push(FieldError::new(
                "threshold",
                "alert-threshold-invalid",
                "must be degraded or down",
            ));
        }
        let delay = match self.delay_minutes.trim() {
            "" => Some(0),
            text => text
                .parse::<i64>()
                .ok()
                .filter(|d| (0..=MAX_DELAY_MINUTES).contains(d)),
        };
        if delay.is_none() {
            problems.push(FieldError::new(
                "delay_minutes",
                "alert-delay-invalid",
                "must be a whole number of minutes from 0 to 1440",
            ));
        }
        match (channel, format, threshold, delay) {
            (Some(channel), Some(format), Some(threshold), Some(delay_minutes))
                if problems.is_empty() =>
            {
                Ok(Route {
                    channel,
                    target,
                    format,
                    threshold,
                    delay_minutes,
                })
            }
            _ => Err(problems),
        }
    }
}

/// An http(s) URL without credentials in it. Internal addresses are allowed on purpose:
/// a municipality's chat server or alarm centre often lives on its own network.
pub fn webhook_url(input: &str) -> Result<String, FieldError> {
    let url = input.trim();
    let bad = || {
        FieldError::new(
            "target",
            "alert-webhook-invalid",
            "must be an http:// or https:// address",
        )
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty()
        || host.contains('@')
        || url.len() > 2000
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(url.to_string())
}

/// A phone number in international form: `+`, then 8 to 15 digits; spaces, dashes and
/// a leading `00` are accepted and removed. A number without country code is refused,
/// because the same digits ring different phones in Norway and Denmark.
pub fn phone_number(input: &str) -> Result<String, FieldError> {
    let bad = || {
        FieldError::new(
            "target",
            "alert-phone-invalid",
            "must be a phone number with country code, e.g. +47 912 34 567",
        )
    };
    let compact: String = input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact
        .strip_prefix('+')
        .or_else(|| compact.strip_prefix("00"))
        .ok_or_else(bad)?;
    if !(8..=15).contains(&digits.len())
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.starts_with('0')
    {
        return Err(bad());
    }
    Ok(format!("+{digits}"))
}

/// What happened, as the outbox keeps it until delivery; rendered into the recipient's
/// language only when it is sent, so a queued alert says what the catalogue says then.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub kind: AlertKind,
    pub monitor_id: String,
    pub monitor: String,
    pub municipality: String,
    pub state: MonitorState,
    pub reason: String,
    /// When the incident started (milliseconds since the epoch).
    pub since: i64,
    /// When this change happened (milliseconds since the epoch).
    pub at: i64,
    /// The municipality's zone, for showing times.
    #[serde(default)]
    pub time_zone: String,
}

/// The text of an alert in one language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

/// The JSON a webhook receives.
pub fn webhook_body(
    format: WebhookFormat,
    event: &AlertEvent,
    text: &Rendered,
) -> serde_json::Value {
    match format {
        WebhookFormat::Generic => serde_json::json!({
            "event": event.kind.as_str(),
            "monitor": { "id": event.monitor_id, "name": event.monitor },
            "municipality": event.municipality,
            "state": event.state.as_str(),
            "reason": event.reason,
            "since": millis_rfc3339(event.since),
            "at": millis_rfc3339(event.at),
            "subject": text.subject,
            "text": text.text,
        }),
        WebhookFormat::Slack => {
            serde_json::json!({ "text": format!("*{}*\n{}", text.subject, text.text) })
        }
        WebhookFormat::Teams => serde_json::json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": text.subject,
            "themeColor": match (event.kind, event.state) {
                (AlertKind::Recovery, _) => "2E7D32",
                (_, MonitorState::Down) => "C62828",
                _ => "F9A825",
            },
            "title": text.subject,
            "text": text.text,
        }),
    }
}

fn millis_rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// An SMS is one message, not a chain: longer texts are cut with an ellipsis at 160
/// characters, which every gateway sends as one part (GSM 7-bit covers æ, ø and å).
pub const SMS_MAX_CHARS: usize = 160;

pub fn sms_text(text: &Rendered) -> String {
    let full = format!("{}: {}", text.subject, text.text);
    if full.chars().count() <= SMS_MAX_CHARS {
        return full;
    }
    let mut cut: String = full.chars().take(SMS_MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Fills an SMS gateway URL template: `{to}` and `{message}` are replaced by the
/// percent-encoded number and text. Returns `None` when the template has neither, which
/// means the gateway takes a JSON POST instead.
pub fn sms_gateway_url(template: &str, to: &str, message: &str) -> Option<String> {
    if !template.contains("{to}") && !template.contains("{message}") {
        return None;
    }
    Some(
        template
            .replace("{to}", &percent_encode(to))
            .replace("{message}", &percent_encode(message)),
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Deliveries tried before an alert is marked failed: with [`retry_delay_secs`] the
/// last try is about four hours after the first, which outlasts a typical SMTP or
/// gateway outage without alerting about yesterday.
pub const MAX_ATTEMPTS: i64 = 9;

/// Seconds to wait after the `attempt`-th failed delivery (1-based): 30 s, doubling,
/// at most an hour.
pub const fn retry_delay_secs(attempt: i64) -> i64 {
    let shift = if attempt < 1 { 0 } else { attempt - 1 };
    let shift = if shift > 7 { 7 } else { shift };
    let delay = 30 * (1 << shift);
    if delay > 3600 { 3600 } else { delay }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(channel: &str, target: &str) -> RouteInput {
        RouteInput {
            channel: channel.into(),
            target: target.into(),
            format: String::new(),
            threshold: "down".into(),
            delay_minutes: String::new(),
        }
    }

    #[test]
    fn routes_are_normalised() {
        let route = input("email", " Drift@Fjordvik.Kommune.NO ")
            .validate()
            .unwrap();
        assert_eq!(route.target, "drift@fjordvik.kommune.no");
        assert_eq!(route.delay_minutes, 0);
        assert_eq!(route.format, WebhookFormat::Generic);
        let route = input("sms", "0047 912 34 567").validate().unwrap();
        assert_eq!(route.target, "+4791234567");
        let route = input("webhook", "https://chat.example/hooks/abc?x=1")
            .validate()
            .unwrap();
        assert_eq!(route.target, "https://chat.example/hooks/abc?x=1");
    }

    #[test]
    fn bad_routes_name_every_field() {
        let bad = RouteInput {
            channel: "pigeon".into(),
            target: "x".into(),
            format: "xml".into(),
            threshold: "up".into(),
            delay_minutes: "1441".into(),
        };
        let fields: Vec<_> = bad
            .validate()
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["channel", "format", "threshold", "delay_minutes"]);
        for (channel, target, code) in [
            ("email", "not an address", "email-invalid"),
            ("sms", "91234567", "alert-phone-invalid"),
            ("sms", "+47 12", "alert-phone-invalid"),
            ("sms", "+47 9123x567", "alert-phone-invalid"),
            ("webhook", "ftp://x", "alert-webhook-invalid"),
            ("webhook", "https://user:pw@x/", "alert-webhook-invalid"),
            ("webhook", "https:///path", "alert-webhook-invalid"),
        ] {
            let errors = input(channel, target).validate().unwrap_err();
            assert_eq!(errors.len(), 1, "{channel} {target}");
            assert_eq!(
                (errors[0].field, errors[0].code),
                ("target", code),
                "{target}"
            );
        }
        let errors = RouteInput {
            delay_minutes: "-5".into(),
            ..input("email", "a@b.no")
        }
        .validate()
        .unwrap_err();
        assert_eq!(errors[0].field, "delay_minutes");
    }

    #[test]
    fn thresholds() {
        assert!(Threshold::Degraded.wants(MonitorState::Degraded));
        assert!(Threshold::Degraded.wants(MonitorState::Down));
        assert!(!Threshold::Down.wants(MonitorState::Degraded));
        assert!(Threshold::Down.wants(MonitorState::Down));
        for state in [
            MonitorState::Up,
            MonitorState::Paused,
            MonitorState::Maintenance,
        ] {
            assert!(!Threshold::Degraded.wants(state));
            assert!(!Threshold::Down.wants(state));
        }
    }

    fn event(kind: AlertKind) -> AlertEvent {
        AlertEvent {
            kind,
            monitor_id: "m1".into(),
            monitor: "Fagsystem".into(),
            municipality: "Fjordvik".into(),
            state: MonitorState::Down,
            reason: "timeout".into(),
            since: 1_700_000_000_000,
            at: 1_700_000_060_000,
            time_zone: "Europe/Oslo".into(),
        }
    }

    #[test]
    fn webhook_bodies() {
        let text = Rendered {
            subject: "NEDE: Fagsystem".into(),
            text: "Fjordvik: timeout".into(),
        };
        let generic = webhook_body(WebhookFormat::Generic, &event(AlertKind::Problem), &text);
        assert_eq!(generic["event"], "problem");
        assert_eq!(generic["state"], "down");
        assert_eq!(generic["since"], "2023-11-14T22:13:20Z");
        assert_eq!(generic["monitor"]["name"], "Fagsystem");
        let slack = webhook_body(WebhookFormat::Slack, &event(AlertKind::Problem), &text);
        assert_eq!(
            slack,
            serde_json::json!({"text": "*NEDE: Fagsystem*\nFjordvik: timeout"})
        );
        let teams = webhook_body(WebhookFormat::Teams, &event(AlertKind::Recovery), &text);
        assert_eq!(teams["@type"], "MessageCard");
        assert_eq!(teams["themeColor"], "2E7D32");
        assert_eq!(teams["title"], "NEDE: Fagsystem");
    }

    #[test]
    fn sms_is_one_part() {
        let short = Rendered {
            subject: "NEDE: Fagsystem".into(),
            text: "tidsavbrudd".into(),
        };
        assert_eq!(sms_text(&short), "NEDE: Fagsystem: tidsavbrudd");
        let long = Rendered {
            subject: "NEDE".into(),
            text: "ø".repeat(400),
        };
        let sms = sms_text(&long);
        assert_eq!(sms.chars().count(), SMS_MAX_CHARS);
        assert!(sms.ends_with('…'));
    }

    #[test]
    fn gateway_templates() {
        assert_eq!(
            sms_gateway_url(
                "https://sms.example/send?to={to}&msg={message}",
                "+4791234567",
                "Nede: ø&x"
            )
            .unwrap(),
            "https://sms.example/send?to=%2B4791234567&msg=Nede%3A%20%C3%B8%26x"
        );
        assert_eq!(sms_gateway_url("https://sms.example/api", "+47", "x"), None);
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        let delays: Vec<_> = (1..=MAX_ATTEMPTS).map(retry_delay_secs).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(retry_delay_secs(0), 30);
        assert_eq!(retry_delay_secs(500), 3600);
        let total: i64 = delays[..delays.len() - 1].iter().sum();
        assert!((2 * 3600..3 * 3600).contains(&total), "{total}");
    }
}
