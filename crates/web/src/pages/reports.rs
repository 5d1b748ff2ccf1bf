//! What a municipality pays for: consultant time per month, on screen and as CSV.

use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use drifta_core::{Permission, TenantId, TenantKind};
use drifta_store::TimeEntry;
use jiff::civil::Date;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
pub struct ReportQuery {
    tenant: Option<String>,
    month: Option<String>,
}

struct Period {
    tenant: drifta_core::tenant::Tenant,
    month: String,
    from_ms: i64,
    to_ms: i64,
}

/// The municipality and calendar month asked for, in that municipality's time zone.
async fn period(
    state: &AppState,
    ctx: &Ctx,
    q: &ReportQuery,
) -> Result<(Period, Vec<(String, String)>), PageError> {
    let tenants: Vec<_> = state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|t| t.kind == TenantKind::Municipality && ctx.scope.can(&t.id, Permission::ReadAll))
        .collect();
    let wanted = match q.tenant.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => Some(TenantId::parse(t).map_err(|_| PageError::BadRequest(ctx.tr))?),
        None => ctx.session.active_tenant.clone(),
    };
    let tenant = match wanted {
        Some(id) => tenants
            .iter()
            .find(|t| t.id == id)
            .cloned()
            .ok_or(PageError::NotFound(ctx.tr))?,
        None => tenants
            .first()
            .cloned()
            .ok_or(PageError::Forbidden(ctx.tr))?,
    };
    let tz = jiff::tz::TimeZone::get(&tenant.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let first: Date = match q.month.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => format!("{m}-01")
            .parse()
            .map_err(|_| PageError::BadRequest(ctx.tr))?,
        None => {
            let today = state.store.now().to_zoned(tz.clone()).date();
            Date::new(today.year(), today.month(), 1).map_err(|_| PageError::BadRequest(ctx.tr))?
        }
    };
    let next = first
        .checked_add(jiff::Span::new().months(1))
        .map_err(|_| PageError::BadRequest(ctx.tr))?;
    let at_midnight = |d: Date| {
        d.to_zoned(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|_| PageError::BadRequest(ctx.tr))
    };
    let period = Period {
        month: first.strftime("%Y-%m").to_string(),
        from_ms: at_midnight(first)?,
        to_ms: at_midnight(next)?,
        tenant,
    };
    let options = tenants
        .iter()
        .map(|t| (t.id.to_string(), t.name.clone()))
        .collect();
    Ok((period, options))
}

fn hours(minutes: i64) -> String {
    format!("{}.{:02}", minutes / 60, (minutes % 60) * 100 / 60)
}

#[derive(Template)]
#[template(path = "time_report.html")]
struct TimeReportPage {
    tr: Tr,
    shell: Option<Shell>,
    tenants: Vec<(String, String)>,
    tenant_id: String,
    month: String,
    totals: String,
    by_person: Vec<(String, String, String)>,
    rows: Vec<(String, i64, String, String, i64, String, String)>,
    csv_href: String,
}

pub async fn time_report(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let (p, tenants) = period(&state, &ctx, &q).await?;
    let entries = state
        .store
        .time_entries(&ctx.scope, &p.tenant.id, p.from_ms, p.to_ms)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let total: i64 = entries.iter().map(|e| e.minutes).sum();
    let billable: i64 = entries
        .iter()
        .filter(|e| e.billable)
        .map(|e| e.minutes)
        .sum();
    let mut per: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for e in &entries {
        let slot = per.entry(e.technician.clone()).or_default();
        slot.0 += e.minutes;
        if e.billable {
            slot.1 += e.minutes;
        }
    }
    let yes = ctx.tr.t("yes");
    let no = ctx.tr.t("no");
    let page = TimeReportPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/reports/time").await?),
        tenant_id: p.tenant.id.to_string(),
        totals: ctx.tr.t_with(
            "time-report-totals",
            &[
                ("hours", &hours(total)),
                ("billable", &hours(billable)),
                ("municipality", &p.tenant.name),
            ],
        ),
        by_person: per
            .into_iter()
            .map(|(n, (t, b))| (n, hours(t), hours(b)))
            .collect(),
        rows: entries
            .iter()
            .map(|e| {
                (
                    local_time(e.at, &p.tenant.time_zone),
                    e.ticket_number,
                    e.ticket_title.clone(),
                    e.technician.clone(),
                    e.minutes,
                    if e.billable { yes.clone() } else { no.clone() },
                    e.note.clone(),
                )
            })
            .collect(),
        csv_href: format!("/reports/time.csv?tenant={}&month={}", p.tenant.id, p.month),
        month: p.month,
        tenants,
    };
    html(ctx.tr, &page)
}

/// The same entries as CSV for a spreadsheet: semicolons and a byte-order mark, because
/// that is what Excel with Norwegian or Danish settings opens correctly.
pub fn time_csv(tr: &Tr, entries: &[TimeEntry], zone: &str) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        w.write_record([
            tr.t("column-time"),
            tr.t("csv-ticket"),
            tr.t("column-title"),
            tr.t("time-report-technician"),
            tr.t("time-minutes"),
            tr.t("time-billable"),
            tr.t("time-note"),
        ])?;
        for e in entries {
            w.write_record([
                local_time(e.at, zone),
                e.ticket_number.to_string(),
                e.ticket_title.clone(),
                e.technician.clone(),
                e.minutes.to_string(),
                if e.billable { tr.t("yes") } else { tr.t("no") },
                e.note.clone(),
            ])?;
        }
        w.flush()?;
    }
    Ok(out)
}

pub async fn time_report_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let (p, _) = period(&state, &ctx, &q).await?;
    let entries = state
        .store
        .time_entries(&ctx.scope, &p.tenant.id, p.from_ms, p.to_ms)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let body = time_csv(&ctx.tr, &entries, &p.tenant.time_zone)
        .map_err(|e| PageError::Internal(ctx.tr, e.to_string()))?;
    let filename = format!("drifta-time-{}-{}.csv", p.tenant.slug, p.month);
    Ok(super::csv_download(&filename, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use drifta_core::Language;

    #[test]
    fn csv_quotes_and_marks_utf8() {
        let entries = vec![TimeEntry {
            at: 1_767_261_600_000,
            ticket_number: 1042,
            ticket_title: "Skriver; \"tom\" for toner".into(),
            technician: "Mari Holtan".into(),
            minutes: 30,
            billable: true,
            note: "Byttet kassett\nTestet".into(),
        }];
        let bytes = time_csv(&Tr::new(Language::Nb), &entries, "Europe/Oslo").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with('\u{feff}'));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let rec = reader.records().next().unwrap().unwrap();
        assert_eq!(&rec[1], "1042");
        assert_eq!(&rec[2], "Skriver; \"tom\" for toner");
        assert_eq!(&rec[5], "Ja");
        assert_eq!(&rec[6], "Byttet kassett\nTestet");
        assert_eq!(&rec[0], "2026-01-01 11:00");
    }

    #[test]
    fn hours_have_two_decimals() {
        assert_eq!(hours(90), "1.50");
        assert_eq!(hours(5), "0.08");
        assert_eq!(hours(0), "0.00");
    }
}
