//! The monthly uptime report per municipality and service: a printable page with a month
//! picker, the same as CSV for a spreadsheet; the API's `/monitors/report` reads the same
//! figures through [`resolve`].

use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use drifta_core::uptime::{UptimeFigures, parse_month};
use drifta_core::{Permission, Scope, TenantId, TenantKind};
use drifta_store::{MunicipalityUptime, Store, StoreError, UptimeReport};
use jiff::civil::Date;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    /// `YYYY-MM`; the current month when absent.
    #[serde(default)]
    pub month: Option<String>,
    /// A municipality's id or short name; every municipality in view when absent.
    #[serde(default)]
    pub tenant: Option<String>,
}

/// What is wrong with a report request.
#[derive(Debug)]
pub enum ReportProblem {
    /// Not a month (`2026-13`, `abc`).
    Month,
    /// No such municipality in the reader's scope (or none at all): the two are alike.
    NotFound,
    Store(StoreError),
}

impl From<StoreError> for ReportProblem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ReportProblem::NotFound,
            StoreError::Invalid(f) if f.field == "month" => ReportProblem::Month,
            e => ReportProblem::Store(e),
        }
    }
}

/// A report request read and checked: the scope to read with, the municipality (if one was
/// asked for) and the month.
pub struct Request {
    pub scope: Scope,
    pub tenant: Option<drifta_core::tenant::Tenant>,
    pub month: Date,
    /// The month it is now, in the same zone.
    pub current: Date,
}

/// Reads `tenant` and `month` for `scope`. A tenant given by id or short name is looked up
/// in the scope, so one outside it is "not found" like one that does not exist; without a
/// month, the current one in the municipality's zone (or the first municipality's).
pub async fn resolve(
    store: &Store,
    scope: &Scope,
    q: &ReportQuery,
) -> Result<Request, ReportProblem> {
    let wanted = q.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let tenants: Vec<_> = store
        .list_tenants(scope)
        .await?
        .into_iter()
        .filter(|t| t.kind == TenantKind::Municipality && scope.can(&t.id, Permission::ReadAll))
        .collect();
    let tenant = match wanted {
        None => None,
        Some(text) => Some(
            tenants
                .iter()
                .find(|t| TenantId::parse(text).is_ok_and(|id| id == t.id) || t.slug == text)
                .cloned()
                .ok_or(ReportProblem::NotFound)?,
        ),
    };
    let zone = tenant
        .as_ref()
        .or(tenants.first())
        .and_then(|t| jiff::tz::TimeZone::get(&t.time_zone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let current = store.now().to_zoned(zone).date().first_of_month();
    let month = match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(text) => parse_month(text).ok_or(ReportProblem::Month)?,
        None => current,
    };
    Ok(Request {
        scope: scope.clone(),
        tenant,
        month,
        current,
    })
}

/// Loads the report a request asks for.
pub async fn load(store: &Store, request: &Request) -> Result<UptimeReport, ReportProblem> {
    Ok(store
        .uptime_report(
            &request.scope,
            request.tenant.as_ref().map(|t| &t.id),
            request.month,
        )
        .await?)
}

/// One row's figures as the page and the CSV show them.
pub struct FiguresView {
    pub uptime: String,
    pub down: String,
    pub degraded: String,
    pub maintenance: String,
    pub outages: String,
    pub longest: String,
    pub p50: String,
    pub p95: String,
    pub has_data: bool,
}

/// Minutes with one decimal, e.g. "90.0".
fn minutes(ms: i64) -> String {
    format!("{:.1}", ms as f64 / 60_000.0)
}

fn figures_view(tr: &Tr, f: &UptimeFigures) -> FiguresView {
    let ms = |v: Option<i64>| v.map_or_else(|| "–".to_string(), |v| v.to_string());
    FiguresView {
        uptime: match f.uptime_percent {
            // A no-break space keeps the sign with its number in a narrow column.
            Some(p) => format!("{p:.3}\u{a0}%"),
            None if f.has_data => "–".into(),
            None => tr.t("uptime-report-no-data"),
        },
        down: minutes(f.down_ms),
        degraded: minutes(f.degraded_ms),
        maintenance: minutes(f.maintenance_ms),
        outages: f.outages.to_string(),
        longest: minutes(f.longest_outage_ms),
        p50: ms(f.latency_p50_ms),
        p95: ms(f.latency_p95_ms),
        has_data: f.has_data,
    }
}

pub struct MonitorView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub figures: FiguresView,
}

pub struct MunicipalityView {
    pub name: String,
    pub slug: String,
    pub period: String,
    pub summary: FiguresView,
    pub monitors: Vec<MonitorView>,
}

fn kind_name(tr: &Tr, kind: &str) -> String {
    tr.t(&format!("monitor-kind-{}", kind.replace('_', "-")))
}

fn municipality_view(tr: &Tr, m: &MunicipalityUptime) -> MunicipalityView {
    MunicipalityView {
        name: m.name.clone(),
        slug: m.slug.clone(),
        period: tr.t_with(
            "uptime-report-period",
            &[
                ("from", &local_time(m.starts_at, &m.time_zone)),
                ("to", &local_time(m.ends_at, &m.time_zone)),
                ("zone", &m.time_zone),
            ],
        ),
        summary: figures_view(tr, &m.summary),
        monitors: m
            .monitors
            .iter()
            .map(|r| MonitorView {
                id: r.monitor_id.clone(),
                name: r.name.clone(),
                kind: kind_name(tr, &r.kind),
                figures: figures_view(tr, &r.figures),
            })
            .collect(),
    }
}

/// "mars 2026", in the reader's language.
fn month_name(tr: &Tr, month: Date) -> String {
    format!(
        "{} {}",
        tr.t(&format!("uptime-report-month-{}", month.month())),
        month.year()
    )
}

#[derive(Template)]
#[template(path = "uptime_report.html")]
struct UptimeReportPage {
    tr: Tr,
    shell: Option<Shell>,
    /// The month field's value (what was typed, when it was wrong).
    month: String,
    heading: String,
    error: Option<String>,
    /// The picker's municipalities: (short name, name).
    tenants: Vec<(String, String)>,
    tenant: String,
    /// (link, label) of the months before and after; none after the current month.
    previous: Option<(String, String)>,
    next: Option<(String, String)>,
    csv_href: String,
    municipalities: Vec<MunicipalityView>,
}

fn href(path: &str, month: Date, tenant: &str) -> String {
    let mut out = format!("{path}?month={}", month.strftime("%Y-%m"));
    if !tenant.is_empty() {
        out.push_str(&format!("&tenant={}", crate::error::url_encode(tenant)));
    }
    out
}

/// `GET /monitors/report?month=YYYY-MM&tenant=…`
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::ReadAll) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let tr = ctx.tr;
    // A municipality asked for by name is looked for in everything the reader may see;
    // otherwise the switcher's choice applies.
    let asked = q.tenant.as_deref().is_some_and(|t| !t.trim().is_empty());
    let scope = if asked {
        ctx.scope.clone()
    } else {
        ctx.view_scope()
    };
    let tenants: Vec<(String, String)> = state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|t| t.kind == TenantKind::Municipality && ctx.scope.can(&t.id, Permission::ReadAll))
        .map(|t| (t.slug, t.name))
        .collect();
    let outcome = match resolve(&state.store, &scope, &q).await {
        Ok(request) => load(&state.store, &request)
            .await
            .map(|report| (request, report)),
        Err(e) => Err(e),
    };
    let mut page = UptimeReportPage {
        tr,
        shell: Some(Shell::build(&state, &ctx, "/monitors/report").await?),
        month: q.month.clone().unwrap_or_default(),
        heading: tr.t("uptime-report-heading"),
        error: None,
        tenants,
        // Kept as asked, so a wrong month can be corrected without choosing again.
        tenant: q.tenant.as_deref().unwrap_or_default().trim().to_string(),
        previous: None,
        next: None,
        csv_href: String::new(),
        municipalities: Vec::new(),
    };
    let (request, report) = match outcome {
        Ok(found) => found,
        Err(ReportProblem::Month) => {
            page.error = Some(tr.t("uptime-report-bad-month"));
            let mut res = html(tr, &page)?;
            *res.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(res);
        }
        Err(ReportProblem::NotFound) => return Err(PageError::NotFound(tr)),
        Err(ReportProblem::Store(e)) => return Err(ctx.store_err(e)),
    };
    let tenant = request
        .tenant
        .as_ref()
        .map(|t| t.slug.clone())
        .unwrap_or_default();
    let month = request.month;
    let step = |months: i64| month.checked_add(jiff::Span::new().months(months)).ok();
    page.previous = step(-1).map(|m| (href("/monitors/report", m, &tenant), month_name(&tr, m)));
    page.next = step(1)
        .filter(|m| *m <= request.current)
        .map(|m| (href("/monitors/report", m, &tenant), month_name(&tr, m)));
    page.csv_href = href("/monitors/report.csv", month, &tenant);
    page.heading = format!(
        "{}: {}",
        tr.t("uptime-report-heading"),
        month_name(&tr, month)
    );
    page.month = report.month.clone();
    page.municipalities = report
        .municipalities
        .iter()
        .map(|m| municipality_view(&tr, m))
        .collect();
    page.tenant = tenant;
    html(tr, &page)
}

/// The report as rows for a spreadsheet: one per monitor, then the municipality's summary.
pub fn report_csv(tr: &Tr, report: &UptimeReport) -> String {
    let headers: Vec<String> = [
        "column-municipality",
        "uptime-report-monitor",
        "column-kind",
        "uptime-report-uptime",
        "uptime-report-downtime",
        "uptime-report-degraded",
        "uptime-report-maintenance",
        "uptime-report-outages",
        "uptime-report-longest",
        "uptime-report-p50",
        "uptime-report-p95",
    ]
    .iter()
    .map(|k| tr.t(k))
    .collect();
    let row = |municipality: &str, name: String, kind: String, f: &UptimeFigures| {
        let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        vec![
            municipality.to_string(),
            name,
            kind,
            f.uptime_percent
                .map(|p| format!("{p:.3}"))
                .unwrap_or_default(),
            minutes(f.down_ms),
            minutes(f.degraded_ms),
            minutes(f.maintenance_ms),
            f.outages.to_string(),
            minutes(f.longest_outage_ms),
            opt(f.latency_p50_ms),
            opt(f.latency_p95_ms),
        ]
    };
    let mut rows = Vec::new();
    for m in &report.municipalities {
        for r in &m.monitors {
            rows.push(row(
                &m.name,
                r.name.clone(),
                kind_name(tr, &r.kind),
                &r.figures,
            ));
        }
        rows.push(row(
            &m.name,
            tr.t("uptime-report-summary"),
            String::new(),
            &m.summary,
        ));
    }
    drifta_core::csv_import::to_csv(&headers, rows)
}

/// `GET /monitors/report.csv?month=YYYY-MM&tenant=…`
pub async fn csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::ReadAll) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let asked = q.tenant.as_deref().is_some_and(|t| !t.trim().is_empty());
    let scope = if asked {
        ctx.scope.clone()
    } else {
        ctx.view_scope()
    };
    let problem = |e: ReportProblem| match e {
        ReportProblem::Month => PageError::BadRequest(ctx.tr),
        ReportProblem::NotFound => PageError::NotFound(ctx.tr),
        ReportProblem::Store(e) => ctx.store_err(e),
    };
    let request = resolve(&state.store, &scope, &q).await.map_err(problem)?;
    let report = load(&state.store, &request).await.map_err(problem)?;
    let body = report_csv(&ctx.tr, &report);
    let who = request.tenant.as_ref().map_or("all", |t| t.slug.as_str());
    Ok(super::csv_download(
        &format!("drifta-uptime-{who}-{}.csv", report.month),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use drifta_core::Language;

    #[test]
    fn every_month_and_kind_has_a_name_in_every_language() {
        for lang in Language::ALL {
            let tr = Tr::new(lang);
            for m in 1..=12 {
                let name = month_name(&tr, jiff::civil::date(2026, m, 1));
                assert!(!name.starts_with("uptime-report"), "{lang:?} {m}");
            }
            for kind in drifta_core::monitor::MonitorKind::ALL {
                assert!(!kind_name(&tr, kind.as_str()).starts_with("monitor-kind"));
            }
        }
        assert_eq!(
            month_name(&Tr::new(Language::Nb), jiff::civil::date(2026, 3, 1)),
            "mars 2026"
        );
    }

    #[test]
    fn figures_read_as_percent_minutes_and_no_data() {
        let tr = Tr::new(Language::En);
        let f = UptimeFigures {
            has_data: true,
            uptime_percent: Some(99.5),
            down_ms: 90 * 60_000,
            longest_outage_ms: 30_000,
            latency_p50_ms: Some(120),
            ..UptimeFigures::default()
        };
        let v = figures_view(&tr, &f);
        assert_eq!(
            (v.uptime.as_str(), v.down.as_str(), v.longest.as_str()),
            ("99.500\u{a0}%", "90.0", "0.5")
        );
        assert_eq!((v.p50.as_str(), v.p95.as_str()), ("120", "–"));
        let none = figures_view(&tr, &UptimeFigures::default());
        assert_eq!(none.uptime, "No data");
        let maintenance = figures_view(
            &tr,
            &UptimeFigures {
                has_data: true,
                ..UptimeFigures::default()
            },
        );
        assert_eq!(maintenance.uptime, "–");
    }

    #[test]
    fn csv_has_a_row_per_monitor_and_a_summary() {
        let figures = UptimeFigures {
            has_data: true,
            uptime_percent: Some(99.663),
            down_ms: 180 * 60_000,
            outages: 2,
            ..UptimeFigures::default()
        };
        let report = UptimeReport {
            month: "2026-03".into(),
            municipalities: vec![MunicipalityUptime {
                tenant_id: TenantId::generate(),
                name: "Fjordvik kommune".into(),
                slug: "fjordvik".into(),
                time_zone: "Europe/Oslo".into(),
                starts_at: 0,
                ends_at: 0,
                summary: figures.clone(),
                monitors: vec![drifta_store::MonitorUptime {
                    monitor_id: "m1".into(),
                    name: "=Sikkerhetskopi; natt".into(),
                    kind: "heartbeat".into(),
                    figures: UptimeFigures::default(),
                }],
            }],
        };
        let text = report_csv(&Tr::new(Language::Nb), &report);
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("Kommune;"), "{}", lines[0]);
        assert_eq!(
            lines[1],
            "Fjordvik kommune;\"'=Sikkerhetskopi; natt\";Heartbeat;;0.0;0.0;0.0;0;0.0;;"
        );
        assert!(lines[2].contains(";99.663;180.0;"), "{}", lines[2]);
    }
}
