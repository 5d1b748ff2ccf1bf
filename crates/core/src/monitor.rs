//! Monitoring rules: what a check result means for a monitor's state, when an
//! outage counts as confirmed, when alerts are held back, when a job that
//! reports in (a backup) is late, when maintenance is going on, and how
//! results are rolled up per minute for uptime figures.
//!
//! The engine around this module probes services, receives heartbeat pings
//! and stores results. Everything here is a pure function of settings,
//! observations and a caller-supplied `now`, so the rules give the same
//! answer in the engine, the web view and tests, at any instant.
//!
//! Results stay in memory: the database gets state changes ([`Transition`])
//! and per-minute roll-ups ([`MinuteRollup`]), never one row per check, so a
//! small SQLite server copes with hundreds of monitors at short intervals.
//!
//! # Alerting in one paragraph
//!
//! A failed check is confirmed as an outage only after `retries + 1` failures
//! in a row, because single timeouts on municipal networks are common and
//! waking someone for them teaches people to ignore alerts. Each confirmed
//! outage gets an [`IncidentId`] that stays the same until the monitor is up
//! again, so the engine opens one ticket per outage and adds a note on
//! recovery. A monitor that keeps changing state is *flapping*: its last
//! announced state is held and one transition is emitted when it settles.
//! During maintenance everything is still tracked, but transitions are
//! `silenced`; a problem that outlasts the window is announced afterwards.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

// ---- Kinds and states --------------------------------------------------------

/// What a monitor checks.
///
/// Serialised in snake_case because that is what the JSON API and stored
/// settings use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorKind {
    /// An HTTP(S) request that must answer with a success status.
    Http,
    /// A TCP connection to a host and port.
    Tcp,
    /// An ICMP echo (ping) to a host.
    Icmp,
    /// A DNS lookup that must resolve.
    Dns,
    /// The remaining validity of a TLS certificate; degraded when it expires soon.
    TlsExpiry,
    /// A job, typically a backup, that reports in; nothing is probed.
    Heartbeat,
}

/// What a monitor's status shows.
///
/// `Paused` and `Maintenance` are modes chosen by people rather than results
/// of checks; [`Transition`]s between checked states only use `Up`,
/// `Degraded` and `Down`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorState {
    /// Checks succeed.
    Up,
    /// Reachable but slow, or otherwise not quite right (e.g. a certificate
    /// about to expire): worth a warning, not a ticket.
    Degraded,
    /// A confirmed outage.
    Down,
    /// Someone turned monitoring off; nothing is checked or alerted.
    Paused,
    /// Inside a maintenance window: still checked, never alerted.
    Maintenance,
}

macro_rules! codes {
    ($t:ty { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            /// Every value, for pickers and exhaustive tests.
            pub const ALL: &'static [$t] = &[$(<$t>::$v),+];

            /// The same name serde uses, for storage columns and URLs that
            /// should not depend on a JSON round trip.
            pub const fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),+ }
            }

            /// The inverse of `as_str`; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($s => Some(<$t>::$v),)+ _ => None }
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

codes!(MonitorKind {
    Http => "http",
    Tcp => "tcp",
    Icmp => "icmp",
    Dns => "dns",
    TlsExpiry => "tls_expiry",
    Heartbeat => "heartbeat",
});
codes!(MonitorState {
    Up => "up",
    Degraded => "degraded",
    Down => "down",
    Paused => "paused",
    Maintenance => "maintenance",
});

impl MonitorKind {
    /// Whether Drifta probes the target itself; heartbeats wait to be told.
    pub const fn is_active(self) -> bool {
        !matches!(self, MonitorKind::Heartbeat)
    }

    /// The shortest interval (heartbeat period) allowed for this kind.
    pub const fn minimum_interval(self) -> SignedDuration {
        if self.is_active() {
            MIN_CHECK_INTERVAL
        } else {
            MIN_HEARTBEAT_PERIOD
        }
    }
}

impl MonitorState {
    /// Something is wrong that people may need to hear about.
    pub const fn is_problem(self) -> bool {
        matches!(self, MonitorState::Degraded | MonitorState::Down)
    }
}

/// The part a monitored network link plays at its site. When a site's primary link
/// (fibre) is down but its backup (4G/5G) is up, the site still works, slowly and at a
/// cost: the primary link's monitor shows *degraded*, not *down*, until the backup fails
/// too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkRole {
    Primary,
    Backup,
}

impl LinkRole {
    /// What a primary link's monitor shows: `measured`, except that down with a working
    /// backup at the same site is degraded.
    pub fn shown(measured: MonitorState, role: Option<LinkRole>, backup_up: bool) -> MonitorState {
        match (measured, role) {
            (MonitorState::Down, Some(LinkRole::Primary)) if backup_up => MonitorState::Degraded,
            _ => measured,
        }
    }
}

// ---- Settings ----------------------------------------------------------------

/// Shortest interval between active checks. Shorter intervals would mostly
/// measure the monitor itself and put load on small municipal servers.
pub const MIN_CHECK_INTERVAL: SignedDuration = SignedDuration::from_secs(20);
/// Shortest heartbeat period: jobs that report in run from cron, which has
/// one-minute resolution.
pub const MIN_HEARTBEAT_PERIOD: SignedDuration = SignedDuration::from_secs(60);
/// Longest interval or heartbeat period: a check that runs less than daily
/// cannot support any uptime promise.
pub const MAX_INTERVAL: SignedDuration = SignedDuration::from_hours(24);
/// Most retries before an outage is confirmed; more would hide real outages
/// for too long at any interval.
pub const MAX_RETRIES: u8 = 10;
/// Shortest heartbeat grace: pings from cron jobs are never exactly on time.
pub const MIN_GRACE: SignedDuration = SignedDuration::from_secs(60);
/// Longest heartbeat grace.
pub const MAX_GRACE: SignedDuration = SignedDuration::from_hours(24);
/// Longest flap-damping window; older changes say nothing about flapping now.
pub const MAX_FLAP_WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);
/// Fewest changes a flap threshold may allow: with one, every ordinary
/// outage and its recovery would already count as flapping.
pub const MIN_FLAP_CHANGES: u8 = 2;
/// Most changes a flap threshold may allow.
pub const MAX_FLAP_CHANGES: u8 = 20;

/// When a monitor counts as flapping: more than `max_changes` state changes
/// within `window`.
///
/// Flapping ends (the monitor has settled) once at most half of
/// `max_changes` (rounded down) changes remain within the window. The gap
/// between the two thresholds keeps a monitor near the limit from entering
/// and leaving the flapping state at every check, which would be exactly the
/// noise damping is meant to prevent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlapDamping {
    /// How far back state changes are counted.
    pub window: SignedDuration,
    /// More changes than this within `window` means flapping.
    pub max_changes: u8,
}

impl Default for FlapDamping {
    /// Five changes within half an hour: at a one-minute interval a real
    /// outage and its recovery are two changes, so this only catches a
    /// service that is genuinely unstable.
    fn default() -> Self {
        FlapDamping {
            window: SignedDuration::from_mins(30),
            max_changes: 4,
        }
    }
}

/// Settings of an active check (everything but heartbeats).
///
/// The fields are public so forms can fill them in; [`MonitorTracker::new`]
/// refuses settings that do not pass [`CheckSettings::validate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CheckSettings {
    /// Time between checks.
    pub interval: SignedDuration,
    /// How long one check may take before it fails.
    pub timeout: SignedDuration,
    /// Failed checks tolerated before the monitor is declared down: it goes
    /// down at the `retries + 1`-th failure in a row.
    pub retries: u8,
    /// A successful check slower than this many milliseconds makes the
    /// monitor degraded; `None` never degrades on latency.
    pub degraded_above_ms: Option<u32>,
    /// Flap damping; `None` announces every change.
    pub flap: Option<FlapDamping>,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            interval: SignedDuration::from_secs(60),
            timeout: SignedDuration::from_secs(10),
            retries: 2,
            degraded_above_ms: None,
            flap: Some(FlapDamping::default()),
        }
    }
}

/// Settings of a heartbeat monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HeartbeatSettings {
    /// How often the job is expected to report success.
    pub period: SignedDuration,
    /// How late a success may be, and how long a started job may run,
    /// before the monitor goes down.
    pub grace: SignedDuration,
}

impl Default for HeartbeatSettings {
    /// A nightly backup that may be an hour late.
    fn default() -> Self {
        HeartbeatSettings {
            period: SignedDuration::from_hours(24),
            grace: SignedDuration::from_hours(1),
        }
    }
}

/// A setting that cannot be used, naming the field so the form can point at it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The interval is below [`MIN_CHECK_INTERVAL`].
    #[error("interval {interval:#} is shorter than the minimum of {minimum:#}")]
    IntervalTooShort {
        /// As given.
        interval: SignedDuration,
        /// The minimum for active checks.
        minimum: SignedDuration,
    },
    /// The interval is above [`MAX_INTERVAL`].
    #[error("interval {interval:#} is longer than the maximum of {maximum:#}")]
    IntervalTooLong {
        /// As given.
        interval: SignedDuration,
        /// The maximum.
        maximum: SignedDuration,
    },
    /// A zero or negative timeout.
    #[error("timeout {timeout:#} must be longer than zero")]
    TimeoutNotPositive {
        /// As given.
        timeout: SignedDuration,
    },
    /// A timeout that does not end before the next check is due, so checks
    /// would overlap.
    #[error("timeout {timeout:#} must be shorter than the interval {interval:#}")]
    TimeoutNotBelowInterval {
        /// As given.
        timeout: SignedDuration,
        /// The interval it must stay below.
        interval: SignedDuration,
    },
    /// More retries than [`MAX_RETRIES`].
    #[error("retries {retries} is more than the maximum of {maximum}")]
    TooManyRetries {
        /// As given.
        retries: u8,
        /// The maximum.
        maximum: u8,
    },
    /// A latency threshold of 0 ms, which would make every check degraded.
    #[error("latency threshold must be at least 1 ms")]
    LatencyThresholdZero,
    /// A latency threshold that no successful check can exceed, because
    /// slower checks time out and fail.
    #[error(
        "latency threshold {threshold_ms} ms must be below the timeout {timeout:#}, or no check could ever exceed it"
    )]
    LatencyThresholdNotBelowTimeout {
        /// As given.
        threshold_ms: u32,
        /// The timeout.
        timeout: SignedDuration,
    },
    /// A flap window that is not positive or is above [`MAX_FLAP_WINDOW`].
    #[error("flap window {window:#} must be longer than zero and at most {maximum:#}")]
    FlapWindowOutOfRange {
        /// As given.
        window: SignedDuration,
        /// The maximum.
        maximum: SignedDuration,
    },
    /// A flap threshold outside [`MIN_FLAP_CHANGES`]..=[`MAX_FLAP_CHANGES`].
    #[error(
        "flap threshold of {max_changes} changes is outside {}..={}",
        MIN_FLAP_CHANGES,
        MAX_FLAP_CHANGES
    )]
    FlapChangesOutOfRange {
        /// As given.
        max_changes: u8,
    },
    /// A flap window in which `max_changes + 1` changes can never happen,
    /// since changes are at least one interval apart: damping that could
    /// never trigger is a configuration mistake, not a choice.
    #[error(
        "flap window {window:#} can never hold more than {max_changes} changes at an interval of {interval:#}; it must be longer than {needed:#}"
    )]
    FlapWindowTooShort {
        /// As given.
        window: SignedDuration,
        /// The check interval.
        interval: SignedDuration,
        /// The flap threshold.
        max_changes: u8,
        /// `interval × max_changes`, which the window must exceed.
        needed: SignedDuration,
    },
    /// A heartbeat period below [`MIN_HEARTBEAT_PERIOD`].
    #[error("period {period:#} is shorter than the minimum of {minimum:#}")]
    PeriodTooShort {
        /// As given.
        period: SignedDuration,
        /// The minimum for heartbeats.
        minimum: SignedDuration,
    },
    /// A heartbeat period above [`MAX_INTERVAL`].
    #[error("period {period:#} is longer than the maximum of {maximum:#}")]
    PeriodTooLong {
        /// As given.
        period: SignedDuration,
        /// The maximum.
        maximum: SignedDuration,
    },
    /// A heartbeat grace outside [`MIN_GRACE`]..=[`MAX_GRACE`].
    #[error("grace {grace:#} must be between {minimum:#} and {maximum:#}")]
    GraceOutOfRange {
        /// As given.
        grace: SignedDuration,
        /// The minimum.
        minimum: SignedDuration,
        /// The maximum.
        maximum: SignedDuration,
    },
}

impl SettingsError {
    /// The form field at fault, as named in [`CheckSettings`] and
    /// [`HeartbeatSettings`] (`flap_window` and `flap_max_changes` for the
    /// parts of [`FlapDamping`]).
    pub const fn field(&self) -> &'static str {
        match self {
            SettingsError::IntervalTooShort { .. } | SettingsError::IntervalTooLong { .. } => {
                "interval"
            }
            SettingsError::TimeoutNotPositive { .. }
            | SettingsError::TimeoutNotBelowInterval { .. } => "timeout",
            SettingsError::TooManyRetries { .. } => "retries",
            SettingsError::LatencyThresholdZero
            | SettingsError::LatencyThresholdNotBelowTimeout { .. } => "degraded_above_ms",
            SettingsError::FlapWindowOutOfRange { .. }
            | SettingsError::FlapWindowTooShort { .. } => "flap_window",
            SettingsError::FlapChangesOutOfRange { .. } => "flap_max_changes",
            SettingsError::PeriodTooShort { .. } | SettingsError::PeriodTooLong { .. } => "period",
            SettingsError::GraceOutOfRange { .. } => "grace",
        }
    }
}

fn first(problems: Vec<SettingsError>) -> Result<(), SettingsError> {
    problems.into_iter().next().map_or(Ok(()), Err)
}

impl CheckSettings {
    /// Every problem with these settings, in field order, so a form can mark
    /// all faulty fields at once.
    pub fn problems(&self) -> Vec<SettingsError> {
        let mut problems = Vec::new();
        if self.interval < MIN_CHECK_INTERVAL {
            problems.push(SettingsError::IntervalTooShort {
                interval: self.interval,
                minimum: MIN_CHECK_INTERVAL,
            });
        } else if self.interval > MAX_INTERVAL {
            problems.push(SettingsError::IntervalTooLong {
                interval: self.interval,
                maximum: MAX_INTERVAL,
            });
        }
        if !self.timeout.is_positive() {
            problems.push(SettingsError::TimeoutNotPositive {
                timeout: self.timeout,
            });
        } else if self.timeout >= self.interval {
            problems.push(SettingsError::TimeoutNotBelowInterval {
                timeout: self.timeout,
                interval: self.interval,
            });
        }
        if self.retries > MAX_RETRIES {
            problems.push(SettingsError::TooManyRetries {
                retries: self.retries,
                maximum: MAX_RETRIES,
            });
        }
        match self.degraded_above_ms {
            Some(0) => problems.push(SettingsError::LatencyThresholdZero),
            Some(threshold_ms)
                if self.timeout.is_positive()
                    && i128::from(threshold_ms) >= self.timeout.as_millis() =>
            {
                problems.push(SettingsError::LatencyThresholdNotBelowTimeout {
                    threshold_ms,
                    timeout: self.timeout,
                });
            }
            _ => {}
        }
        if let Some(flap) = self.flap {
            let window_ok = flap.window.is_positive() && flap.window <= MAX_FLAP_WINDOW;
            let changes_ok = (MIN_FLAP_CHANGES..=MAX_FLAP_CHANGES).contains(&flap.max_changes);
            if !window_ok {
                problems.push(SettingsError::FlapWindowOutOfRange {
                    window: flap.window,
                    maximum: MAX_FLAP_WINDOW,
                });
            }
            if !changes_ok {
                problems.push(SettingsError::FlapChangesOutOfRange {
                    max_changes: flap.max_changes,
                });
            }
            if window_ok && changes_ok {
                let needed = self
                    .interval
                    .checked_mul(i32::from(flap.max_changes))
                    .unwrap_or(SignedDuration::MAX);
                if flap.window <= needed {
                    problems.push(SettingsError::FlapWindowTooShort {
                        window: flap.window,
                        interval: self.interval,
                        max_changes: flap.max_changes,
                        needed,
                    });
                }
            }
        }
        problems
    }

    /// The first of [`CheckSettings::problems`], if any.
    pub fn validate(&self) -> Result<(), SettingsError> {
        first(self.problems())
    }
}

impl HeartbeatSettings {
    /// Every problem with these settings, in field order.
    pub fn problems(&self) -> Vec<SettingsError> {
        let mut problems = Vec::new();
        if self.period < MIN_HEARTBEAT_PERIOD {
            problems.push(SettingsError::PeriodTooShort {
                period: self.period,
                minimum: MIN_HEARTBEAT_PERIOD,
            });
        } else if self.period > MAX_INTERVAL {
            problems.push(SettingsError::PeriodTooLong {
                period: self.period,
                maximum: MAX_INTERVAL,
            });
        }
        if self.grace < MIN_GRACE || self.grace > MAX_GRACE {
            problems.push(SettingsError::GraceOutOfRange {
                grace: self.grace,
                minimum: MIN_GRACE,
                maximum: MAX_GRACE,
            });
        }
        problems
    }

    /// The first of [`HeartbeatSettings::problems`], if any.
    pub fn validate(&self) -> Result<(), SettingsError> {
        first(self.problems())
    }
}

// ---- Targets -----------------------------------------------------------------

/// Longest URL accepted; longer ones are almost certainly pasted by mistake.
pub const MAX_URL_LEN: usize = 2048;
/// Longest host name (RFC 1123 via RFC 1035), without a trailing dot.
pub const MAX_HOST_LEN: usize = 253;
/// Longest label of a host name.
pub const MAX_LABEL_LEN: usize = 63;

/// A monitor target that cannot be used, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct TargetError {
    /// `url`, `host` or `port`.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: TargetProblem,
}

/// What is wrong with a target. Separate from the field because the same
/// host rules apply to a bare host and to the host inside a URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetProblem {
    /// Nothing was given.
    #[error("is required")]
    Empty,
    /// Longer than allowed.
    #[error("is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Spaces or control characters in a URL.
    #[error("must not contain spaces or control characters")]
    Whitespace,
    /// A URL that does not start with `http://` or `https://`.
    #[error("must start with http:// or https://")]
    Scheme,
    /// A URL with a user name or password, which would be stored and shown
    /// in clear text; credentials belong in the monitor's secret settings.
    #[error("must not contain a user name or password")]
    Credentials,
    /// A URL without a host.
    #[error("has no host")]
    MissingHost,
    /// A character no host name may contain.
    #[error(
        "contains {found:?}; host names may only contain letters a-z, digits, hyphens and dots"
    )]
    Character {
        /// The first offending character.
        found: char,
    },
    /// An empty label (two dots in a row, a leading dot) or one over 63 characters.
    #[error("label {label:?} must be 1 to 63 characters")]
    LabelLength {
        /// The offending label.
        label: String,
    },
    /// A label that starts or ends with a hyphen.
    #[error("label {label:?} must not start or end with a hyphen")]
    LabelHyphen {
        /// The offending label.
        label: String,
    },
    /// A name whose last label is all digits: RFC 1123 keeps that form for
    /// IP addresses, so `300.1.1.1` or `010.0.0.1` are mistakes, not names.
    #[error("looks like an IP address but is not a valid one")]
    NumericTopLabel,
    /// A bracketed URL host that is not an IPv6 address.
    #[error("has brackets but no valid IPv6 address inside them")]
    Ipv6,
    /// A port that is not a number.
    #[error("port {text:?} is not a number")]
    PortNotNumber {
        /// As given.
        text: String,
    },
    /// A port outside 1–65535.
    #[error("port {value} is outside 1-65535")]
    PortOutOfRange {
        /// As given (saturated for absurdly long numbers).
        value: u64,
    },
}

impl TargetProblem {
    fn at(self, field: &'static str) -> TargetError {
        TargetError {
            field,
            problem: self,
        }
    }
}

/// An HTTP(S) URL for an `http` monitor, returned trimmed.
///
/// Deliberately minimal: the scheme must be `http://` or `https://`
/// (any case), followed by a host that passes [`host`] (or a bracketed IPv6
/// address), an optional port, and optionally a path, query or fragment,
/// which are not inspected. Full URL parsing belongs to the web layer,
/// which will use the `url` crate; this check only keeps obviously wrong
/// targets out of the monitor settings without pulling a URL parser into
/// the core.
pub fn http_url(input: &str) -> Result<String, TargetError> {
    check_http_url(input.trim()).map_err(|p| p.at("url"))
}

fn check_http_url(url: &str) -> Result<String, TargetProblem> {
    if url.is_empty() {
        return Err(TargetProblem::Empty);
    }
    if url.len() > MAX_URL_LEN {
        return Err(TargetProblem::TooLong { max: MAX_URL_LEN });
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(TargetProblem::Whitespace);
    }
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|scheme| {
            url.get(..scheme.len())
                .filter(|head| head.eq_ignore_ascii_case(scheme))
                .map(|_| &url[scheme.len()..])
        })
        .ok_or(TargetProblem::Scheme)?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err(TargetProblem::Credentials);
    }
    let port = if let Some(bracketed) = authority.strip_prefix('[') {
        let (address, after) = bracketed.split_once(']').ok_or(TargetProblem::Ipv6)?;
        address
            .parse::<Ipv6Addr>()
            .map_err(|_| TargetProblem::Ipv6)?;
        match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(TargetProblem::Ipv6)?),
        }
    } else {
        let (name, port) = match authority.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        };
        if name.is_empty() {
            return Err(TargetProblem::MissingHost);
        }
        check_host(name)?;
        port
    };
    if let Some(port) = port {
        check_port(port)?;
    }
    Ok(url.to_owned())
}

/// A host for `tcp`, `icmp` and `dns` monitors: an IPv4 or IPv6 address, or
/// a host name by RFC 1123 (letters, digits and hyphens in dot-separated
/// labels of 1–63 characters, no label starting or ending with a hyphen,
/// at most 253 characters, one trailing dot allowed).
///
/// Returned normalised: names lower-cased without the trailing dot,
/// addresses in their canonical form. International names must be given in
/// their `xn--` form, because that is what resolvers see.
pub fn host(input: &str) -> Result<String, TargetError> {
    check_host(input.trim()).map_err(|p| p.at("host"))
}

fn check_host(host: &str) -> Result<String, TargetProblem> {
    if host.is_empty() {
        return Err(TargetProblem::Empty);
    }
    if let Ok(address) = host.parse::<IpAddr>() {
        return Ok(address.to_string());
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.len() > MAX_HOST_LEN {
        return Err(TargetProblem::TooLong { max: MAX_HOST_LEN });
    }
    if let Some(found) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.')))
    {
        return Err(TargetProblem::Character { found });
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Err(TargetProblem::LabelLength {
                label: label.to_owned(),
            });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(TargetProblem::LabelHyphen {
                label: label.to_owned(),
            });
        }
    }
    if name
        .rsplit('.')
        .next()
        .is_some_and(|top| top.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(TargetProblem::NumericTopLabel);
    }
    Ok(name.to_ascii_lowercase())
}

/// A TCP port typed into a form: digits only, 1–65535.
pub fn port(input: &str) -> Result<u16, TargetError> {
    check_port(input.trim()).map_err(|p| p.at("port"))
}

/// A TCP port from the JSON API, where it arrives as a number.
pub fn port_number(value: i64) -> Result<u16, TargetError> {
    u16::try_from(value)
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| {
            TargetProblem::PortOutOfRange {
                value: u64::try_from(value).unwrap_or(0),
            }
            .at("port")
        })
}

fn check_port(text: &str) -> Result<u16, TargetProblem> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TargetProblem::PortNotNumber {
            text: text.chars().take(16).collect(),
        });
    }
    let value = text.parse::<u64>().unwrap_or(u64::MAX);
    u16::try_from(value)
        .ok()
        .filter(|&p| p != 0)
        .ok_or(TargetProblem::PortOutOfRange { value })
}

// ---- Maintenance windows -----------------------------------------------------

/// Longest weekly maintenance window (a whole week would never end).
pub const MAX_WEEKLY_DURATION: SignedDuration = SignedDuration::from_hours(7 * 24);

/// A maintenance window that cannot be used, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MaintenanceError {
    /// A one-off window whose end is not after its start.
    #[error("maintenance end {end} is not after its start {start}")]
    EndNotAfterStart {
        /// As given.
        start: Timestamp,
        /// As given.
        end: Timestamp,
    },
    /// A weekly window without any weekday.
    #[error("a weekly maintenance window needs at least one weekday")]
    NoWeekdays,
    /// A weekly window that is not positive or is longer than
    /// [`MAX_WEEKLY_DURATION`].
    #[error("maintenance duration {duration:#} must be longer than zero and at most {maximum:#}")]
    DurationOutOfRange {
        /// As given.
        duration: SignedDuration,
        /// The maximum.
        maximum: SignedDuration,
    },
}

impl MaintenanceError {
    /// The form field at fault.
    pub const fn field(&self) -> &'static str {
        match self {
            MaintenanceError::EndNotAfterStart { .. } => "end",
            MaintenanceError::NoWeekdays => "weekdays",
            MaintenanceError::DurationOutOfRange { .. } => "duration",
        }
    }
}

/// One concrete stretch of maintenance, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Occurrence {
    /// First instant inside the window.
    pub start: Timestamp,
    /// First instant after the window.
    pub end: Timestamp,
}

impl Occurrence {
    /// Half-open, so back-to-back windows and the instant a window ends
    /// (when alerting resumes) are unambiguous.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }
}

/// When a monitor is under planned maintenance: checks go on, alerts do not.
///
/// Constructed through [`MaintenanceWindow::one_off`] and
/// [`MaintenanceWindow::weekly`] so that every window is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaintenanceWindow(Schedule);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Schedule {
    Once(Occurrence),
    Weekly {
        /// Bit `n` set for the weekday `n` days after Monday.
        weekdays: u8,
        start: Time,
        duration: SignedDuration,
        tz: TimeZone,
    },
}

fn weekday_bit(day: Weekday) -> u8 {
    1 << day.to_monday_zero_offset()
}

impl MaintenanceWindow {
    /// A single window, e.g. for a planned server move.
    pub fn one_off(start: Timestamp, end: Timestamp) -> Result<Self, MaintenanceError> {
        if end <= start {
            return Err(MaintenanceError::EndNotAfterStart { start, end });
        }
        Ok(MaintenanceWindow(Schedule::Once(Occurrence { start, end })))
    }

    /// A window every week on the given weekdays, starting at the local time
    /// `start` in `tz` and lasting `duration` on the wall clock.
    ///
    /// Wall-clock rather than elapsed time because maintenance agreements
    /// and the technicians' scheduled jobs say "Sunday 02:00–04:00": on the
    /// night clocks go forward that window lasts one real hour, on the night
    /// they go back three, and alerting resumes at 04:00 local time either
    /// way. A start time that does not exist (skipped by the clock change)
    /// moves forward by the size of the gap; one that occurs twice uses the
    /// first occurrence, as calendars do.
    pub fn weekly(
        weekdays: &[Weekday],
        start: Time,
        duration: SignedDuration,
        tz: TimeZone,
    ) -> Result<Self, MaintenanceError> {
        let weekdays = weekdays.iter().fold(0u8, |bits, &d| bits | weekday_bit(d));
        if weekdays == 0 {
            return Err(MaintenanceError::NoWeekdays);
        }
        if !duration.is_positive() || duration > MAX_WEEKLY_DURATION {
            return Err(MaintenanceError::DurationOutOfRange {
                duration,
                maximum: MAX_WEEKLY_DURATION,
            });
        }
        Ok(MaintenanceWindow(Schedule::Weekly {
            weekdays,
            start,
            duration,
            tz,
        }))
    }

    /// Whether `now` is inside the window.
    pub fn is_active(&self, now: Timestamp) -> bool {
        match &self.0 {
            Schedule::Once(occurrence) => occurrence.contains(now),
            Schedule::Weekly { duration, tz, .. } => {
                // Occurrences that began up to `duration` (plus a day for
                // clock changes) ago may still cover `now`.
                let back = duration.as_secs().div_euclid(86_400) + 1;
                let today = tz.to_datetime(now).date();
                let mut day = today;
                for _ in 0..=back {
                    if self.occurrence_on(day).is_some_and(|o| o.contains(now)) {
                        return true;
                    }
                    match day.yesterday() {
                        Ok(d) => day = d,
                        Err(_) => break,
                    }
                }
                false
            }
        }
    }

    /// The window going on at `now`, or else the next one to start, for
    /// status pages ("maintenance Sunday 02:00–04:00"). `None` once a
    /// one-off window is over.
    pub fn next_window(&self, now: Timestamp) -> Option<Occurrence> {
        match &self.0 {
            Schedule::Once(occurrence) => (occurrence.end > now).then_some(*occurrence),
            Schedule::Weekly { duration, tz, .. } => {
                let back = duration.as_secs().div_euclid(86_400) + 1;
                let today = tz.to_datetime(now).date();
                let mut day = today
                    .checked_sub(jiff::Span::new().days(back))
                    .unwrap_or(today);
                // Occurrences start in date order, so the first one not yet
                // over is the answer; two weeks ahead is more than enough
                // to find one even if a clock change swallowed one.
                for _ in 0..=(back + 15) {
                    if let Some(o) = self.occurrence_on(day)
                        && o.end > now
                    {
                        return Some(o);
                    }
                    day = day.tomorrow().ok()?;
                }
                None
            }
        }
    }

    /// The occurrence starting on local date `day`, if the window runs that
    /// weekday and the clock change leaves anything of it.
    fn occurrence_on(&self, day: Date) -> Option<Occurrence> {
        let Schedule::Weekly {
            weekdays,
            start,
            duration,
            tz,
        } = &self.0
        else {
            return None;
        };
        if weekdays & weekday_bit(day.weekday()) == 0 {
            return None;
        }
        let civil_start = day.to_datetime(*start);
        let civil_end = civil_start.checked_add(*duration).ok()?;
        let occurrence = Occurrence {
            start: tz.to_timestamp(civil_start).ok()?,
            end: tz.to_timestamp(civil_end).ok()?,
        };
        (occurrence.start < occurrence.end).then_some(occurrence)
    }
}

fn in_any(windows: &[MaintenanceWindow], at: Timestamp) -> bool {
    windows.iter().any(|w| w.is_active(at))
}

// ---- Check outcomes and transitions ------------------------------------------

/// What one check found.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    /// The service answered as expected.
    Ok {
        /// How long the check took.
        latency_ms: u32,
        /// What the probe saw, e.g. `HTTP 200`.
        detail: Option<String>,
    },
    /// The service answered but not quite right, e.g. a certificate that
    /// expires within the warning period.
    Degraded {
        /// What is not right.
        reason: String,
    },
    /// The check failed.
    Fail {
        /// Why, e.g. `connection refused`.
        reason: String,
    },
}

/// One check result at the instant it was made.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CheckOutcome {
    /// When the check was made.
    pub at: Timestamp,
    /// What it found.
    pub result: CheckResult,
}

impl CheckOutcome {
    /// A successful check without detail.
    pub fn ok(at: Timestamp, latency_ms: u32) -> Self {
        CheckOutcome {
            at,
            result: CheckResult::Ok {
                latency_ms,
                detail: None,
            },
        }
    }

    /// A degraded check.
    pub fn degraded(at: Timestamp, reason: impl Into<String>) -> Self {
        CheckOutcome {
            at,
            result: CheckResult::Degraded {
                reason: reason.into(),
            },
        }
    }

    /// A failed check.
    pub fn fail(at: Timestamp, reason: impl Into<String>) -> Self {
        CheckOutcome {
            at,
            result: CheckResult::Fail {
                reason: reason.into(),
            },
        }
    }

    /// The latency of a successful check.
    pub fn latency_ms(&self) -> Option<u32> {
        match self.result {
            CheckResult::Ok { latency_ms, .. } => Some(latency_ms),
            _ => None,
        }
    }
}

/// Identifies one outage of one monitor: the instant its trouble began (the
/// first failed check of the failing run; for heartbeats, when the job
/// became overdue or reported failure).
///
/// Derived from the observations rather than random, so it is stable across
/// the whole outage, shows "down since" for free, and needs no generator.
/// Unique per monitor because each outage starts with its own failure and
/// outcomes are observed in time order; the engine pairs it with the
/// monitor's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IncidentId(pub Timestamp);

impl IncidentId {
    /// When the outage began.
    pub fn since(self) -> Timestamp {
        self.0
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A change the engine should store, and act on unless it is `silenced`.
///
/// How the engine uses it: the first transition to `Down` that is not
/// silenced opens one ticket for its `incident`; later transitions carrying
/// the same incident add notes to that ticket (the recovery is the one with
/// [`Transition::is_recovery`]). `silenced` transitions notify nobody.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// When it happened (the observation that caused it).
    pub at: Timestamp,
    /// For transitions that are not silenced, the state people were last
    /// told about; for silenced ones, the previous state.
    pub from: MonitorState,
    /// The new state.
    pub to: MonitorState,
    /// Why, in English for logs and notes (the check's reason or detail).
    pub reason: Option<String>,
    /// The outage this belongs to, from its confirmation until recovery.
    pub incident: Option<IncidentId>,
    /// Inside maintenance, or otherwise nothing anybody needs to hear.
    pub silenced: bool,
    /// The monitor is flapping. `from == to` only when flapping starts or
    /// stops without the announced state changing.
    pub flapping: bool,
}

impl Transition {
    /// This transition ends its incident: the monitor is up again, or
    /// monitoring was paused.
    pub fn is_recovery(&self) -> bool {
        self.incident.is_some() && matches!(self.to, MonitorState::Up | MonitorState::Paused)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OpenIncident {
    id: IncidentId,
    /// A transition carrying it has been announced (not silenced).
    announced: bool,
}

/// The alerting half shared by active and heartbeat monitors: what is
/// reported, what people were told, and which incident is open.
#[derive(Clone, Debug)]
struct Alerting {
    /// Up, Degraded or Down: what the status shows (held while flapping).
    reported: MonitorState,
    /// The `to` of the last transition that was not silenced.
    announced: MonitorState,
    flapping: bool,
    incident: Option<OpenIncident>,
}

/// One evaluation handed to [`Alerting::apply`].
struct Step {
    at: Timestamp,
    next: MonitorState,
    flapping: bool,
    in_maintenance: bool,
    /// Becomes the incident id if this step opens one.
    trouble_since: Timestamp,
    reason: Option<String>,
}

impl Alerting {
    fn new() -> Self {
        Alerting {
            reported: MonitorState::Up,
            announced: MonitorState::Up,
            flapping: false,
            incident: None,
        }
    }

    /// Rebuilds the alerting state from the last stored transition.
    /// Returns whether monitoring was paused.
    fn restore(last: &Transition) -> (Self, bool) {
        if last.to == MonitorState::Paused {
            return (Alerting::new(), true);
        }
        let checked = |state| match state {
            MonitorState::Degraded | MonitorState::Down => state,
            _ => MonitorState::Up,
        };
        let reported = checked(last.to);
        let incident = match reported {
            MonitorState::Up => None,
            _ => last.incident.map(|id| OpenIncident {
                id,
                announced: !last.silenced,
            }),
        };
        // What people were told before a silenced transition is not stored;
        // its `from` is the best estimate, and a wrong guess only means a
        // problem is announced once more after maintenance.
        let announced = if last.silenced {
            checked(last.from)
        } else {
            reported
        };
        let alerting = Alerting {
            reported,
            announced,
            flapping: last.flapping,
            incident,
        };
        (alerting, false)
    }

    fn apply(&mut self, step: Step) -> Option<Transition> {
        let Step {
            at,
            next,
            flapping,
            in_maintenance,
            trouble_since,
            reason,
        } = step;
        let previous = self.reported;
        let changed = next != previous;
        let toggled = flapping != self.flapping;
        self.reported = next;
        self.flapping = flapping;
        if next == MonitorState::Down && self.incident.is_none() {
            self.incident = Some(OpenIncident {
                id: IncidentId(trouble_since),
                announced: false,
            });
        }
        let incident = self.incident;
        if next == MonitorState::Up {
            self.incident = None;
        }
        let mut transition = Transition {
            at,
            from: previous,
            to: next,
            reason,
            incident: incident.map(|i| i.id),
            silenced: false,
            flapping,
        };
        if in_maintenance {
            if !changed && !toggled {
                return None;
            }
            // Maintenance silences new trouble. An outage people were
            // already alerted about before the window keeps being reported,
            // so its recovery reaches the ticket and the people waiting.
            transition.silenced = !incident.is_some_and(|i| i.announced);
        } else if changed && !toggled && next == self.announced {
            // Back to what people were last told, before they heard of the
            // change (it happened silently during maintenance): nothing to say.
            transition.silenced = true;
        } else if changed || toggled || next != self.announced {
            // Includes the catch-up after maintenance: trouble that began
            // silently and outlasted the window is announced now.
            transition.from = self.announced;
        } else {
            return None;
        }
        if !transition.silenced {
            self.announced = next;
            if let Some(open) = &mut self.incident {
                open.announced = true;
            }
        }
        Some(transition)
    }

    fn pause(&mut self, at: Timestamp) -> Transition {
        let transition = Transition {
            at,
            from: self.reported,
            to: MonitorState::Paused,
            reason: None,
            incident: self.incident.take().map(|i| i.id),
            silenced: true,
            flapping: false,
        };
        *self = Alerting::new();
        transition
    }
}

fn resumed(at: Timestamp) -> Transition {
    Transition {
        at,
        from: MonitorState::Paused,
        to: MonitorState::Up,
        reason: None,
        incident: None,
        silenced: true,
        flapping: false,
    }
}

// ---- Active monitors -----------------------------------------------------------

/// The state machine of one active monitor: feeds on check outcomes and
/// says when something worth storing or announcing happened.
///
/// A new (or resumed) monitor is presumed up: an alert needs confirmed
/// failures, and a first success needs no announcement. Until the first
/// check, [`MonitorTracker::last_checked`] is `None`, which status pages
/// show as "no data yet".
#[derive(Clone, Debug)]
pub struct MonitorTracker {
    settings: CheckSettings,
    maintenance: Vec<MaintenanceWindow>,
    paused: bool,
    /// What the checks say (Up, Degraded or Down), after retries but before
    /// flap damping.
    health: MonitorState,
    failures: u32,
    failing_since: Option<Timestamp>,
    last_at: Option<Timestamp>,
    /// Instants of the most recent state changes outside maintenance, at
    /// most `max_changes + 1` of them: enough to compare against both flap
    /// thresholds, so memory stays bounded whatever happens.
    changes: VecDeque<Timestamp>,
    alerting: Alerting,
}

impl MonitorTracker {
    /// A tracker for a monitor with these settings, which must be valid.
    pub fn new(settings: CheckSettings) -> Result<Self, SettingsError> {
        settings.validate()?;
        Ok(MonitorTracker {
            settings,
            maintenance: Vec::new(),
            paused: false,
            health: MonitorState::Up,
            failures: 0,
            failing_since: None,
            last_at: None,
            changes: VecDeque::new(),
            alerting: Alerting::new(),
        })
    }

    /// A tracker that continues from the last stored transition, so a
    /// restart of the engine neither forgets an open outage (and opens a
    /// second ticket for it) nor announces it again.
    ///
    /// Retry counts and flap history start afresh; outcomes older than the
    /// transition are ignored.
    pub fn restore(settings: CheckSettings, last: &Transition) -> Result<Self, SettingsError> {
        let mut tracker = MonitorTracker::new(settings)?;
        let (alerting, paused) = Alerting::restore(last);
        tracker.health = alerting.reported;
        tracker.alerting = alerting;
        tracker.paused = paused;
        tracker.last_at = Some(last.at);
        Ok(tracker)
    }

    /// The settings in force.
    pub fn settings(&self) -> &CheckSettings {
        &self.settings
    }

    /// Replaces the maintenance windows that apply to this monitor.
    pub fn set_maintenance(&mut self, windows: Vec<MaintenanceWindow>) {
        self.maintenance = windows;
    }

    /// The maintenance windows that apply to this monitor.
    pub fn maintenance(&self) -> &[MaintenanceWindow] {
        &self.maintenance
    }

    /// Whether any of the monitor's maintenance windows covers `at`.
    pub fn in_maintenance(&self, at: Timestamp) -> bool {
        in_any(&self.maintenance, at)
    }

    /// Takes one check outcome into account and returns the transition it
    /// causes, if any.
    ///
    /// Ignored while paused, and for outcomes older than the last one
    /// observed: a slow probe's late answer must not overwrite a newer one.
    pub fn observe(&mut self, outcome: &CheckOutcome) -> Option<Transition> {
        if self.paused || self.last_at.is_some_and(|last| outcome.at < last) {
            return None;
        }
        let at = outcome.at;
        self.last_at = Some(at);
        let in_maintenance = self.in_maintenance(at);
        let (health, mut reason) = self.judge(outcome);
        let changed = health != self.health;
        self.health = health;
        let was_flapping = self.alerting.flapping;
        // Changes during maintenance are expected (reboots, restarts) and
        // say nothing about the service's stability.
        let flapping = self.damp(at, changed && !in_maintenance);
        let next = match (was_flapping, flapping) {
            (_, false) => health,
            // Hold the state people were last told about.
            (false, true) => self.alerting.announced,
            (true, true) => self.alerting.reported,
        };
        if flapping && !was_flapping {
            reason = Some(format!(
                "changed state {} times within {:#}",
                self.changes.len(),
                self.settings
                    .flap
                    .map_or(SignedDuration::ZERO, |f| f.window)
            ));
        }
        self.alerting.apply(Step {
            at,
            next,
            flapping,
            in_maintenance,
            trouble_since: self.failing_since.unwrap_or(at),
            reason,
        })
    }

    /// The health one outcome implies, with the reason to report.
    fn judge(&mut self, outcome: &CheckOutcome) -> (MonitorState, Option<String>) {
        match &outcome.result {
            CheckResult::Fail { reason } => {
                self.failures = self.failures.saturating_add(1);
                self.failing_since.get_or_insert(outcome.at);
                let state = if self.failures > u32::from(self.settings.retries) {
                    MonitorState::Down
                } else {
                    // Not confirmed yet: whatever held before still holds.
                    self.health
                };
                (state, Some(reason.clone()))
            }
            CheckResult::Degraded { reason } => {
                self.failures = 0;
                self.failing_since = None;
                (MonitorState::Degraded, Some(reason.clone()))
            }
            CheckResult::Ok { latency_ms, detail } => {
                self.failures = 0;
                self.failing_since = None;
                match self.settings.degraded_above_ms {
                    Some(limit) if *latency_ms > limit => (
                        MonitorState::Degraded,
                        Some(format!(
                            "latency {latency_ms} ms is above the threshold of {limit} ms"
                        )),
                    ),
                    _ => (MonitorState::Up, detail.clone()),
                }
            }
        }
    }

    /// Records a change and says whether the monitor is flapping now.
    fn damp(&mut self, at: Timestamp, counted_change: bool) -> bool {
        let Some(flap) = self.settings.flap else {
            return false;
        };
        if counted_change {
            self.changes.push_back(at);
            if self.changes.len() > usize::from(flap.max_changes) + 1 {
                self.changes.pop_front();
            }
        }
        if let Ok(horizon) = at.checked_sub(flap.window) {
            while self.changes.front().is_some_and(|&c| c <= horizon) {
                self.changes.pop_front();
            }
        }
        let limit = if self.alerting.flapping {
            flap.max_changes / 2
        } else {
            flap.max_changes
        };
        self.changes.len() > usize::from(limit)
    }

    /// Stops monitoring. Returns the transition to `Paused` (silenced; it
    /// closes any open incident, so its ticket can be noted), or `None` if
    /// already paused.
    pub fn pause(&mut self, at: Timestamp) -> Option<Transition> {
        if self.paused {
            return None;
        }
        self.paused = true;
        Some(self.alerting.pause(at))
    }

    /// Starts monitoring again, presumed up like a new monitor. Returns the
    /// (silenced) transition, or `None` if not paused. Outcomes from before
    /// `at` are ignored.
    pub fn resume(&mut self, at: Timestamp) -> Option<Transition> {
        if !self.paused {
            return None;
        }
        self.paused = false;
        self.health = MonitorState::Up;
        self.failures = 0;
        self.failing_since = None;
        self.changes.clear();
        self.alerting = Alerting::new();
        self.last_at = Some(self.last_at.map_or(at, |last| last.max(at)));
        Some(resumed(at))
    }

    /// What the status page shows at `now`: paused, in maintenance, or the
    /// reported state (held while flapping).
    pub fn state(&self, now: Timestamp) -> MonitorState {
        if self.paused {
            MonitorState::Paused
        } else if self.in_maintenance(now) {
            MonitorState::Maintenance
        } else {
            self.alerting.reported
        }
    }

    /// What uptime counts at `now`: like [`MonitorTracker::state`] but with
    /// the checks' own verdict rather than the state held while flapping,
    /// since uptime figures must not be smoothed. Feed this to
    /// [`RollupRecorder::record`].
    pub fn measured_state(&self, now: Timestamp) -> MonitorState {
        if self.paused {
            MonitorState::Paused
        } else if self.in_maintenance(now) {
            MonitorState::Maintenance
        } else {
            self.health
        }
    }

    /// What the checks say (Up, Degraded or Down), after retries and
    /// before flap damping.
    pub fn health(&self) -> MonitorState {
        self.health
    }

    /// Whether the monitor is flapping.
    pub fn is_flapping(&self) -> bool {
        self.alerting.flapping
    }

    /// Whether monitoring is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The open outage, if any.
    pub fn incident(&self) -> Option<IncidentId> {
        self.alerting.incident.map(|i| i.id)
    }

    /// Failed checks in a row so far.
    pub fn consecutive_failures(&self) -> u32 {
        self.failures
    }

    /// When the last outcome was observed.
    pub fn last_checked(&self) -> Option<Timestamp> {
        self.last_at
    }
}

// ---- Heartbeats ----------------------------------------------------------------

/// What a job that reports in can say.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PingKind {
    /// The job has started.
    Start,
    /// The job finished successfully.
    Success {
        /// Whatever the job sent along, e.g. the size of the backup.
        payload: Option<String>,
    },
    /// The job reports that it failed.
    Fail {
        /// What it said.
        reason: String,
    },
}

/// One ping received at an instant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HeartbeatPing {
    /// When it was received.
    pub at: Timestamp,
    /// What it said.
    pub kind: PingKind,
}

impl HeartbeatPing {
    /// The job started.
    pub fn start(at: Timestamp) -> Self {
        HeartbeatPing {
            at,
            kind: PingKind::Start,
        }
    }

    /// The job succeeded.
    pub fn success(at: Timestamp, payload: Option<String>) -> Self {
        HeartbeatPing {
            at,
            kind: PingKind::Success { payload },
        }
    }

    /// The job failed.
    pub fn fail(at: Timestamp, reason: impl Into<String>) -> Self {
        HeartbeatPing {
            at,
            kind: PingKind::Fail {
                reason: reason.into(),
            },
        }
    }
}

/// Why a heartbeat monitor is down. Typed so the web layer can translate it;
/// the `Display` text is the English reason used in transitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeartbeatProblem {
    /// No success within period + grace.
    Late {
        /// The last success, if there ever was one.
        last_success: Option<Timestamp>,
        /// When monitoring began (or resumed), for jobs that never reported.
        watching_since: Timestamp,
        /// When the success was due at the latest.
        overdue_since: Timestamp,
    },
    /// The job reported failure and has not succeeded since.
    Failed {
        /// When it reported.
        at: Timestamp,
        /// What it said.
        reason: String,
    },
    /// The job reported a start but no success within the grace time.
    NeverFinished {
        /// When it started.
        started: Timestamp,
    },
}

impl HeartbeatProblem {
    /// A stable machine code for translations.
    pub const fn code(&self) -> &'static str {
        match self {
            HeartbeatProblem::Late { .. } => "late",
            HeartbeatProblem::Failed { .. } => "failed",
            HeartbeatProblem::NeverFinished { .. } => "never_finished",
        }
    }

    /// When the trouble began, which identifies the incident.
    pub fn since(&self, grace: SignedDuration) -> Timestamp {
        match self {
            HeartbeatProblem::Late { overdue_since, .. } => *overdue_since,
            HeartbeatProblem::Failed { at, .. } => *at,
            HeartbeatProblem::NeverFinished { started } => {
                started.checked_add(grace).unwrap_or(*started)
            }
        }
    }
}

impl fmt::Display for HeartbeatProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeartbeatProblem::Late {
                last_success: Some(last),
                ..
            } => write!(f, "has not reported since {last}"),
            HeartbeatProblem::Late {
                last_success: None,
                watching_since,
                ..
            } => write!(f, "has never reported (watched since {watching_since})"),
            HeartbeatProblem::Failed { reason, .. } => write!(f, "reported failure: {reason}"),
            HeartbeatProblem::NeverFinished { started } => {
                write!(f, "started at {started} but never finished")
            }
        }
    }
}

/// The state machine of one heartbeat monitor, with rules like
/// Healthchecks.io:
///
/// - no success within `period + grace` of the last one → down ("has not
///   reported since …");
/// - a `fail` ping → down at once, until the next success;
/// - a `start` ping without a success within `grace` → down ("started but
///   never finished"). While a job runs that is the only deadline, so a long
///   job that started on time is not also called late; a start that comes
///   when the job is already late does not hide that;
/// - the clock starts when monitoring starts: a job that never reports is
///   the most common broken backup, so it must not wait for a first ping.
///
/// At a deadline itself the job is still on time. Pings are recorded by
/// their own instants, so a start and a success that arrive in the wrong
/// order are still understood.
#[derive(Clone, Debug)]
pub struct HeartbeatTracker {
    settings: HeartbeatSettings,
    maintenance: Vec<MaintenanceWindow>,
    paused: bool,
    watching_since: Timestamp,
    last_success: Option<(Timestamp, Option<String>)>,
    last_start: Option<Timestamp>,
    last_fail: Option<(Timestamp, String)>,
    last_evaluated: Option<Timestamp>,
    alerting: Alerting,
}

impl HeartbeatTracker {
    /// A tracker watching from `since` (usually when the monitor was created).
    pub fn new(settings: HeartbeatSettings, since: Timestamp) -> Result<Self, SettingsError> {
        settings.validate()?;
        Ok(HeartbeatTracker {
            settings,
            maintenance: Vec::new(),
            paused: false,
            watching_since: since,
            last_success: None,
            last_start: None,
            last_fail: None,
            last_evaluated: None,
            alerting: Alerting::new(),
        })
    }

    /// A tracker that continues from the last stored transition, watching
    /// from `since`; replay the most recent pings into it afterwards. See
    /// [`MonitorTracker::restore`] for why.
    pub fn restore(
        settings: HeartbeatSettings,
        since: Timestamp,
        last: &Transition,
    ) -> Result<Self, SettingsError> {
        let mut tracker = HeartbeatTracker::new(settings, since)?;
        let (alerting, paused) = Alerting::restore(last);
        tracker.alerting = alerting;
        tracker.paused = paused;
        Ok(tracker)
    }

    /// The settings in force.
    pub fn settings(&self) -> &HeartbeatSettings {
        &self.settings
    }

    /// Replaces the maintenance windows that apply to this monitor.
    pub fn set_maintenance(&mut self, windows: Vec<MaintenanceWindow>) {
        self.maintenance = windows;
    }

    /// Whether any of the monitor's maintenance windows covers `at`.
    pub fn in_maintenance(&self, at: Timestamp) -> bool {
        in_any(&self.maintenance, at)
    }

    /// Records a ping and returns the transition it causes, if any.
    /// Ignored while paused.
    pub fn ping(&mut self, ping: HeartbeatPing) -> Option<Transition> {
        if self.paused {
            return None;
        }
        let at = ping.at;
        match ping.kind {
            PingKind::Start => {
                if self.last_start.is_none_or(|s| at > s) {
                    self.last_start = Some(at);
                }
            }
            PingKind::Success { payload } => {
                if self.last_success.as_ref().is_none_or(|(s, _)| at > *s) {
                    self.last_success = Some((at, payload));
                }
            }
            PingKind::Fail { reason } => {
                if self.last_fail.as_ref().is_none_or(|(f, _)| at > *f) {
                    self.last_fail = Some((at, reason));
                }
            }
        }
        self.poll(at)
    }

    /// Re-evaluates at `now` (the engine calls this at
    /// [`HeartbeatTracker::deadline`] or periodically) and returns the
    /// transition, if any. Evaluation never goes back in time.
    pub fn poll(&mut self, now: Timestamp) -> Option<Transition> {
        if self.paused {
            return None;
        }
        let now = self.last_evaluated.map_or(now, |last| last.max(now));
        self.last_evaluated = Some(now);
        let (next, since, reason) = match self.problem(now) {
            Some(problem) => (
                MonitorState::Down,
                problem.since(self.settings.grace),
                Some(problem.to_string()),
            ),
            None => (
                MonitorState::Up,
                now,
                self.last_success.as_ref().and_then(|(_, p)| p.clone()),
            ),
        };
        self.alerting.apply(Step {
            at: now,
            next,
            flapping: false,
            in_maintenance: self.in_maintenance(now),
            trouble_since: since,
            reason,
        })
    }

    /// What the status page shows at `now`. Pure: it does not record the
    /// evaluation, so it can be asked about any instant.
    pub fn evaluate(&self, now: Timestamp) -> MonitorState {
        if self.paused {
            MonitorState::Paused
        } else if self.in_maintenance(now) {
            MonitorState::Maintenance
        } else if self.problem(now).is_some() {
            MonitorState::Down
        } else {
            MonitorState::Up
        }
    }

    /// Why the monitor is down at `now`, or `None` if it is not.
    pub fn problem(&self, now: Timestamp) -> Option<HeartbeatProblem> {
        let success = self.last_success.as_ref().map(|(at, _)| *at);
        if let Some((at, reason)) = &self.last_fail
            && success.is_none_or(|s| *at > s)
        {
            return Some(HeartbeatProblem::Failed {
                at: *at,
                reason: reason.clone(),
            });
        }
        let overdue_since = self.late_after();
        let late = HeartbeatProblem::Late {
            last_success: success,
            watching_since: self.watching_since,
            overdue_since,
        };
        match self.running() {
            Some(started) if started > overdue_since => Some(late),
            Some(started) => {
                let finish_by = started.checked_add(self.settings.grace).ok()?;
                (now > finish_by).then_some(HeartbeatProblem::NeverFinished { started })
            }
            None => (now > overdue_since).then_some(late),
        }
    }

    /// When the monitor goes down if nothing more arrives, so the engine
    /// knows when to poll; `None` while a failure stands, since only a
    /// success changes that.
    pub fn deadline(&self) -> Option<Timestamp> {
        let success = self.last_success.as_ref().map(|(at, _)| *at);
        if self
            .last_fail
            .as_ref()
            .is_some_and(|(at, _)| success.is_none_or(|s| *at > s))
        {
            return None;
        }
        let late_after = self.late_after();
        match self.running() {
            Some(started) if started <= late_after => started.checked_add(self.settings.grace).ok(),
            _ => Some(late_after),
        }
    }

    /// The last success and what it carried.
    pub fn last_success(&self) -> Option<(Timestamp, Option<&str>)> {
        self.last_success
            .as_ref()
            .map(|(at, payload)| (*at, payload.as_deref()))
    }

    /// The open outage, if any.
    pub fn incident(&self) -> Option<IncidentId> {
        self.alerting.incident.map(|i| i.id)
    }

    /// Stops monitoring; see [`MonitorTracker::pause`].
    pub fn pause(&mut self, at: Timestamp) -> Option<Transition> {
        if self.paused {
            return None;
        }
        self.paused = true;
        Some(self.alerting.pause(at))
    }

    /// Starts monitoring again from `at`: earlier pings are forgotten and
    /// the job has a full period plus grace to report.
    pub fn resume(&mut self, at: Timestamp) -> Option<Transition> {
        if !self.paused {
            return None;
        }
        self.paused = false;
        self.watching_since = at;
        self.last_success = None;
        self.last_start = None;
        self.last_fail = None;
        self.last_evaluated = Some(self.last_evaluated.map_or(at, |last| last.max(at)));
        self.alerting = Alerting::new();
        Some(resumed(at))
    }

    /// The instant after which, without a success, the job is late.
    fn late_after(&self) -> Timestamp {
        let reference = self
            .last_success
            .as_ref()
            .map_or(self.watching_since, |(at, _)| {
                (*at).max(self.watching_since)
            });
        reference
            .checked_add(self.settings.period)
            .and_then(|t| t.checked_add(self.settings.grace))
            .unwrap_or(Timestamp::MAX)
    }

    /// The start of a run that has not finished (or failed) yet.
    fn running(&self) -> Option<Timestamp> {
        let start = self.last_start?;
        let after = |other: Option<Timestamp>| other.is_none_or(|o| start > o);
        (after(self.last_success.as_ref().map(|(at, _)| *at))
            && after(self.last_fail.as_ref().map(|(at, _)| *at)))
        .then_some(start)
    }
}

// ---- Roll-ups --------------------------------------------------------------------

/// Most latency samples kept per minute: far more than the three checks a
/// minute allows at the shortest interval, so in practice every value is
/// kept; the bound only protects memory from a misbehaving caller.
pub const LATENCY_SAMPLES_PER_MINUTE: usize = 64;
/// Most latency samples kept per hour: every check at the shortest
/// interval (180 an hour) fits.
pub const LATENCY_SAMPLES_PER_HOUR: usize = 256;

/// A roll-up merged into one that does not cover it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RollupError {
    /// A minute roll-up outside the hour it was merged into.
    #[error("minute {minute} is not inside the hour starting at {hour}")]
    OutsideHour {
        /// The minute's start.
        minute: Timestamp,
        /// The hour's start.
        hour: Timestamp,
    },
    /// Two roll-ups of different minutes.
    #[error("cannot merge the roll-up of minute {other} into that of minute {minute}")]
    DifferentMinute {
        /// The minute merged into.
        minute: Timestamp,
        /// The minute merged.
        other: Timestamp,
    },
}

fn floor_second(t: Timestamp) -> i64 {
    let second = t.as_second();
    if t.subsec_nanosecond() < 0 {
        second - 1
    } else {
        second
    }
}

fn floor_to(t: Timestamp, unit: i64) -> Timestamp {
    let second = floor_second(t).div_euclid(unit) * unit;
    Timestamp::from_second(second).unwrap_or(t)
}

/// The value at percentile `p` (clamped to 0–100) by the nearest-rank
/// method: the smallest sample with at least `p`% of samples at or below
/// it. Always an observed value, which is honest for a handful of samples
/// and easy to explain ("95% of checks were at most this fast").
pub fn percentile(samples: &[u32], p: u8) -> Option<u32> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = (usize::from(p.min(100)) * sorted.len())
        .div_ceil(100)
        .max(1);
    sorted.get(rank - 1).copied()
}

/// Uptime in percent of the time that counts: degraded is still available,
/// maintenance (and paused time) does not count at all, because planned work
/// must not eat into an SLA.
fn uptime(up: u32, degraded: u32, down: u32) -> Option<f64> {
    let available = u64::from(up) + u64::from(degraded);
    let total = available + u64::from(down);
    (total > 0).then(|| available as f64 * 100.0 / total as f64)
}

/// Keeps the first, third, fifth … sample.
fn halve(samples: &mut Vec<u32>) {
    let mut index = 0;
    samples.retain(|_| {
        index += 1;
        index % 2 == 1
    });
}

/// Keeps every other sample (in order) until at most `cap` remain, so the
/// sample stays spread evenly over time.
fn thin(samples: &mut Vec<u32>, cap: usize) {
    while samples.len() > cap {
        halve(samples);
    }
}

/// The smallest power of two `s` with `ceil(seen / s) <= cap`.
fn sample_stride(seen: u32, cap: usize) -> u32 {
    let mut stride = 1u32;
    while usize::try_from(seen.div_ceil(stride)).unwrap_or(usize::MAX) > cap {
        stride = stride.saturating_mul(2);
    }
    stride
}

/// One monitor's minute: how long it spent in each state, how many checks
/// ran, and a bounded, deterministic sample of their latencies.
///
/// Time is counted in whole seconds; `up_seconds + down_seconds +
/// degraded_seconds + maintenance_seconds` is at most 60 (paused time is
/// not counted anywhere).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinuteRollup {
    /// Start of the minute (UTC, whole minute).
    pub minute: Timestamp,
    /// Seconds up.
    pub up_seconds: u32,
    /// Seconds down.
    pub down_seconds: u32,
    /// Seconds degraded.
    pub degraded_seconds: u32,
    /// Seconds in maintenance.
    pub maintenance_seconds: u32,
    /// Checks made.
    pub checks: u32,
    /// Latencies kept, in arrival order: every `2^k`-th successful check
    /// for the smallest `k` that keeps at most
    /// [`LATENCY_SAMPLES_PER_MINUTE`] of them. Systematic rather than
    /// random, so the same checks give the same roll-up, and spread over
    /// the whole minute.
    pub latency_samples: Vec<u32>,
    /// Latencies offered, including those not kept.
    pub latency_seen: u32,
}

impl MinuteRollup {
    /// An empty roll-up of the minute containing `at`.
    pub fn new(at: Timestamp) -> Self {
        MinuteRollup {
            minute: floor_to(at, 60),
            up_seconds: 0,
            down_seconds: 0,
            degraded_seconds: 0,
            maintenance_seconds: 0,
            checks: 0,
            latency_samples: Vec::new(),
            latency_seen: 0,
        }
    }

    /// Counts `seconds` in `state`; paused time is not counted.
    pub fn add_seconds(&mut self, state: MonitorState, seconds: u32) {
        let bucket = match state {
            MonitorState::Up => &mut self.up_seconds,
            MonitorState::Degraded => &mut self.degraded_seconds,
            MonitorState::Down => &mut self.down_seconds,
            MonitorState::Maintenance => &mut self.maintenance_seconds,
            MonitorState::Paused => return,
        };
        *bucket = bucket.saturating_add(seconds);
    }

    /// Counts one check (made in this minute) and samples its latency.
    pub fn add_check(&mut self, outcome: &CheckOutcome) {
        self.checks = self.checks.saturating_add(1);
        if let Some(ms) = outcome.latency_ms() {
            self.add_latency(ms);
        }
    }

    /// Offers one latency to the sample.
    pub fn add_latency(&mut self, ms: u32) {
        let index = self.latency_seen;
        self.latency_seen = self.latency_seen.saturating_add(1);
        let before = sample_stride(index, LATENCY_SAMPLES_PER_MINUTE);
        let stride = sample_stride(self.latency_seen, LATENCY_SAMPLES_PER_MINUTE);
        if stride > before {
            // The stride doubled: keep the multiples of the new one.
            halve(&mut self.latency_samples);
        }
        if index.is_multiple_of(stride) {
            self.latency_samples.push(ms);
        }
        // Only bites after merges, whose samples follow no single stride.
        thin(&mut self.latency_samples, LATENCY_SAMPLES_PER_MINUTE);
    }

    /// Adds another partial roll-up of the same minute, e.g. a late result
    /// for a minute that was already written.
    pub fn merge(&mut self, other: &MinuteRollup) -> Result<(), RollupError> {
        if other.minute != self.minute {
            return Err(RollupError::DifferentMinute {
                minute: self.minute,
                other: other.minute,
            });
        }
        self.up_seconds = self.up_seconds.saturating_add(other.up_seconds);
        self.down_seconds = self.down_seconds.saturating_add(other.down_seconds);
        self.degraded_seconds = self.degraded_seconds.saturating_add(other.degraded_seconds);
        self.maintenance_seconds = self
            .maintenance_seconds
            .saturating_add(other.maintenance_seconds);
        self.checks = self.checks.saturating_add(other.checks);
        self.latency_seen = self.latency_seen.saturating_add(other.latency_seen);
        self.latency_samples
            .extend_from_slice(&other.latency_samples);
        thin(&mut self.latency_samples, LATENCY_SAMPLES_PER_MINUTE);
        Ok(())
    }

    /// First instant after the minute.
    pub fn end(&self) -> Timestamp {
        self.minute
            .checked_add(SignedDuration::from_secs(60))
            .unwrap_or(Timestamp::MAX)
    }

    /// Uptime in percent (0–100), not counting maintenance; `None` when no
    /// time counts.
    pub fn uptime_percent(&self) -> Option<f64> {
        uptime(self.up_seconds, self.degraded_seconds, self.down_seconds)
    }

    /// Median latency of the sample.
    pub fn latency_p50(&self) -> Option<u32> {
        percentile(&self.latency_samples, 50)
    }

    /// 95th-percentile latency of the sample.
    pub fn latency_p95(&self) -> Option<u32> {
        percentile(&self.latency_samples, 95)
    }
}

/// One monitor's hour, merged from its minutes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HourRollup {
    /// Start of the hour (UTC; every Nordic offset is whole hours, so this
    /// is a local hour too).
    pub hour: Timestamp,
    /// Seconds up.
    pub up_seconds: u32,
    /// Seconds down.
    pub down_seconds: u32,
    /// Seconds degraded.
    pub degraded_seconds: u32,
    /// Seconds in maintenance.
    pub maintenance_seconds: u32,
    /// Checks made.
    pub checks: u32,
    /// The minutes' samples in merge order, thinned to every other one
    /// whenever more than [`LATENCY_SAMPLES_PER_HOUR`] would be kept.
    pub latency_samples: Vec<u32>,
}

impl HourRollup {
    /// An empty roll-up of the hour containing `at`.
    pub fn new(at: Timestamp) -> Self {
        HourRollup {
            hour: floor_to(at, 3600),
            up_seconds: 0,
            down_seconds: 0,
            degraded_seconds: 0,
            maintenance_seconds: 0,
            checks: 0,
            latency_samples: Vec::new(),
        }
    }

    /// Adds one minute of this hour. Merge minutes in time order for the
    /// sample to stay evenly spread.
    pub fn merge(&mut self, minute: &MinuteRollup) -> Result<(), RollupError> {
        if floor_to(minute.minute, 3600) != self.hour {
            return Err(RollupError::OutsideHour {
                minute: minute.minute,
                hour: self.hour,
            });
        }
        self.up_seconds = self.up_seconds.saturating_add(minute.up_seconds);
        self.down_seconds = self.down_seconds.saturating_add(minute.down_seconds);
        self.degraded_seconds = self
            .degraded_seconds
            .saturating_add(minute.degraded_seconds);
        self.maintenance_seconds = self
            .maintenance_seconds
            .saturating_add(minute.maintenance_seconds);
        self.checks = self.checks.saturating_add(minute.checks);
        self.latency_samples
            .extend_from_slice(&minute.latency_samples);
        thin(&mut self.latency_samples, LATENCY_SAMPLES_PER_HOUR);
        Ok(())
    }

    /// Uptime in percent (0–100), not counting maintenance; `None` when no
    /// time counts.
    pub fn uptime_percent(&self) -> Option<f64> {
        uptime(self.up_seconds, self.degraded_seconds, self.down_seconds)
    }

    /// Median latency of the sample.
    pub fn latency_p50(&self) -> Option<u32> {
        percentile(&self.latency_samples, 50)
    }

    /// 95th-percentile latency of the sample.
    pub fn latency_p95(&self) -> Option<u32> {
        percentile(&self.latency_samples, 95)
    }
}

/// Accumulates one monitor's results into minute roll-ups in memory and
/// hands over the finished minutes for a batched write.
///
/// Time is attributed to states between records: whatever state was
/// recorded holds until the next record (or the flush), split at minute
/// boundaries, in whole seconds.
#[derive(Clone, Debug, Default)]
pub struct RollupRecorder {
    current: Option<(Timestamp, MonitorState)>,
    open: BTreeMap<Timestamp, MinuteRollup>,
}

impl RollupRecorder {
    /// An empty recorder; time starts counting at the first record.
    pub fn new() -> Self {
        RollupRecorder::default()
    }

    /// From `at` on the monitor is in `state` (usually
    /// [`MonitorTracker::measured_state`] after observing), and `outcome`
    /// (if any) is the check made at `at`. A record older than the previous
    /// one only counts its check.
    pub fn record(&mut self, at: Timestamp, state: MonitorState, outcome: Option<&CheckOutcome>) {
        match self.current {
            Some((since, _)) if at < since => {}
            _ => {
                self.close_until(at);
                self.current = Some((at, state));
            }
        }
        if let Some(outcome) = outcome {
            self.minute(outcome.at).add_check(outcome);
        }
    }

    /// Counts time up to `now` and returns every minute that is over, in
    /// order; the current minute stays open.
    pub fn flush(&mut self, now: Timestamp) -> Vec<MinuteRollup> {
        if self.current.is_some_and(|(since, _)| since < now) {
            self.close_until(now);
            if let Some((since, _)) = &mut self.current {
                *since = now;
            }
        }
        let keep = self.open.split_off(&floor_to(now, 60));
        std::mem::replace(&mut self.open, keep)
            .into_values()
            .collect()
    }

    /// Minutes recorded but not yet returned by [`RollupRecorder::flush`] (the current one,
    /// and any a late outcome reopened), so a snapshot of the hour so far can be stored
    /// before the minute ends.
    pub fn open_minutes(&self) -> impl Iterator<Item = &MinuteRollup> {
        self.open.values()
    }

    fn minute(&mut self, at: Timestamp) -> &mut MinuteRollup {
        self.open
            .entry(floor_to(at, 60))
            .or_insert_with(|| MinuteRollup::new(at))
    }

    /// Attributes `[current.since, until)` to the current state.
    fn close_until(&mut self, until: Timestamp) {
        let Some((since, state)) = self.current else {
            return;
        };
        if state == MonitorState::Paused {
            return;
        }
        let (mut second, end) = (floor_second(since), floor_second(until));
        while second < end {
            let minute_start = second.div_euclid(60) * 60;
            let chunk_end = (minute_start + 60).min(end);
            let Ok(at) = Timestamp::from_second(second) else {
                return;
            };
            let seconds = u32::try_from(chunk_end - second).unwrap_or(60);
            self.minute(at).add_seconds(state, seconds);
            second = chunk_end;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_site_on_its_backup_link_is_degraded_not_down() {
        use MonitorState::*;
        assert_eq!(
            LinkRole::shown(Down, Some(LinkRole::Primary), true),
            Degraded
        );
        assert_eq!(LinkRole::shown(Down, Some(LinkRole::Primary), false), Down);
        assert_eq!(LinkRole::shown(Down, Some(LinkRole::Backup), true), Down);
        assert_eq!(LinkRole::shown(Down, None, true), Down);
        for state in [Up, Degraded, Paused, Maintenance] {
            assert_eq!(LinkRole::shown(state, Some(LinkRole::Primary), true), state);
        }
    }

    use super::*;
    use jiff::civil::time;
    use proptest::prelude::*;
    use std::collections::HashSet;

    use MonitorState::{Degraded, Down, Maintenance, Paused, Up};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn secs(s: i64) -> SignedDuration {
        SignedDuration::from_secs(s)
    }

    fn mins(m: i64) -> SignedDuration {
        SignedDuration::from_mins(m)
    }

    /// Minute `m` after 2025-01-13 10:00 UTC.
    fn at(m: i64) -> Timestamp {
        ts("2025-01-13T10:00:00Z").checked_add(mins(m)).unwrap()
    }

    fn ok(m: i64) -> CheckOutcome {
        CheckOutcome::ok(at(m), 100)
    }

    fn fail(m: i64) -> CheckOutcome {
        CheckOutcome::fail(at(m), "connection refused")
    }

    fn settings(retries: u8) -> CheckSettings {
        CheckSettings {
            retries,
            flap: None,
            ..CheckSettings::default()
        }
    }

    fn tracker(retries: u8) -> MonitorTracker {
        MonitorTracker::new(settings(retries)).unwrap()
    }

    fn oslo() -> TimeZone {
        TimeZone::get("Europe/Oslo").unwrap()
    }

    // ---- Kinds, states and settings ---------------------------------------

    #[test]
    fn codes_round_trip_and_match_serde() {
        for k in MonitorKind::ALL {
            assert_eq!(MonitorKind::parse(k.as_str()), Some(*k));
            let json = serde_json::to_string(k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<MonitorKind>(&json).unwrap(), *k);
        }
        for s in MonitorState::ALL {
            assert_eq!(MonitorState::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(MonitorKind::TlsExpiry.as_str(), "tls_expiry");
        assert_eq!(MonitorKind::ALL.len(), 6);
        assert_eq!(MonitorState::ALL.len(), 5);
        assert_eq!(MonitorKind::parse("TlsExpiry"), None);
        assert!(!MonitorKind::Heartbeat.is_active());
        assert_eq!(MonitorKind::Heartbeat.minimum_interval(), secs(60));
        assert_eq!(MonitorKind::Icmp.minimum_interval(), secs(20));
        assert!(Down.is_problem() && Degraded.is_problem() && !Maintenance.is_problem());
        assert_eq!(
            serde_json::to_string(&CheckResult::Fail { reason: "x".into() }).unwrap(),
            r#"{"fail":{"reason":"x"}}"#
        );
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(CheckSettings::default().validate(), Ok(()));
        assert_eq!(HeartbeatSettings::default().validate(), Ok(()));
        let edge = CheckSettings {
            interval: secs(20),
            timeout: secs(19),
            retries: 10,
            degraded_above_ms: Some(18_999),
            flap: Some(FlapDamping {
                window: secs(20 * 20 + 1),
                max_changes: 20,
            }),
        };
        assert_eq!(edge.validate(), Ok(()));
        let edge = CheckSettings {
            interval: SignedDuration::from_hours(24),
            flap: Some(FlapDamping {
                window: MAX_FLAP_WINDOW,
                max_changes: 2,
            }),
            ..CheckSettings::default()
        };
        assert_eq!(edge.validate(), Ok(()));
    }

    #[test]
    fn every_check_setting_is_validated() {
        let base = CheckSettings::default();
        let check = |s: CheckSettings| s.validate().unwrap_err();

        let e = check(CheckSettings {
            interval: secs(19),
            ..base
        });
        assert_eq!(
            e,
            SettingsError::IntervalTooShort {
                interval: secs(19),
                minimum: secs(20)
            }
        );
        assert_eq!(e.field(), "interval");
        assert!(e.to_string().starts_with("interval 19s"), "{e}");

        let e = check(CheckSettings {
            interval: SignedDuration::from_hours(24) + secs(1),
            flap: None,
            ..base
        });
        assert!(matches!(e, SettingsError::IntervalTooLong { .. }));
        assert_eq!(e.field(), "interval");

        for timeout in [SignedDuration::ZERO, secs(-1)] {
            let e = check(CheckSettings { timeout, ..base });
            assert_eq!(e, SettingsError::TimeoutNotPositive { timeout });
            assert_eq!(e.field(), "timeout");
        }
        let e = check(CheckSettings {
            timeout: secs(60),
            ..base
        });
        assert_eq!(
            e,
            SettingsError::TimeoutNotBelowInterval {
                timeout: secs(60),
                interval: secs(60)
            }
        );
        assert_eq!(e.field(), "timeout");

        let e = check(CheckSettings {
            retries: 11,
            ..base
        });
        assert_eq!(
            e,
            SettingsError::TooManyRetries {
                retries: 11,
                maximum: 10
            }
        );
        assert_eq!(e.field(), "retries");

        let e = check(CheckSettings {
            degraded_above_ms: Some(0),
            ..base
        });
        assert_eq!(e, SettingsError::LatencyThresholdZero);
        assert_eq!(e.field(), "degraded_above_ms");
        let e = check(CheckSettings {
            degraded_above_ms: Some(10_000),
            ..base
        });
        assert!(matches!(
            e,
            SettingsError::LatencyThresholdNotBelowTimeout {
                threshold_ms: 10_000,
                ..
            }
        ));
        assert_eq!(e.field(), "degraded_above_ms");

        let flap = |window, max_changes| {
            check(CheckSettings {
                flap: Some(FlapDamping {
                    window,
                    max_changes,
                }),
                ..base
            })
        };
        for window in [SignedDuration::ZERO, MAX_FLAP_WINDOW + secs(1)] {
            let e = flap(window, 4);
            assert!(matches!(e, SettingsError::FlapWindowOutOfRange { .. }));
            assert_eq!(e.field(), "flap_window");
        }
        for n in [0, 1, 21] {
            let e = flap(mins(30), n);
            assert_eq!(e, SettingsError::FlapChangesOutOfRange { max_changes: n });
            assert_eq!(e.field(), "flap_max_changes");
        }
        // Five changes at a one-minute interval span at least four minutes.
        let e = flap(mins(4), 4);
        assert_eq!(
            e,
            SettingsError::FlapWindowTooShort {
                window: mins(4),
                interval: mins(1),
                max_changes: 4,
                needed: mins(4)
            }
        );
        assert_eq!(e.field(), "flap_window");
        assert_eq!(
            CheckSettings {
                flap: Some(FlapDamping {
                    window: mins(4) + secs(1),
                    max_changes: 4
                }),
                ..base
            }
            .validate(),
            Ok(())
        );

        // All problems at once, in field order, for forms.
        let all = CheckSettings {
            interval: secs(5),
            timeout: secs(0),
            retries: 99,
            degraded_above_ms: Some(0),
            flap: Some(FlapDamping {
                window: SignedDuration::ZERO,
                max_changes: 1,
            }),
        }
        .problems();
        let fields: Vec<_> = all.iter().map(SettingsError::field).collect();
        assert_eq!(
            fields,
            [
                "interval",
                "timeout",
                "retries",
                "degraded_above_ms",
                "flap_window",
                "flap_max_changes"
            ]
        );
        assert!(
            MonitorTracker::new(CheckSettings {
                interval: secs(5),
                ..base
            })
            .is_err()
        );
    }

    #[test]
    fn every_heartbeat_setting_is_validated() {
        let base = HeartbeatSettings::default();
        let e = HeartbeatSettings {
            period: secs(59),
            ..base
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            e,
            SettingsError::PeriodTooShort {
                period: secs(59),
                minimum: secs(60)
            }
        );
        assert_eq!(e.field(), "period");
        let e = HeartbeatSettings {
            period: SignedDuration::from_hours(25),
            ..base
        }
        .validate()
        .unwrap_err();
        assert!(matches!(e, SettingsError::PeriodTooLong { .. }));
        assert_eq!(e.field(), "period");
        for grace in [secs(59), SignedDuration::from_hours(24) + secs(1)] {
            let e = HeartbeatSettings { grace, ..base }.validate().unwrap_err();
            assert!(matches!(e, SettingsError::GraceOutOfRange { .. }));
            assert_eq!(e.field(), "grace");
        }
        assert!(
            HeartbeatTracker::new(
                HeartbeatSettings {
                    period: secs(1),
                    ..base
                },
                at(0)
            )
            .is_err()
        );
    }

    #[test]
    fn urls() {
        for good in [
            "https://kommune.no",
            "  http://intranett.kommune.no/helse?x=1#top  ",
            "HTTPS://Example.NO:8443/status",
            "http://10.0.0.1:8080",
            "http://[2001:db8::1]:443/",
            "https://[::1]",
        ] {
            assert_eq!(http_url(good).unwrap(), good.trim(), "{good}");
        }
        let problem = |url: &str| {
            let e = http_url(url).unwrap_err();
            assert_eq!(e.field, "url", "{url}");
            e.problem
        };
        assert_eq!(problem(""), TargetProblem::Empty);
        assert_eq!(problem("kommune.no"), TargetProblem::Scheme);
        assert_eq!(problem("ftp://kommune.no"), TargetProblem::Scheme);
        assert_eq!(problem("https:/kommune.no"), TargetProblem::Scheme);
        assert_eq!(problem("https://"), TargetProblem::MissingHost);
        assert_eq!(problem("https:///path"), TargetProblem::MissingHost);
        assert_eq!(problem("https://:80"), TargetProblem::MissingHost);
        assert_eq!(problem("https://a b.no"), TargetProblem::Whitespace);
        assert_eq!(problem("https://ola:pw@x.no"), TargetProblem::Credentials);
        assert_eq!(problem("https://[zz::1]/"), TargetProblem::Ipv6);
        assert_eq!(problem("https://[::1"), TargetProblem::Ipv6);
        assert_eq!(
            problem("https://x.no:0"),
            TargetProblem::PortOutOfRange { value: 0 }
        );
        assert_eq!(
            problem("https://x.no:http"),
            TargetProblem::PortNotNumber {
                text: "http".into()
            }
        );
        assert_eq!(
            problem("https://x.no:"),
            TargetProblem::PortNotNumber { text: "".into() }
        );
        assert_eq!(
            problem("https://x_y.no"),
            TargetProblem::Character { found: '_' }
        );
        assert_eq!(
            problem(&format!("https://x.no/{}", "a".repeat(MAX_URL_LEN))),
            TargetProblem::TooLong { max: MAX_URL_LEN }
        );
        assert_eq!(
            http_url("x").unwrap_err().to_string(),
            "url: must start with http:// or https://"
        );
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host(" Server-01.Kommune.NO. ").unwrap(),
            "server-01.kommune.no"
        );
        assert_eq!(host("localhost").unwrap(), "localhost");
        assert_eq!(host("192.168.1.10").unwrap(), "192.168.1.10");
        assert_eq!(host("2001:DB8::1").unwrap(), "2001:db8::1");
        assert_eq!(host("3com.example").unwrap(), "3com.example");
        assert_eq!(host("xn--bl-zia.no").unwrap(), "xn--bl-zia.no");
        let label63 = "a".repeat(63);
        let long = [label63.as_str(); 4].join(".");
        assert_eq!(long.len(), 255);
        assert_eq!(host(&long[..253]).unwrap().len(), 253);

        let problem = |h: &str| {
            let e = host(h).unwrap_err();
            assert_eq!(e.field, "host", "{h}");
            e.problem
        };
        assert_eq!(problem("  "), TargetProblem::Empty);
        assert_eq!(problem(&long), TargetProblem::TooLong { max: 253 });
        assert_eq!(
            problem(&format!("{}a.no", label63)),
            TargetProblem::LabelLength {
                label: format!("{label63}a")
            }
        );
        assert_eq!(
            problem("a..no"),
            TargetProblem::LabelLength { label: "".into() }
        );
        assert_eq!(
            problem(".no"),
            TargetProblem::LabelLength { label: "".into() }
        );
        assert_eq!(
            problem("-a.no"),
            TargetProblem::LabelHyphen { label: "-a".into() }
        );
        assert_eq!(
            problem("a-.no"),
            TargetProblem::LabelHyphen { label: "a-".into() }
        );
        assert_eq!(problem("bø.no"), TargetProblem::Character { found: 'ø' });
        assert_eq!(problem("a b"), TargetProblem::Character { found: ' ' });
        assert_eq!(problem("a:80"), TargetProblem::Character { found: ':' });
        assert_eq!(problem("256.1.1.1"), TargetProblem::NumericTopLabel);
        assert_eq!(problem("010.0.0.1"), TargetProblem::NumericTopLabel);
        assert_eq!(problem("1234"), TargetProblem::NumericTopLabel);
    }

    #[test]
    fn ports() {
        assert_eq!(port("443"), Ok(443));
        assert_eq!(port(" 1 "), Ok(1));
        assert_eq!(port("65535"), Ok(65535));
        for (bad, value) in [
            ("0", 0),
            ("65536", 65536),
            ("99999999999999999999999", u64::MAX),
        ] {
            let e = port(bad).unwrap_err();
            assert_eq!(e.field, "port");
            assert_eq!(e.problem, TargetProblem::PortOutOfRange { value });
        }
        for bad in ["", "-1", "+80", "80a", "8 0"] {
            assert!(
                matches!(
                    port(bad).unwrap_err().problem,
                    TargetProblem::PortNotNumber { .. }
                ),
                "{bad}"
            );
        }
        assert_eq!(port_number(22), Ok(22));
        assert_eq!(port_number(0).unwrap_err().field, "port");
        assert!(port_number(-5).is_err());
        assert!(port_number(70_000).is_err());
    }

    // ---- The tracker -------------------------------------------------------

    #[test]
    fn retries_confirm_before_down() {
        let mut t = tracker(2);
        assert_eq!(t.observe(&ok(0)), None, "a first success announces nothing");
        assert_eq!(t.observe(&fail(1)), None);
        assert_eq!(t.observe(&fail(2)), None);
        assert_eq!(t.state(at(2)), Up);
        assert_eq!(t.consecutive_failures(), 2);
        let down = t.observe(&fail(3)).expect("third failure confirms");
        assert_eq!((down.from, down.to), (Up, Down));
        assert_eq!(
            down.incident,
            Some(IncidentId(at(1))),
            "down since the first failure"
        );
        assert_eq!(down.reason.as_deref(), Some("connection refused"));
        assert!(!down.silenced && !down.flapping && !down.is_recovery());
        assert_eq!(t.state(at(3)), Down);
        assert_eq!(t.observe(&fail(4)), None, "one alert per outage");

        // A success in between resets the count.
        let mut t = tracker(1);
        t.observe(&fail(0));
        t.observe(&ok(1));
        assert_eq!(t.observe(&fail(2)), None);
        assert!(t.observe(&fail(3)).is_some());

        // Without retries the first failure counts.
        let mut t = tracker(0);
        assert_eq!(t.observe(&fail(0)).unwrap().to, Down);
    }

    #[test]
    fn single_success_recovers() {
        let mut t = tracker(1);
        t.observe(&fail(0));
        let down = t.observe(&fail(1)).unwrap();
        let up = t
            .observe(&CheckOutcome {
                at: at(2),
                result: CheckResult::Ok {
                    latency_ms: 80,
                    detail: Some("HTTP 200".into()),
                },
            })
            .expect("one success recovers");
        assert_eq!((up.from, up.to), (Down, Up));
        assert_eq!(up.incident, down.incident);
        assert!(up.is_recovery());
        assert_eq!(up.reason.as_deref(), Some("HTTP 200"));
        assert_eq!(t.incident(), None);
        assert_eq!(t.state(at(2)), Up);
    }

    #[test]
    fn latency_threshold_and_degraded_outcomes() {
        let mut t = MonitorTracker::new(CheckSettings {
            degraded_above_ms: Some(500),
            ..settings(1)
        })
        .unwrap();
        assert_eq!(
            t.observe(&CheckOutcome::ok(at(0), 500)),
            None,
            "at the threshold is fine"
        );
        let slow = t.observe(&CheckOutcome::ok(at(1), 501)).unwrap();
        assert_eq!((slow.from, slow.to), (Up, Degraded));
        assert_eq!(slow.incident, None, "slowness is a warning, not an outage");
        assert!(slow.reason.unwrap().contains("501 ms"));
        // An unconfirmed failure keeps the degraded state.
        assert_eq!(t.observe(&fail(2)), None);
        assert_eq!(t.state(at(2)), Degraded);
        let fast = t.observe(&CheckOutcome::ok(at(3), 20)).unwrap();
        assert_eq!((fast.from, fast.to), (Degraded, Up));
        let d = t
            .observe(&CheckOutcome::degraded(
                at(4),
                "certificate expires in 5 days",
            ))
            .unwrap();
        assert_eq!(d.to, Degraded);
        assert_eq!(d.reason.as_deref(), Some("certificate expires in 5 days"));
    }

    #[test]
    fn incident_is_stable_for_one_outage_and_new_for_the_next() {
        let mut t = MonitorTracker::new(CheckSettings {
            degraded_above_ms: Some(500),
            ..settings(0)
        })
        .unwrap();
        let down = t.observe(&fail(0)).unwrap();
        let x = down.incident.unwrap();
        assert_eq!(x.since(), at(0));
        let slow = t.observe(&CheckOutcome::ok(at(1), 900)).unwrap();
        assert_eq!((slow.to, slow.incident), (Degraded, Some(x)));
        assert!(!slow.is_recovery(), "only back up ends the outage");
        let again = t.observe(&fail(2)).unwrap();
        assert_eq!((again.to, again.incident), (Down, Some(x)));
        let up = t.observe(&ok(3)).unwrap();
        assert_eq!(up.incident, Some(x));
        assert!(up.is_recovery());
        let next = t.observe(&fail(4)).unwrap();
        let y = next.incident.unwrap();
        assert_ne!(x, y);
        assert_eq!(y, IncidentId(at(4)));
        assert_eq!(t.incident(), Some(y));
    }

    #[test]
    fn older_outcomes_are_ignored() {
        let mut t = tracker(0);
        t.observe(&ok(5));
        assert_eq!(t.observe(&fail(4)), None);
        assert_eq!(t.consecutive_failures(), 0);
        assert_eq!(t.last_checked(), Some(at(5)));
    }

    fn flappy() -> MonitorTracker {
        MonitorTracker::new(CheckSettings {
            flap: Some(FlapDamping {
                window: mins(10),
                max_changes: 4,
            }),
            ..settings(0)
        })
        .unwrap()
    }

    #[test]
    fn flapping_holds_the_state_and_settles_once() {
        let mut t = flappy();
        let mut transitions = Vec::new();
        // Minutes 0-9 alternate fail/ok, then the service stays down.
        for m in 0..30 {
            let outcome = if m < 10 && m % 2 == 1 { ok(m) } else { fail(m) };
            if let Some(tr) = t.observe(&outcome) {
                transitions.push((m, tr));
            }
        }
        let summary: Vec<_> = transitions
            .iter()
            .map(|(m, tr)| (*m, tr.from, tr.to, tr.flapping))
            .collect();
        // Four changes are announced; the fifth starts flapping, holding
        // the announced Up; the change count falls to two at minute 18
        // (changes at minutes 6-8 have left the ten-minute window), when
        // the monitor settles into Down, announced once.
        assert_eq!(
            summary,
            [
                (0, Up, Down, false),
                (1, Down, Up, false),
                (2, Up, Down, false),
                (3, Down, Up, false),
                (4, Up, Up, true),
                (18, Up, Down, false),
            ]
        );
        assert!(
            transitions[4]
                .1
                .reason
                .as_ref()
                .unwrap()
                .contains("5 times")
        );
        let settled = &transitions[5].1;
        assert_eq!(settled.incident, Some(IncidentId(at(10))));
        assert!(!settled.silenced);
        assert!(!t.is_flapping());
        assert_eq!(t.state(at(29)), Down);
    }

    #[test]
    fn flapping_state_is_visible_while_held() {
        let mut t = flappy();
        for m in 0..5 {
            t.observe(&if m % 2 == 0 { fail(m) } else { ok(m) });
        }
        assert!(t.is_flapping());
        t.observe(&ok(5));
        t.observe(&fail(6));
        assert_eq!(t.state(at(6)), Up, "held");
        assert_eq!(t.health(), Down, "but the checks' verdict is kept");
        assert_eq!(t.measured_state(at(6)), Down);
        // Settling into the held state is still announced once, so the
        // status page can drop its flapping mark.
        let mut t = flappy();
        for m in 0..5 {
            t.observe(&if m % 2 == 0 { fail(m) } else { ok(m) });
        }
        let settle: Vec<_> = (5..30).filter_map(|m| t.observe(&ok(m))).collect();
        assert_eq!(settle.len(), 1);
        assert_eq!(
            (settle[0].from, settle[0].to, settle[0].flapping),
            (Up, Up, false)
        );
        // Without damping every change is announced.
        let mut t = tracker(0);
        let n = (0..10)
            .filter_map(|m| t.observe(&if m % 2 == 0 { fail(m) } else { ok(m) }))
            .count();
        assert_eq!(n, 10);
    }

    #[test]
    fn changes_during_maintenance_do_not_count_as_flapping() {
        // Reboots during planned work are expected, not instability.
        let mut t = flappy();
        t.set_maintenance(vec![MaintenanceWindow::one_off(at(0), at(10)).unwrap()]);
        for m in 0..10 {
            let tr = t
                .observe(&if m % 2 == 0 { fail(m) } else { ok(m) })
                .unwrap();
            assert!(tr.silenced && !tr.flapping, "{tr:?}");
        }
        assert!(!t.is_flapping());
        let down = t.observe(&fail(10)).unwrap();
        assert_eq!(
            (down.from, down.to, down.silenced, down.flapping),
            (Up, Down, false, false)
        );
    }

    #[test]
    fn maintenance_silences_but_tracks() {
        let window = MaintenanceWindow::one_off(at(10), at(20)).unwrap();
        let mut t = tracker(0);
        t.set_maintenance(vec![window.clone()]);
        t.observe(&ok(5));
        let down = t.observe(&fail(11)).unwrap();
        assert!(down.silenced);
        assert_eq!(down.to, Down);
        let x = down.incident.unwrap();
        assert_eq!(t.state(at(12)), Maintenance);
        assert_eq!(t.health(), Down, "tracked all the same");
        let up = t.observe(&ok(15)).unwrap();
        assert!(up.silenced && up.is_recovery());
        assert_eq!(up.incident, Some(x));
        assert_eq!(t.observe(&ok(20)), None, "nothing to announce afterwards");

        // Trouble that outlasts the window is announced when it ends, as
        // the same incident.
        let mut t = tracker(0);
        t.set_maintenance(vec![window.clone()]);
        let silent = t.observe(&fail(12)).unwrap();
        assert!(silent.silenced);
        assert_eq!(t.observe(&fail(19)), None);
        let late = t.observe(&fail(20)).expect("the window is half-open");
        assert_eq!((late.from, late.to, late.silenced), (Up, Down, false));
        assert_eq!(late.incident, silent.incident);
        let up = t.observe(&ok(21)).unwrap();
        assert!(!up.silenced && up.is_recovery());

        // Recovering at the very first check after the window: nobody heard
        // of the outage, so nobody hears of its end.
        let mut t = tracker(0);
        t.set_maintenance(vec![window.clone()]);
        t.observe(&fail(12));
        let quiet = t.observe(&ok(20)).unwrap();
        assert!(quiet.silenced && quiet.is_recovery());

        // An outage alerted before the window still reports its recovery.
        let mut t = tracker(0);
        t.set_maintenance(vec![window]);
        let down = t.observe(&fail(5)).unwrap();
        assert!(!down.silenced);
        let up = t.observe(&ok(12)).unwrap();
        assert!(!up.silenced && up.is_recovery());
        assert_eq!(up.incident, down.incident);
        // But new trouble inside the window is silenced again.
        assert!(t.observe(&fail(13)).unwrap().silenced);
    }

    #[test]
    fn paused_ignores_observations() {
        let mut t = tracker(0);
        let down = t.observe(&fail(0)).unwrap();
        let pause = t.pause(at(1)).unwrap();
        assert_eq!((pause.from, pause.to), (Down, Paused));
        assert!(pause.silenced && pause.is_recovery());
        assert_eq!(pause.incident, down.incident);
        assert_eq!(t.pause(at(1)), None);
        for m in 2..6 {
            assert_eq!(t.observe(&fail(m)), None);
        }
        assert_eq!(t.state(at(6)), Paused);
        assert_eq!(t.measured_state(at(6)), Paused);
        assert_eq!(t.incident(), None);
        let resume = t.resume(at(7)).unwrap();
        assert_eq!((resume.from, resume.to), (Paused, Up));
        assert_eq!(t.resume(at(7)), None);
        assert_eq!(t.state(at(7)), Up);
        let again = t.observe(&fail(8)).unwrap();
        assert_ne!(again.incident, down.incident, "a new outage after resuming");
        // Retries count afresh after resuming.
        let mut t = tracker(2);
        t.observe(&fail(0));
        t.observe(&fail(1));
        t.pause(at(2));
        t.resume(at(3));
        assert_eq!(t.observe(&fail(4)), None);
        assert_eq!(t.consecutive_failures(), 1);
    }

    #[test]
    fn restore_continues_an_open_outage() {
        let mut t = tracker(0);
        let down = t.observe(&fail(0)).unwrap();
        let mut restored = MonitorTracker::restore(settings(0), &down).unwrap();
        assert_eq!(restored.state(at(1)), Down);
        assert_eq!(restored.incident(), down.incident);
        assert_eq!(restored.observe(&fail(1)), None, "no second alert");
        let up = restored.observe(&ok(2)).unwrap();
        assert_eq!(up.incident, down.incident);
        let paused = t.pause(at(3)).unwrap();
        let restored = MonitorTracker::restore(settings(0), &paused).unwrap();
        assert!(restored.is_paused());
    }

    // ---- Heartbeats --------------------------------------------------------

    fn hourly() -> HeartbeatSettings {
        HeartbeatSettings {
            period: mins(60),
            grace: mins(10),
        }
    }

    #[test]
    fn heartbeat_late() {
        let mut h = HeartbeatTracker::new(hourly(), at(0)).unwrap();
        assert_eq!(
            h.ping(HeartbeatPing::success(at(30), Some("12 GB".into()))),
            None
        );
        assert_eq!(h.deadline(), Some(at(100)));
        assert_eq!(h.evaluate(at(100)), Up, "on time at the deadline itself");
        let late = at(100).checked_add(secs(1)).unwrap();
        assert_eq!(h.evaluate(late), Down);
        assert_eq!(h.problem(late).unwrap().code(), "late");
        let down = h.poll(late).unwrap();
        assert_eq!((down.from, down.to), (Up, Down));
        assert_eq!(
            down.reason.as_deref(),
            Some("has not reported since 2025-01-13T10:30:00Z")
        );
        assert_eq!(down.incident, Some(IncidentId(at(100))));
        assert_eq!(h.poll(at(200)), None, "one alert");
        let up = h
            .ping(HeartbeatPing::success(at(201), Some("13 GB".into())))
            .unwrap();
        assert!(up.is_recovery());
        assert_eq!(up.reason.as_deref(), Some("13 GB"));
        assert_eq!(h.last_success(), Some((at(201), Some("13 GB"))));

        // A job that never reports goes down a period and grace after
        // monitoring started.
        let mut h = HeartbeatTracker::new(hourly(), at(0)).unwrap();
        assert_eq!(h.poll(at(70)), None);
        let never = h.poll(at(71)).unwrap();
        assert!(never.reason.unwrap().contains("never reported"));
    }

    #[test]
    fn heartbeat_fail_is_down_at_once() {
        let mut h = HeartbeatTracker::new(hourly(), at(0)).unwrap();
        h.ping(HeartbeatPing::success(at(1), None));
        let down = h
            .ping(HeartbeatPing::fail(at(5), "disk full"))
            .expect("down at once");
        assert_eq!(down.to, Down);
        assert_eq!(down.reason.as_deref(), Some("reported failure: disk full"));
        assert_eq!(h.deadline(), None);
        // A new start does not clear a failure; only a success does.
        assert_eq!(h.ping(HeartbeatPing::start(at(6))), None);
        assert_eq!(h.evaluate(at(7)), Down);
        let up = h.ping(HeartbeatPing::success(at(8), None)).unwrap();
        assert_eq!(up.incident, down.incident);
        assert_eq!(h.evaluate(at(8)), Up);
    }

    #[test]
    fn heartbeat_start_without_success() {
        let mut h = HeartbeatTracker::new(hourly(), at(0)).unwrap();
        assert_eq!(h.ping(HeartbeatPing::start(at(50))), None);
        assert_eq!(h.deadline(), Some(at(60)));
        assert_eq!(h.poll(at(60)), None);
        let stuck = h.poll(at(61)).unwrap();
        assert_eq!(stuck.to, Down);
        assert_eq!(
            stuck.reason.as_deref(),
            Some("started at 2025-01-13T10:50:00Z but never finished")
        );
        assert_eq!(h.problem(at(61)).unwrap().code(), "never_finished");

        // A run that starts on time may finish after the period deadline
        // within its grace.
        let mut h = HeartbeatTracker::new(hourly(), at(0)).unwrap();
        h.ping(HeartbeatPing::start(at(65)));
        assert_eq!(h.poll(at(74)), None);
        assert_eq!(h.ping(HeartbeatPing::success(at(75), None)), None);
        assert_eq!(h.deadline(), Some(at(145)));

        // A start after the job was already late does not hide it.
        let mut h = HeartbeatTracker::new(hourly(), at(0)).unwrap();
        assert_eq!(h.poll(at(71)).unwrap().to, Down);
        assert_eq!(h.ping(HeartbeatPing::start(at(72))), None);
        assert_eq!(h.problem(at(72)).unwrap().code(), "late");

        // Pings that arrive out of order are understood by their instants.
        let mut h = HeartbeatTracker::new(hourly(), at(0)).unwrap();
        h.ping(HeartbeatPing::success(at(20), None));
        h.ping(HeartbeatPing::start(at(19)));
        assert_eq!(h.evaluate(at(40)), Up);
    }

    #[test]
    fn heartbeat_pause_and_maintenance() {
        let mut h = HeartbeatTracker::new(hourly(), at(0)).unwrap();
        h.set_maintenance(vec![MaintenanceWindow::one_off(at(60), at(120)).unwrap()]);
        let silent = h.poll(at(80)).unwrap();
        assert!(silent.silenced);
        assert_eq!(h.evaluate(at(80)), Maintenance);
        let announced = h.poll(at(120)).unwrap();
        assert!(!announced.silenced);
        assert_eq!(announced.incident, silent.incident);
        assert!(h.pause(at(121)).unwrap().is_recovery());
        assert_eq!(h.ping(HeartbeatPing::fail(at(122), "x")), None);
        assert_eq!(h.evaluate(at(500)), Paused);
        h.resume(at(600));
        assert_eq!(h.deadline(), Some(at(670)));
        assert_eq!(h.evaluate(at(669)), Up);
    }

    // ---- Maintenance windows -----------------------------------------------

    fn sunday_night() -> MaintenanceWindow {
        MaintenanceWindow::weekly(&[Weekday::Sunday], time(2, 0, 0, 0), mins(120), oslo()).unwrap()
    }

    fn occ(start: &str, end: &str) -> Occurrence {
        Occurrence {
            start: ts(start),
            end: ts(end),
        }
    }

    #[test]
    fn weekly_window_in_winter_and_summer() {
        let w = sunday_night();
        // Winter (CET, +01:00): 01:00Z-03:00Z.
        assert!(!w.is_active(ts("2025-01-19T00:59:59Z")));
        assert!(w.is_active(ts("2025-01-19T01:00:00Z")));
        assert!(w.is_active(ts("2025-01-19T02:59:59Z")));
        assert!(!w.is_active(ts("2025-01-19T03:00:00Z")));
        assert!(!w.is_active(ts("2025-01-20T01:30:00Z")), "Monday");
        // Summer (CEST, +02:00): 00:00Z-02:00Z.
        assert!(w.is_active(ts("2025-06-15T00:00:00Z")));
        assert!(!w.is_active(ts("2025-06-15T02:00:00Z")));
    }

    #[test]
    fn weekly_window_across_spring_forward() {
        // Sunday 2025-03-30: 02:00 CET does not exist; clocks jump to 03:00
        // CEST. The window runs from then to 04:00 CEST: one real hour.
        let w = sunday_night();
        assert!(!w.is_active(ts("2025-03-30T00:59:59Z")));
        assert!(w.is_active(ts("2025-03-30T01:00:00Z")));
        assert!(w.is_active(ts("2025-03-30T01:59:59Z")));
        assert!(!w.is_active(ts("2025-03-30T02:00:00Z")));
        assert_eq!(
            w.next_window(ts("2025-03-29T12:00:00Z")),
            Some(occ("2025-03-30T01:00:00Z", "2025-03-30T02:00:00Z"))
        );
        assert_eq!(
            w.next_window(ts("2025-03-30T01:30:00Z")),
            Some(occ("2025-03-30T01:00:00Z", "2025-03-30T02:00:00Z")),
            "the window going on"
        );
        assert_eq!(
            w.next_window(ts("2025-03-30T02:00:00Z")),
            Some(occ("2025-04-06T00:00:00Z", "2025-04-06T02:00:00Z")),
            "then the first summer-time Sunday"
        );
    }

    #[test]
    fn weekly_window_across_fall_back() {
        // Sunday 2025-10-26: 02:00-03:00 happens twice. The window starts
        // at the first 02:00 (CEST) and ends at 04:00 CET: three real hours.
        let w = sunday_night();
        assert_eq!(
            w.next_window(ts("2025-10-25T12:00:00Z")),
            Some(occ("2025-10-26T00:00:00Z", "2025-10-26T03:00:00Z"))
        );
        assert!(!w.is_active(ts("2025-10-25T23:59:59Z")));
        assert!(w.is_active(ts("2025-10-26T00:00:00Z")));
        assert!(w.is_active(ts("2025-10-26T02:30:00Z")), "03:30 CET");
        assert!(!w.is_active(ts("2025-10-26T03:00:00Z")));
        assert_eq!(
            w.next_window(ts("2025-10-26T03:00:00Z")),
            Some(occ("2025-11-02T01:00:00Z", "2025-11-02T03:00:00Z"))
        );
    }

    #[test]
    fn weekly_window_past_midnight_and_several_days() {
        // Friday and Saturday 23:00 for three hours, in Copenhagen.
        let w = MaintenanceWindow::weekly(
            &[Weekday::Friday, Weekday::Saturday],
            time(23, 0, 0, 0),
            mins(180),
            TimeZone::get("Europe/Copenhagen").unwrap(),
        )
        .unwrap();
        assert!(
            w.is_active(ts("2025-01-18T00:30:00Z")),
            "Saturday 01:30 local"
        );
        assert!(
            w.is_active(ts("2025-01-19T00:30:00Z")),
            "Sunday 01:30 local"
        );
        assert!(
            !w.is_active(ts("2025-01-20T00:30:00Z")),
            "Monday 01:30 local"
        );
        assert_eq!(
            w.next_window(ts("2025-01-18T12:00:00Z")),
            Some(occ("2025-01-18T22:00:00Z", "2025-01-19T01:00:00Z"))
        );
    }

    #[test]
    fn one_off_windows_and_errors() {
        let w = MaintenanceWindow::one_off(at(0), at(60)).unwrap();
        assert!(!w.is_active(at(-1)));
        assert!(w.is_active(at(0)));
        assert!(!w.is_active(at(60)));
        assert_eq!(
            w.next_window(at(-100)),
            Some(Occurrence {
                start: at(0),
                end: at(60)
            })
        );
        assert_eq!(w.next_window(at(60)), None);
        let e = MaintenanceWindow::one_off(at(5), at(5)).unwrap_err();
        assert_eq!(
            e,
            MaintenanceError::EndNotAfterStart {
                start: at(5),
                end: at(5)
            }
        );
        assert_eq!(e.field(), "end");
        let e = MaintenanceWindow::weekly(&[], time(2, 0, 0, 0), mins(60), oslo()).unwrap_err();
        assert_eq!(e, MaintenanceError::NoWeekdays);
        assert_eq!(e.field(), "weekdays");
        for duration in [SignedDuration::ZERO, MAX_WEEKLY_DURATION + secs(1)] {
            let e =
                MaintenanceWindow::weekly(&[Weekday::Monday], time(2, 0, 0, 0), duration, oslo())
                    .unwrap_err();
            assert!(matches!(e, MaintenanceError::DurationOutOfRange { .. }));
            assert_eq!(e.field(), "duration");
        }
    }

    // ---- Roll-ups ------------------------------------------------------------

    fn at_s(s: i64) -> Timestamp {
        at(0).checked_add(secs(s)).unwrap()
    }

    #[test]
    fn recorder_splits_time_at_minute_boundaries() {
        let mut r = RollupRecorder::new();
        r.record(at_s(30), Up, Some(&CheckOutcome::ok(at_s(30), 40)));
        r.record(at_s(75), Down, Some(&CheckOutcome::fail(at_s(75), "x")));
        r.record(at_s(130), Maintenance, None);
        r.record(at_s(150), Paused, None);
        r.record(at_s(170), Degraded, None);
        assert_eq!(
            r.flush(at_s(119)).len(),
            1,
            "the minute in progress stays open"
        );
        let minutes = r.flush(at_s(185));
        assert_eq!(minutes.len(), 2);
        let first = MinuteRollup {
            minute: at(1),
            up_seconds: 15,
            down_seconds: 45,
            degraded_seconds: 0,
            maintenance_seconds: 0,
            checks: 1,
            latency_samples: vec![],
            latency_seen: 0,
        };
        assert_eq!(minutes[0], first);
        assert_eq!(minutes[0].uptime_percent(), Some(25.0));
        let second = &minutes[1];
        assert_eq!(second.minute, at(2));
        assert_eq!(
            (
                second.down_seconds,
                second.maintenance_seconds,
                second.degraded_seconds
            ),
            (10, 20, 10),
            "paused time is not counted"
        );
        assert_eq!(second.uptime_percent(), Some(50.0), "maintenance excluded");
        let leftover = r.flush(at_s(240));
        assert_eq!(leftover.len(), 1);
        assert_eq!(leftover[0].degraded_seconds, 60);
    }

    #[test]
    fn uptime_excludes_maintenance() {
        let mut m = MinuteRollup::new(at(0));
        m.add_seconds(Up, 30);
        m.add_seconds(Maintenance, 30);
        assert_eq!(m.uptime_percent(), Some(100.0));
        m.add_seconds(Down, 10);
        assert_eq!(m.uptime_percent(), Some(75.0));
        let mut only = MinuteRollup::new(at(0));
        only.add_seconds(Maintenance, 60);
        assert_eq!(only.uptime_percent(), None);
        let mut degraded = MinuteRollup::new(at(0));
        degraded.add_seconds(Degraded, 60);
        assert_eq!(
            degraded.uptime_percent(),
            Some(100.0),
            "slow is still available"
        );
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let hundred: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50), Some(50));
        assert_eq!(percentile(&hundred, 95), Some(95));
        assert_eq!(percentile(&hundred, 100), Some(100));
        assert_eq!(percentile(&hundred, 0), Some(1));
        assert_eq!(percentile(&[40, 10, 30, 20], 50), Some(20));
        assert_eq!(percentile(&[40, 10, 30, 20], 95), Some(40));
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile(&[], 50), None);
        let mut m = MinuteRollup::new(at(0));
        for ms in [120, 80, 100] {
            m.add_latency(ms);
        }
        assert_eq!((m.latency_p50(), m.latency_p95()), (Some(100), Some(120)));
        assert_eq!(MinuteRollup::new(at(0)).latency_p95(), None);
    }

    #[test]
    fn latency_sample_is_bounded_and_systematic() {
        let fill = |n: u32| {
            let mut m = MinuteRollup::new(at(0));
            for i in 0..n {
                m.add_latency(i);
            }
            m
        };
        let m = fill(64);
        assert_eq!(
            m.latency_samples,
            (0..64).collect::<Vec<_>>(),
            "all kept up to the cap"
        );
        let m = fill(1000);
        // 1000 values need a stride of 16 to fit 64: 0, 16, ..., 992.
        assert_eq!(m.latency_samples, (0..1000).step_by(16).collect::<Vec<_>>());
        assert_eq!(m.latency_seen, 1000);
        assert_eq!(fill(1000), m, "deterministic");
        assert_eq!(m.latency_p50(), Some(496));
    }

    #[test]
    fn minutes_merge_into_hours() {
        let mut hour = HourRollup::new(at(0).checked_add(secs(1234)).unwrap());
        assert_eq!(hour.hour, at(0));
        for m in 0..60 {
            let mut minute = MinuteRollup::new(at(m));
            minute.add_seconds(if m < 45 { Up } else { Down }, 60);
            minute.add_check(&CheckOutcome::ok(at(m), u32::try_from(m).unwrap()));
            minute.add_check(&CheckOutcome::fail(at(m), "x"));
            hour.merge(&minute).unwrap();
        }
        assert_eq!((hour.up_seconds, hour.down_seconds), (2700, 900));
        assert_eq!(hour.checks, 120);
        assert_eq!(hour.latency_samples.len(), 60);
        assert_eq!(hour.uptime_percent(), Some(75.0));
        assert_eq!(hour.latency_p50(), Some(29));
        assert_eq!(hour.latency_p95(), Some(56));
        assert_eq!(
            hour.merge(&MinuteRollup::new(at(60))),
            Err(RollupError::OutsideHour {
                minute: at(60),
                hour: at(0)
            })
        );
        let mut a = MinuteRollup::new(at(3));
        a.add_seconds(Up, 20);
        a.add_latency(5);
        let mut b = MinuteRollup::new(at(3));
        b.add_seconds(Down, 20);
        b.add_latency(9);
        a.merge(&b).unwrap();
        assert_eq!((a.up_seconds, a.down_seconds, a.latency_seen), (20, 20, 2));
        assert_eq!(a.latency_samples, [5, 9]);
        assert!(a.merge(&MinuteRollup::new(at(4))).is_err());
    }

    // ---- Properties ------------------------------------------------------------

    #[derive(Clone, Debug)]
    enum Op {
        Ok(u32),
        Degraded,
        Fail,
        Pause,
        Resume,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (1u32..2000).prop_map(Op::Ok),
            1 => Just(Op::Degraded),
            5 => Just(Op::Fail),
            1 => Just(Op::Pause),
            1 => Just(Op::Resume),
        ]
    }

    proptest! {
        #[test]
        fn tracker_invariants(
            retries in 0u8..4,
            damping in any::<bool>(),
            threshold in proptest::option::of(100u32..1500),
            window in proptest::option::of((0i64..150, 1i64..60)),
            ops in prop::collection::vec(op(), 1..200),
        ) {
            let settings = CheckSettings {
                interval: mins(1),
                timeout: secs(10),
                retries,
                degraded_above_ms: threshold,
                flap: damping.then_some(FlapDamping { window: mins(10), max_changes: 4 }),
            };
            let mut t = MonitorTracker::new(settings).unwrap();
            if let Some((start, length)) = window {
                t.set_maintenance(vec![MaintenanceWindow::one_off(at(start), at(start + length)).unwrap()]);
            }
            let mut run = 0u32; // consecutive failures the tracker has seen
            let mut paused = false;
            let mut told = Up; // what people were last told
            let mut ended: HashSet<IncidentId> = HashSet::new();
            for (i, op) in ops.iter().enumerate() {
                let now = at(i64::try_from(i).unwrap());
                let transition = match op {
                    Op::Pause => {
                        paused = true;
                        t.pause(now)
                    }
                    Op::Resume => {
                        if paused {
                            run = 0;
                            told = Up;
                        }
                        paused = false;
                        t.resume(now)
                    }
                    Op::Fail => {
                        if !paused {
                            run += 1;
                        }
                        t.observe(&CheckOutcome::fail(now, "x"))
                    }
                    Op::Degraded => {
                        if !paused {
                            run = 0;
                        }
                        t.observe(&CheckOutcome::degraded(now, "slow"))
                    }
                    Op::Ok(ms) => {
                        if !paused {
                            run = 0;
                        }
                        t.observe(&CheckOutcome::ok(now, *ms))
                    }
                };
                if !paused {
                    prop_assert_eq!(t.health() == Down, run > u32::from(retries));
                    prop_assert_eq!(t.consecutive_failures(), run);
                }
                let Some(tr) = transition else { continue };
                if tr.to == Down {
                    prop_assert!(tr.incident.is_some(), "every Down belongs to an incident");
                    if tr.from != Down {
                        prop_assert!(run > u32::from(retries), "Down before {} failures: {:?}", retries + 1, tr);
                    }
                }
                if let Some(id) = tr.incident {
                    prop_assert!(!ended.contains(&id), "transition after the incident ended: {:?}", tr);
                    if tr.is_recovery() {
                        ended.insert(id);
                    }
                }
                if !tr.silenced {
                    prop_assert_eq!(tr.from, told, "announced from what people were told");
                    told = tr.to;
                }
                if tr.to == Paused {
                    prop_assert!(tr.silenced);
                }
            }
        }

        #[test]
        fn uptime_stays_within_bounds_and_time_is_conserved(
            steps in prop::collection::vec((0i64..400, 0usize..5, proptest::option::of(0u32..5000)), 1..60),
            start in 0i64..3600,
        ) {
            let mut r = RollupRecorder::new();
            let mut now = at_s(start);
            let mut expected = 0i64;
            let mut minutes = Vec::new();
            for (gap, state, latency) in &steps {
                let state = MonitorState::ALL[*state];
                let outcome = latency.map(|ms| CheckOutcome::ok(now, ms));
                r.record(now, state, outcome.as_ref());
                let next = now.checked_add(secs(*gap)).unwrap();
                if state != Paused {
                    expected += gap;
                }
                if gap % 3 == 0 {
                    minutes.extend(r.flush(next));
                }
                now = next;
            }
            r.record(now, Paused, None);
            minutes.extend(r.flush(now.checked_add(secs(120)).unwrap()));
            let mut total = 0i64;
            let mut hours: BTreeMap<Timestamp, HourRollup> = BTreeMap::new();
            for m in &minutes {
                let counted = m.up_seconds + m.down_seconds + m.degraded_seconds + m.maintenance_seconds;
                prop_assert!(counted <= 60);
                total += i64::from(counted);
                if let Some(p) = m.uptime_percent() {
                    prop_assert!((0.0..=100.0).contains(&p));
                }
                prop_assert!(m.latency_samples.len() <= LATENCY_SAMPLES_PER_MINUTE);
                hours.entry(HourRollup::new(m.minute).hour)
                    .or_insert_with(|| HourRollup::new(m.minute))
                    .merge(m)
                    .unwrap();
            }
            // Flushes neither lose nor double time.
            prop_assert_eq!(total, expected);
            let checks: u32 = minutes.iter().map(|m| m.checks).sum();
            prop_assert_eq!(checks, u32::try_from(steps.iter().filter(|s| s.2.is_some()).count()).unwrap());
            for hour in hours.values() {
                if let Some(p) = hour.uptime_percent() {
                    prop_assert!((0.0..=100.0).contains(&p));
                }
                prop_assert!(hour.up_seconds + hour.down_seconds + hour.degraded_seconds + hour.maintenance_seconds <= 3600);
            }
        }

        #[test]
        fn weekly_windows_agree_with_their_next_occurrence(
            days in 1u8..128,
            hour in 0i8..24,
            minute in 0i8..60,
            length in 1i64..(3 * 24 * 60),
            offset in 0i64..(366 * 24 * 60),
        ) {
            let weekdays: Vec<Weekday> = (0..7)
                .filter(|&d| days & (1u8 << d) != 0)
                .map(|d| Weekday::from_monday_zero_offset(d).unwrap())
                .collect();
            let w = MaintenanceWindow::weekly(&weekdays, time(hour, minute, 0, 0), mins(length), oslo()).unwrap();
            let now = ts("2025-01-01T00:00:00Z").checked_add(mins(offset)).unwrap();
            let next = w.next_window(now).expect("a weekly window always comes again");
            prop_assert!(next.end > now);
            prop_assert_eq!(w.is_active(now), next.start <= now);
            // Wall-clock length, give or take the hour a clock change adds or takes.
            let real = next.end.duration_since(next.start);
            prop_assert!((real - mins(length)).abs() <= mins(60));
            prop_assert!(next.start <= now.checked_add(SignedDuration::from_hours(8 * 24)).unwrap());
        }
    }
}
