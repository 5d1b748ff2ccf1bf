//! The application portfolio form on application items, and the record of processing
//! activities (GDPR art. 30) a data protection officer reads, prints and exports.

use super::admin_users::form_errors;
use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::Shell;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::gdpr::{
    AlternativeDecision, AppClass, Gap, Hosting, LegalBasis, MigrationStatus, Portfolio,
    RECORD_COLUMNS, RecordEntry, Severity, record_row,
};
use drifta_core::{Permission, TenantId, TenantKind};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A code's name from the catalogue: `<prefix>-<code with dashes>`.
fn code_name(tr: &Tr, prefix: &str, code: &str) -> String {
    tr.t(&format!("{prefix}-{}", code.replace('_', "-")))
}

fn choices(tr: &Tr, prefix: &str, codes: &[&str]) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| (c.to_string(), code_name(tr, prefix, c)))
        .collect()
}

fn list_text(items: &[String]) -> String {
    items.join(", ")
}

fn list_of(text: &str) -> Vec<String> {
    text.split([',', ';', '\n'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[derive(Deserialize, Default, Clone)]
pub struct PortfolioForm {
    #[serde(default)]
    class: String,
    #[serde(default)]
    hosting: String,
    #[serde(default)]
    data_location: String,
    #[serde(default)]
    backup_location: String,
    #[serde(default)]
    security_zone: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    data_subjects: String,
    #[serde(default)]
    personal_data: String,
    #[serde(default)]
    data_categories: String,
    #[serde(default)]
    special_categories: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    dpa_on_file: String,
    #[serde(default)]
    dpa_date: String,
    #[serde(default)]
    dpia_done: String,
    #[serde(default)]
    alternatives: String,
    #[serde(default)]
    alternative_decision: String,
    #[serde(default)]
    migration_status: String,
    #[serde(default)]
    migration_wave: String,
}

impl PortfolioForm {
    fn from_portfolio(p: &Portfolio) -> PortfolioForm {
        let flag = |b: bool| if b { "1" } else { "" }.to_string();
        PortfolioForm {
            class: p.class.map(|c| c.as_str().to_string()).unwrap_or_default(),
            hosting: p
                .hosting
                .map(|h| h.as_str().to_string())
                .unwrap_or_default(),
            data_location: list_text(&p.data_location),
            backup_location: list_text(&p.backup_location),
            security_zone: p.security_zone.clone(),
            purpose: p.purpose.clone(),
            data_subjects: p.data_subjects.clone(),
            personal_data: flag(p.personal_data),
            data_categories: list_text(&p.data_categories),
            special_categories: list_text(&p.special_categories),
            legal_basis: p
                .legal_basis
                .map(|l| l.as_str().to_string())
                .unwrap_or_default(),
            dpa_on_file: flag(p.dpa_on_file),
            dpa_date: p.dpa_date.map(|d| d.to_string()).unwrap_or_default(),
            dpia_done: flag(p.dpia_done),
            alternatives: p.alternatives.clone(),
            alternative_decision: p.alternative_decision.as_str().to_string(),
            migration_status: p.migration_status.as_str().to_string(),
            migration_wave: p.migration_wave.clone(),
        }
    }

    /// The portfolio the form describes, or the field whose value is not a valid choice.
    fn to_portfolio(&self) -> Result<Portfolio, &'static str> {
        fn pick<T>(
            text: &str,
            parse: fn(&str) -> Option<T>,
            field: &'static str,
        ) -> Result<Option<T>, &'static str> {
            match text.trim() {
                "" => Ok(None),
                t => parse(t).map(Some).ok_or(field),
            }
        }
        Ok(Portfolio {
            class: pick(&self.class, AppClass::parse, "class")?,
            hosting: pick(&self.hosting, Hosting::parse, "hosting")?,
            data_location: list_of(&self.data_location),
            backup_location: list_of(&self.backup_location),
            security_zone: self.security_zone.trim().to_string(),
            purpose: self.purpose.trim().to_string(),
            data_subjects: self.data_subjects.trim().to_string(),
            personal_data: !self.personal_data.is_empty(),
            data_categories: list_of(&self.data_categories),
            special_categories: list_of(&self.special_categories),
            legal_basis: pick(&self.legal_basis, LegalBasis::parse, "legal_basis")?,
            dpa_on_file: !self.dpa_on_file.is_empty(),
            dpa_date: match self.dpa_date.trim() {
                "" => None,
                d => Some(drifta_core::item_fields::parse_date(d).ok_or("dpa_date")?),
            },
            dpia_done: !self.dpia_done.is_empty(),
            alternatives: self.alternatives.trim().to_string(),
            alternative_decision: pick(
                &self.alternative_decision,
                AlternativeDecision::parse,
                "alternative_decision",
            )?
            .unwrap_or_default(),
            migration_status: pick(
                &self.migration_status,
                MigrationStatus::parse,
                "migration_status",
            )?
            .unwrap_or_default(),
            migration_wave: self.migration_wave.trim().to_string(),
        })
    }
}

#[derive(Template)]
#[template(path = "portfolio.html")]
struct PortfolioPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    id: String,
    name: String,
    form: PortfolioForm,
    can_edit: bool,
    classes: Vec<(String, String)>,
    hostings: Vec<(String, String)>,
    bases: Vec<(String, String)>,
    decisions: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    gaps: Vec<(String, bool)>,
    errors: BTreeMap<String, String>,
    notice: Option<String>,
}

fn gap_rows(tr: &Tr, gaps: &[Gap]) -> Vec<(String, bool)> {
    gaps.iter()
        .map(|g| {
            let countries = match g {
                Gap::DataOutsideEea { countries } | Gap::BackupOutsideEea { countries } => {
                    countries.join(", ")
                }
                Gap::StaleProcessorAgreement { signed } => signed.to_string(),
                _ => String::new(),
            };
            (
                tr.t_with(&format!("gap-{}", g.code()), &[("detail", &countries)]),
                g.severity() == Severity::High,
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn portfolio_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    form: Option<PortfolioForm>,
    errors: BTreeMap<String, String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let store = &state.store;
    let item = store
        .get_item(&ctx.scope, id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let saved = store
        .portfolio(&ctx.scope, id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let today = store.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let external = saved.processor_is_external(item.summary.supplier_id.is_some());
    let gaps = gap_rows(&ctx.tr, &drifta_core::gdpr::gaps(&saved, external, today));
    let tr = &ctx.tr;
    let codes = |all: Vec<&'static str>| all;
    let page = PortfolioPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, &format!("/inventory/{id}/portfolio")).await?),
        csrf: ctx.session.csrf_token.clone(),
        id: id.to_string(),
        name: item.summary.name.clone(),
        form: form.unwrap_or_else(|| PortfolioForm::from_portfolio(&saved)),
        can_edit: ctx.scope.can(&item.summary.tenant_id, Permission::Operate),
        classes: choices(
            tr,
            "app-class",
            &codes(AppClass::ALL.iter().map(|c| c.as_str()).collect()),
        ),
        hostings: choices(
            tr,
            "hosting",
            &codes(Hosting::ALL.iter().map(|c| c.as_str()).collect()),
        ),
        bases: choices(
            tr,
            "legal-basis",
            &codes(LegalBasis::ALL.iter().map(|c| c.as_str()).collect()),
        ),
        decisions: choices(
            tr,
            "alternative",
            &codes(
                AlternativeDecision::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .collect(),
            ),
        ),
        statuses: choices(
            tr,
            "migration",
            &codes(MigrationStatus::ALL.iter().map(|c| c.as_str()).collect()),
        ),
        gaps,
        errors,
        notice,
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn portfolio(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let notice = q.saved.map(|_| ctx.tr.t("inventory-saved"));
    portfolio_page(
        &state,
        &ctx,
        &id,
        None,
        BTreeMap::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

pub async fn save_portfolio(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<PortfolioForm>,
) -> Result<Response, PageError> {
    let portfolio = match form.to_portfolio() {
        Ok(p) => p,
        Err(field) => {
            let code = if field == "dpa_date" {
                "err-bad-date"
            } else {
                "err-bad-choice"
            };
            let errors = BTreeMap::from([(field.to_string(), ctx.tr.t(code))]);
            return portfolio_page(
                &state,
                &ctx,
                &id,
                Some(form),
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match state.store.set_portfolio(&ctx.scope, &id, portfolio).await {
        Ok(_) => Ok(Redirect::to(&format!("/inventory/{id}/portfolio?saved=1")).into_response()),
        Err(e) => {
            let (field, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            let errors = BTreeMap::from([(field, message)]);
            portfolio_page(
                &state,
                &ctx,
                &id,
                Some(form),
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub struct RecordRow {
    cells: Vec<String>,
    gaps: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "gdpr.html")]
struct RecordPage {
    tr: Tr,
    shell: Option<Shell>,
    tenants: Vec<(String, String)>,
    tenant: String,
    tenant_name: String,
    headers: Vec<String>,
    rows: Vec<RecordRow>,
    summary: String,
    generated: String,
}

#[derive(Deserialize, Default)]
pub struct RecordQuery {
    #[serde(default)]
    tenant: String,
}

/// Municipalities whose record the person may read, and the one asked for (or the one in
/// the switcher, or the first).
async fn record_tenant(
    state: &AppState,
    ctx: &Ctx,
    asked: &str,
) -> Result<(Vec<(String, String)>, TenantId, String), PageError> {
    let tenants: Vec<(String, String)> = state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|t| t.kind == TenantKind::Municipality && ctx.scope.can(&t.id, Permission::ReadAll))
        .map(|t| (t.id.to_string(), t.name))
        .collect();
    let wanted = if asked.is_empty() {
        ctx.session
            .active_tenant
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default()
    } else {
        asked.to_string()
    };
    let (id, name) = tenants
        .iter()
        .find(|(id, _)| *id == wanted)
        .or_else(|| {
            if asked.is_empty() {
                tenants.first()
            } else {
                None
            }
        })
        .cloned()
        .ok_or(PageError::NotFound(ctx.tr))?;
    let id = TenantId::parse(&id).map_err(|_| PageError::BadRequest(ctx.tr))?;
    Ok((tenants, id, name))
}

/// A record row with codes turned into words of the reader's language.
fn translated_row(tr: &Tr, entry: &RecordEntry) -> Vec<String> {
    let mut cells = record_row(entry);
    for (cell, column) in cells.iter_mut().zip(RECORD_COLUMNS) {
        match *column {
            "legal_basis" if !cell.is_empty() => *cell = code_name(tr, "legal-basis", cell),
            "dpa_on_file" | "dpia_done" => *cell = tr.t(cell),
            "gaps" => {
                *cell = entry
                    .gaps
                    .iter()
                    .map(|g| tr.t_with(&format!("gap-{}", g.code()), &[("detail", "")]))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            _ => {}
        }
    }
    cells
}

fn headers(tr: &Tr) -> Vec<String> {
    RECORD_COLUMNS
        .iter()
        .map(|c| code_name(tr, "record", c))
        .collect()
}

pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RecordQuery>,
) -> Result<Response, PageError> {
    let (tenants, tenant, tenant_name) = record_tenant(&state, &ctx, &q.tenant).await?;
    let entries = state
        .store
        .processing_record(&ctx.scope, &tenant)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let tr = &ctx.tr;
    let rows: Vec<RecordRow> = entries
        .iter()
        .map(|e| {
            let mut cells = translated_row(tr, e);
            cells.pop();
            RecordRow {
                cells,
                gaps: gap_rows(tr, &e.gaps),
            }
        })
        .collect();
    let mut headers = headers(tr);
    headers.pop();
    let high_gaps = entries
        .iter()
        .filter(|e| e.gaps.iter().any(|g| g.severity() == Severity::High))
        .count();
    let page = RecordPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/gdpr").await?),
        summary: tr.t_with(
            "record-summary",
            &[
                ("apps", &entries.len().to_string()),
                ("gaps", &high_gaps.to_string()),
            ],
        ),
        tenants,
        tenant: tenant.to_string(),
        tenant_name,
        headers,
        rows,
        generated: state
            .store
            .now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .to_string(),
    };
    html(ctx.tr, &page)
}

pub async fn record_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RecordQuery>,
) -> Result<Response, PageError> {
    let (_, tenant, tenant_name) = record_tenant(&state, &ctx, &q.tenant).await?;
    let entries = state
        .store
        .processing_record(&ctx.scope, &tenant)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let body = drifta_core::csv_import::to_csv(
        &headers(&ctx.tr),
        entries.iter().map(|e| translated_row(&ctx.tr, e)),
    );
    let slug: String = tenant_name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Ok(super::csv_download(
        &format!("drifta-art30-{slug}.csv"),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use drifta_core::Language;

    #[test]
    fn every_record_code_has_words_in_every_language() {
        let gaps = [
            Gap::NoLegalBasis,
            Gap::NoProcessorAgreement,
            Gap::DataOutsideEea { countries: vec![] },
            Gap::BackupOutsideEea { countries: vec![] },
            Gap::SpecialCategoriesWithoutDpia,
            Gap::LegitimateInterestsByAuthority,
            Gap::NoPurpose,
            Gap::NoDataSubjects,
            Gap::NoCategories,
            Gap::NoDataLocation,
            Gap::StaleProcessorAgreement {
                signed: jiff::civil::date(2020, 1, 1),
            },
        ];
        for lang in Language::ALL {
            let tr = Tr::new(lang);
            for g in &gaps {
                let key = format!("gap-{}", g.code());
                assert_ne!(tr.t_with(&key, &[("detail", "")]), key, "{lang:?}");
            }
            for c in RECORD_COLUMNS {
                assert!(
                    !code_name(&tr, "record", c).starts_with("record-"),
                    "{lang:?} {c}"
                );
            }
            let sets: [(&str, Vec<&str>); 5] = [
                (
                    "app-class",
                    AppClass::ALL.iter().map(|c| c.as_str()).collect(),
                ),
                ("hosting", Hosting::ALL.iter().map(|c| c.as_str()).collect()),
                (
                    "legal-basis",
                    LegalBasis::ALL.iter().map(|c| c.as_str()).collect(),
                ),
                (
                    "alternative",
                    AlternativeDecision::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect(),
                ),
                (
                    "migration",
                    MigrationStatus::ALL.iter().map(|c| c.as_str()).collect(),
                ),
            ];
            for (prefix, codes) in sets {
                for code in codes {
                    assert!(
                        !code_name(&tr, prefix, code).starts_with(prefix),
                        "{lang:?} {prefix} {code}"
                    );
                }
            }
            for code in [
                "country-code",
                "dpa-date-without-agreement",
                "special-categories-without-personal-data",
                "empty-item",
                "too-long",
                "too-many",
                "required",
            ] {
                let key = format!("err-{code}");
                assert_ne!(tr.t(&key), key, "{lang:?}");
            }
        }
    }

    #[test]
    fn the_form_reads_back_what_it_shows() {
        let form = PortfolioForm {
            class: "legacy".into(),
            hosting: "saas".into(),
            data_location: "no, se".into(),
            personal_data: "1".into(),
            data_categories: "navn; adresse\nhelse".into(),
            legal_basis: "public_task".into(),
            dpa_date: "2024-05-01".into(),
            dpa_on_file: "1".into(),
            migration_status: "planned".into(),
            ..PortfolioForm::default()
        };
        let p = form.to_portfolio().unwrap();
        assert_eq!(p.data_categories, vec!["navn", "adresse", "helse"]);
        assert_eq!(p.data_location, vec!["no", "se"]);
        let again = PortfolioForm::from_portfolio(&p).to_portfolio().unwrap();
        assert_eq!(again, p);
        let bad = PortfolioForm {
            hosting: "cloud".into(),
            ..PortfolioForm::default()
        };
        assert_eq!(bad.to_portfolio(), Err("hosting"));
        let bad = PortfolioForm {
            dpa_date: "1.5.2024".into(),
            ..PortfolioForm::default()
        };
        assert_eq!(bad.to_portfolio(), Err("dpa_date"));
    }
}
