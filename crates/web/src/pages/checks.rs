//! Active checks and maintenance windows on the monitors page: creating a check from the
//! form, pausing and resuming, one-off and weekly maintenance, and a monitor's history.

use super::dashboard::html;
use super::monitors::page;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::clock::to_millis;
use drifta_core::monitor::MonitorKind;
use drifta_core::monitor_history::PackedMinutes;
use drifta_core::{Permission, TenantId};
use drifta_monitor::probe::{DnsProbe, DnsRecord, HttpProbe, Probe, ProbeError, TlsProbe};
use drifta_store::{MaintenanceSchedule, MaintenanceTarget, NewCheck, NewMaintenance, StoreError};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};

/// The "new check" form: one form for every kind; only the fields of the chosen kind count.
#[derive(Deserialize, Default)]
pub struct CheckForm {
    #[serde(default)]
    pub tenant: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub expected_status: String,
    #[serde(default)]
    pub keyword: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub port: String,
    #[serde(default)]
    pub dns_name: String,
    #[serde(default)]
    pub record: String,
    #[serde(default)]
    pub expected: String,
    #[serde(default)]
    pub dns_server: String,
    #[serde(default)]
    pub warn_days: String,
    #[serde(default)]
    pub accept_invalid: Option<String>,
    #[serde(default)]
    pub interval_secs: String,
    #[serde(default)]
    pub timeout_secs: String,
    #[serde(default)]
    pub retries: String,
    #[serde(default)]
    pub degraded_above_ms: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub item: String,
}

/// A form value that could not be turned into a probe: the field, for the message.
#[derive(Debug, PartialEq, Eq)]
pub struct FormProblem(pub &'static str);

impl From<ProbeError> for FormProblem {
    fn from(e: ProbeError) -> Self {
        FormProblem(e.field)
    }
}

fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn number<T: std::str::FromStr>(text: &str, field: &'static str) -> Result<Option<T>, FormProblem> {
    match optional(text) {
        None => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| FormProblem(field)),
    }
}

/// Builds and validates the probe the form describes.
pub fn probe_from_form(form: &CheckForm) -> Result<Probe, FormProblem> {
    let kind = MonitorKind::parse(form.kind.trim())
        .filter(|k| k.is_active())
        .ok_or(FormProblem("kind"))?;
    let probe = match kind {
        MonitorKind::Http => Probe::Http(HttpProbe {
            url: form.url.trim().to_string(),
            expected_status: number(&form.expected_status, "expected_status")?,
            keyword: optional(&form.keyword),
            method_head: false,
        }),
        MonitorKind::Tcp => Probe::Tcp {
            host: form.host.trim().to_string(),
            port: number(&form.port, "port")?.ok_or(FormProblem("port"))?,
        },
        MonitorKind::Icmp => Probe::Icmp {
            host: form.host.trim().to_string(),
        },
        MonitorKind::Dns => Probe::Dns(DnsProbe {
            name: form.dns_name.trim().to_string(),
            record: form.record.parse::<DnsRecord>()?,
            expected: optional(&form.expected),
            server: match optional(&form.dns_server) {
                None => None,
                // A bare address means the usual port.
                Some(s) => Some(
                    s.parse::<SocketAddr>()
                        .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
                        .map_err(|_| FormProblem("server"))?,
                ),
            },
        }),
        MonitorKind::TlsExpiry => Probe::TlsExpiry(TlsProbe {
            host: form.host.trim().to_string(),
            port: number(&form.port, "port")?.unwrap_or(443),
            warn_days: number(&form.warn_days, "warn_days")?.unwrap_or(14),
            accept_invalid: form.accept_invalid.is_some(),
        }),
        MonitorKind::Heartbeat => return Err(FormProblem("kind")),
    };
    probe.validate()?;
    Ok(probe)
}

/// The message for a form field that is wrong.
pub fn problem_message(tr: &Tr, problem: &FormProblem) -> String {
    tr.t(&format!("err-probe-{}", problem.0.replace('_', "-")))
}

pub async fn create(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<CheckForm>,
) -> Result<Response, PageError> {
    let tenant = TenantId::parse(&form.tenant).map_err(|_| PageError::BadRequest(ctx.tr))?;
    let probe = match probe_from_form(&form) {
        Ok(p) => p,
        Err(problem) => {
            let message = problem_message(&ctx.tr, &problem);
            return page(&state, &ctx, None, Some(message)).await;
        }
    };
    let settings = (|| -> Result<_, FormProblem> {
        Ok((
            number(&form.interval_secs, "interval")?.unwrap_or(60),
            number(&form.timeout_secs, "timeout")?.unwrap_or(10),
            number(&form.retries, "retries")?.unwrap_or(2),
            number(&form.degraded_above_ms, "degraded_above_ms")?,
        ))
    })();
    let (interval_secs, timeout_secs, retries, degraded_above_ms) = match settings {
        Ok(s) => s,
        Err(problem) => {
            let message = problem_message(&ctx.tr, &problem);
            return page(&state, &ctx, None, Some(message)).await;
        }
    };
    let item = match super::monitors::watched_item(&state, &ctx, &form.item).await? {
        Ok(item) => item,
        Err(message) => return page(&state, &ctx, None, Some(message)).await,
    };
    let new = NewCheck {
        tenant_id: tenant,
        name: form.name.clone(),
        kind: probe.kind(),
        probe: serde_json::to_value(&probe).map_err(|_| PageError::BadRequest(ctx.tr))?,
        interval_secs,
        timeout_secs,
        retries,
        degraded_above_ms,
        location_id: optional(&form.location),
    };
    match state.store.create_check_monitor(&ctx.scope, new).await {
        Ok(monitor) => {
            if let Some(item) = item {
                state
                    .store
                    .set_monitor_item(&ctx.scope, &monitor.id, Some(&item))
                    .await
                    .map_err(|e| ctx.store_err(e))?;
            }
            Ok(Redirect::to("/monitors").into_response())
        }
        Err(StoreError::Invalid(f)) => {
            let message = super::admin_users::field_message(&ctx.tr, &f);
            page(&state, &ctx, None, Some(message)).await
        }
        Err(e) => Err(ctx.store_err(e)),
    }
}

#[derive(Deserialize)]
pub struct PauseForm {
    #[serde(default)]
    paused: String,
}

pub async fn set_paused(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<PauseForm>,
) -> Result<Response, PageError> {
    state
        .store
        .set_monitor_paused(&ctx.scope, &id, form.paused == "1")
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/monitors").into_response())
}

#[derive(Deserialize, Default)]
pub struct MaintenanceForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    title: String,
    /// `tenant`, `location:<id>` or `monitor:<id>`.
    #[serde(default)]
    target: String,
    /// `once` or `weekly`.
    #[serde(default)]
    schedule: String,
    /// Local date-times (`YYYY-MM-DDTHH:MM`, as a datetime-local input sends them).
    #[serde(default)]
    starts: String,
    #[serde(default)]
    ends: String,
    /// Weekday checkboxes `wd1` (Monday) to `wd7`, each present when ticked (form decoding
    /// takes no repeated names).
    wd1: Option<String>,
    wd2: Option<String>,
    wd3: Option<String>,
    wd4: Option<String>,
    wd5: Option<String>,
    wd6: Option<String>,
    wd7: Option<String>,
    /// `HH:MM`.
    #[serde(default)]
    start_time: String,
    #[serde(default)]
    duration_minutes: String,
}

/// The schedule a maintenance form describes, in the municipality's zone.
fn schedule_from_form(
    form: &MaintenanceForm,
    zone: &str,
) -> Result<MaintenanceSchedule, FormProblem> {
    let tz = jiff::tz::TimeZone::get(zone).map_err(|_| FormProblem("starts"))?;
    let local = |text: &str, field: &'static str| {
        text.trim()
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| tz.to_timestamp(dt).ok())
            .map(to_millis)
            .ok_or(FormProblem(field))
    };
    match form.schedule.as_str() {
        "once" => Ok(MaintenanceSchedule::Once {
            starts_at: local(&form.starts, "starts")?,
            ends_at: local(&form.ends, "ends")?,
        }),
        "weekly" => {
            let ticked = [
                &form.wd1, &form.wd2, &form.wd3, &form.wd4, &form.wd5, &form.wd6, &form.wd7,
            ];
            let weekdays = ticked
                .iter()
                .enumerate()
                .filter(|(_, t)| t.is_some())
                .fold(0u8, |bits, (i, _)| bits | (1 << i));
            if weekdays == 0 {
                return Err(FormProblem("weekdays"));
            }
            let time = form
                .start_time
                .trim()
                .parse::<jiff::civil::Time>()
                .map_err(|_| FormProblem("start"))?;
            let duration: u32 = form
                .duration_minutes
                .trim()
                .parse()
                .map_err(|_| FormProblem("duration"))?;
            Ok(MaintenanceSchedule::Weekly {
                weekdays,
                start_minute: u16::try_from(i32::from(time.hour()) * 60 + i32::from(time.minute()))
                    .map_err(|_| FormProblem("start"))?,
                duration_mins: duration,
            })
        }
        _ => Err(FormProblem("schedule")),
    }
}

fn target_from_form(text: &str) -> MaintenanceTarget {
    match text.split_once(':') {
        Some(("location", id)) => MaintenanceTarget::Location(id.to_string()),
        Some(("monitor", id)) => MaintenanceTarget::Monitor(id.to_string()),
        _ => MaintenanceTarget::Tenant,
    }
}

pub async fn create_maintenance(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<MaintenanceForm>,
) -> Result<Response, PageError> {
    let tenant = TenantId::parse(&form.tenant).map_err(|_| PageError::BadRequest(ctx.tr))?;
    let zone = state
        .store
        .get_tenant(&ctx.scope, &tenant)
        .await
        .map_err(|e| ctx.store_err(e))?
        .time_zone;
    let schedule = match schedule_from_form(&form, &zone) {
        Ok(s) => s,
        Err(problem) => {
            let message = tr_maintenance(&ctx.tr, problem.0);
            return page(&state, &ctx, None, Some(message)).await;
        }
    };
    let new = NewMaintenance {
        tenant_id: tenant,
        title: form.title.clone(),
        target: target_from_form(&form.target),
        schedule,
    };
    match state.store.create_maintenance(&ctx.scope, new).await {
        Ok(_) => Ok(Redirect::to("/monitors#maintenance").into_response()),
        Err(StoreError::Invalid(f)) => {
            let message = super::admin_users::field_message(&ctx.tr, &f);
            page(&state, &ctx, None, Some(message)).await
        }
        Err(e) => Err(ctx.store_err(e)),
    }
}

fn tr_maintenance(tr: &Tr, field: &str) -> String {
    tr.t(&format!("err-maintenance-{field}"))
}

pub async fn delete_maintenance(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, _form): CsrfForm<PauseForm>,
) -> Result<Response, PageError> {
    state
        .store
        .delete_maintenance(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/monitors#maintenance").into_response())
}

/// One hour of a monitor's history as the page shows it.
pub struct HourView {
    hour: String,
    uptime: String,
    checks: i64,
    p50: String,
    p95: String,
    /// One mark per minute: `up`, `degraded`, `down`, `maintenance` or `none`.
    minutes: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "monitor.html")]
struct MonitorPage {
    tr: Tr,
    shell: Option<Shell>,
    name: String,
    tenant: String,
    kind: String,
    target: String,
    state: String,
    state_name: String,
    reason: String,
    since: String,
    hours: Vec<HourView>,
}

fn minute_mark(m: &drifta_core::monitor_history::StoredMinute) -> &'static str {
    if m.down_secs > 0 {
        "down"
    } else if m.degraded_secs > 0 {
        "degraded"
    } else if m.maintenance_secs > 0 {
        "maintenance"
    } else if m.up_secs > 0 {
        "up"
    } else {
        "none"
    }
}

/// A readable one-line summary of what a probe checks.
pub fn probe_summary(probe_json: &str) -> String {
    match serde_json::from_str::<Probe>(probe_json) {
        Ok(Probe::Http(h)) => h.url,
        Ok(Probe::Tcp { host, port }) => format!("{host}:{port}"),
        Ok(Probe::Icmp { host }) => host,
        Ok(Probe::Dns(d)) => format!("{} {}", d.record, d.name),
        Ok(Probe::TlsExpiry(t)) => format!("{}:{}", t.host, t.port),
        Err(_) => String::new(),
    }
}

/// A monitor's last 24 hours, minute by minute.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::ReadAll) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let view = ctx.view_scope();
    let m = state
        .store
        .get_monitor(&view, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let since = state.store.now_ms() - 24 * 3_600_000;
    let rows = state
        .store
        .monitor_hours(&view, &id, since)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let ms = |v: Option<i64>| v.map(|v| format!("{v} ms")).unwrap_or_else(|| "–".into());
    let hours = rows
        .iter()
        .rev()
        .map(|r| {
            let up = r.up_secs + r.degraded_secs;
            let total = up + r.down_secs;
            HourView {
                hour: local_time(r.hour, &m.time_zone),
                uptime: if total > 0 {
                    format!("{:.2} %", up as f64 * 100.0 / total as f64)
                } else {
                    "–".into()
                },
                checks: r.checks,
                p50: ms(r.latency_p50),
                p95: ms(r.latency_p95),
                minutes: PackedMinutes::from_bytes(&r.minutes)
                    .map(|p| p.iter().map(minute_mark).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let body = MonitorPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/monitors").await?),
        kind: ctx
            .tr
            .t(&format!("monitor-kind-{}", m.kind.replace('_', "-"))),
        target: probe_summary(&m.probe),
        state_name: ctx.tr.t(&format!("monitor-state-{}", m.state)),
        since: local_time(m.state_since, &m.time_zone),
        name: m.name,
        tenant: m.tenant_name,
        state: m.state,
        reason: m.reason,
        hours,
    };
    html(ctx.tr, &body)
}

/// One tile of the operations wall.
pub struct WallTile {
    name: String,
    tenant: String,
    state: String,
    state_name: String,
    reason: String,
    since: String,
}

#[derive(Template)]
#[template(path = "wall.html")]
struct WallPage {
    tr: Tr,
    shell: Option<Shell>,
    /// (state, its name, how many), problems first.
    counts: Vec<(&'static str, String, usize)>,
    tiles: Vec<WallTile>,
}

/// The operations wall: every monitor of every municipality the technician serves, problems
/// first, updated live. Built for a wall screen: big type, colour and words for each state.
pub async fn wall(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::ReadAll) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let monitors = state
        .store
        .list_monitors(&ctx.view_scope())
        .await
        .map_err(|e| ctx.store_err(e))?;
    let order = ["down", "degraded", "maintenance", "paused", "up"];
    let counts = order
        .iter()
        .map(|s| {
            (
                *s,
                ctx.tr.t(&format!("monitor-state-{s}")),
                monitors.iter().filter(|m| m.state == *s).count(),
            )
        })
        .collect();
    let mut tiles: Vec<WallTile> = monitors
        .into_iter()
        .map(|m| WallTile {
            state_name: ctx.tr.t(&format!("monitor-state-{}", m.state)),
            since: local_time(m.state_since, &m.time_zone),
            name: m.name,
            tenant: m.tenant_name,
            state: m.state,
            reason: m.reason,
        })
        .collect();
    tiles.sort_by_key(|t| {
        order
            .iter()
            .position(|s| *s == t.state)
            .unwrap_or(order.len())
    });
    let body = WallPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/wall").await?),
        counts,
        tiles,
    };
    html(ctx.tr, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: &str) -> CheckForm {
        CheckForm {
            kind: kind.into(),
            ..CheckForm::default()
        }
    }

    #[test]
    fn each_kind_reads_its_own_fields() {
        let mut f = form("http");
        f.url = " https://intranett.kommune.no/ ".into();
        f.keyword = "Velkommen".into();
        f.host = "ignored".into();
        assert_eq!(
            probe_from_form(&f).unwrap(),
            Probe::Http(HttpProbe {
                url: "https://intranett.kommune.no/".into(),
                expected_status: None,
                keyword: Some("Velkommen".into()),
                method_head: false,
            })
        );
        let mut f = form("tcp");
        f.host = "db1".into();
        f.port = "5432".into();
        assert_eq!(
            probe_from_form(&f).unwrap(),
            Probe::Tcp {
                host: "db1".into(),
                port: 5432
            }
        );
        let mut f = form("dns");
        f.dns_name = "kommune.no".into();
        f.record = "mx".into();
        f.dns_server = "192.0.2.53".into();
        let Probe::Dns(d) = probe_from_form(&f).unwrap() else {
            panic!("a DNS probe")
        };
        assert_eq!(d.record, DnsRecord::Mx);
        assert_eq!(d.server, Some("192.0.2.53:53".parse().unwrap()));
        let mut f = form("tls_expiry");
        f.host = "kommune.no".into();
        f.accept_invalid = Some("on".into());
        let Probe::TlsExpiry(t) = probe_from_form(&f).unwrap() else {
            panic!("a TLS probe")
        };
        assert_eq!((t.port, t.warn_days, t.accept_invalid), (443, 14, true));
    }

    #[test]
    fn bad_values_name_their_field() {
        let problem = |f: &CheckForm| probe_from_form(f).unwrap_err().0;
        assert_eq!(problem(&form("heartbeat")), "kind");
        assert_eq!(problem(&form("gopher")), "kind");
        let mut f = form("http");
        f.url = "ftp://x".into();
        assert_eq!(problem(&f), "url");
        f.url = "https://x.no".into();
        f.expected_status = "abc".into();
        assert_eq!(problem(&f), "expected_status");
        let mut f = form("tcp");
        f.host = "db1".into();
        f.port = "70000".into();
        assert_eq!(problem(&f), "port");
        f.port = String::new();
        assert_eq!(problem(&f), "port");
        let mut f = form("icmp");
        f.host = "bad host".into();
        assert_eq!(problem(&f), "host");
        let mut f = form("dns");
        f.dns_name = "kommune.no".into();
        f.record = "SOA".into();
        assert_eq!(problem(&f), "record");
        f.record = "A".into();
        f.dns_server = "not-an-address".into();
        assert_eq!(problem(&f), "server");
    }

    #[test]
    fn maintenance_forms_read_local_times_and_weekdays() {
        let f = MaintenanceForm {
            schedule: "once".into(),
            starts: "2026-11-24T22:00".into(),
            ends: "2026-11-25T02:00".into(),
            ..MaintenanceForm::default()
        };
        let MaintenanceSchedule::Once { starts_at, ends_at } =
            schedule_from_form(&f, "Europe/Oslo").unwrap()
        else {
            panic!("one-off")
        };
        // 22:00 in Oslo in November is 21:00 UTC.
        assert_eq!(
            starts_at,
            to_millis("2026-11-24T21:00:00Z".parse().unwrap())
        );
        assert_eq!(ends_at - starts_at, 4 * 3_600_000);
        let f = MaintenanceForm {
            schedule: "weekly".into(),
            wd2: Some("1".into()),
            wd4: Some("1".into()),
            start_time: "22:30".into(),
            duration_minutes: "90".into(),
            ..MaintenanceForm::default()
        };
        assert_eq!(
            schedule_from_form(&f, "Europe/Copenhagen").unwrap(),
            MaintenanceSchedule::Weekly {
                weekdays: 0b1010,
                start_minute: 22 * 60 + 30,
                duration_mins: 90
            }
        );
        let bad = |f: MaintenanceForm| schedule_from_form(&f, "Europe/Oslo").unwrap_err().0;
        assert_eq!(
            bad(MaintenanceForm {
                schedule: "once".into(),
                starts: "tomorrow".into(),
                ..MaintenanceForm::default()
            }),
            "starts"
        );
        assert_eq!(
            bad(MaintenanceForm {
                schedule: "weekly".into(),
                start_time: "22:00".into(),
                duration_minutes: "30".into(),
                ..MaintenanceForm::default()
            }),
            "weekdays"
        );
        assert_eq!(
            bad(MaintenanceForm {
                schedule: "weekly".into(),
                wd1: Some("1".into()),
                start_time: "25:00".into(),
                ..MaintenanceForm::default()
            }),
            "start"
        );
        assert_eq!(bad(MaintenanceForm::default()), "schedule");
    }
}
