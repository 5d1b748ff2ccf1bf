//! CSV import of inventory items from the browser: upload, a dry run that lists every bad
//! row and column, then the real run on the same file. Imports run as background jobs on
//! this node; the job page shows progress and refreshes itself (a meta refresh, so it works
//! without JavaScript) until the report is ready.
//!
//! Jobs live in memory: the import writes in one transaction, so a restart loses the
//! report but never leaves half an import behind. Behind a load balancer, the job page
//! must reach the node that took the upload (sticky sessions), or it answers 404.

use super::dashboard::html;
use super::inventory::{type_name, writable_tenants};
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::Shell;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::cmdb::ItemType;
use drifta_core::{TenantId, UserId};
use drifta_store::{ImportError, ImportMode, ImportReport, import_schema};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Far above a municipality's inventory; the parser has its own row limit.
pub const MAX_UPLOAD_BYTES: usize = 50 * 1024 * 1024;

/// Finished jobs are forgotten after this long.
const KEEP_JOBS: Duration = Duration::from_secs(3600);

pub struct Job {
    owner: UserId,
    tenant: TenantId,
    tenant_name: String,
    item_type: ItemType,
    mode: ImportMode,
    bytes: Arc<Vec<u8>>,
    done: AtomicUsize,
    total: AtomicUsize,
    started: Instant,
    /// The report, or the refusal of the whole file as (code, English message).
    outcome: Mutex<Option<Result<ImportReport, (String, String)>>>,
}

pub type Jobs = Mutex<HashMap<String, Arc<Job>>>;

#[derive(Template)]
#[template(path = "import.html")]
struct FormPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    tenants: Vec<(String, String)>,
    types: Vec<(String, String)>,
    tenant: String,
    item_type: String,
    columns: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct FormQuery {
    #[serde(default, rename = "type")]
    item_type: String,
}

fn column_names(item_type: ItemType) -> Vec<String> {
    import_schema(item_type, &[])
        .columns
        .into_iter()
        .map(|c| c.name)
        .collect()
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    item_type: ItemType,
    error: Option<String>,
) -> Result<Response, PageError> {
    let tenants = writable_tenants(state, ctx).await?;
    if tenants.is_empty() {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let page = FormPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, "/inventory/import").await?),
        csrf: ctx.session.csrf_token.clone(),
        tenant: ctx
            .session
            .active_tenant
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        tenants,
        types: ItemType::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), type_name(&ctx.tr, *t)))
            .collect(),
        item_type: item_type.as_str().to_string(),
        columns: column_names(item_type).join(", "),
        error,
    };
    html(ctx.tr, &page)
}

pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FormQuery>,
) -> Result<Response, PageError> {
    let item_type = ItemType::parse(&q.item_type).unwrap_or(ItemType::Workstation);
    form_page(&state, &ctx, item_type, None).await
}

/// A header row for the type, to fill in a spreadsheet. Semicolons and a BOM, as Excel
/// in Norway and Denmark expects.
pub async fn template(ctx: Ctx, Query(q): Query<FormQuery>) -> Result<Response, PageError> {
    let item_type = ItemType::parse(&q.item_type).ok_or(PageError::BadRequest(ctx.tr))?;
    let body = drifta_core::csv_import::to_csv(&column_names(item_type), Vec::<Vec<String>>::new());
    Ok(super::csv_download(
        &format!("drifta-{}.csv", item_type.as_str()),
        body,
    ))
}

fn start(state: &AppState, job: Job, scope: drifta_core::Scope) -> String {
    let id = UserId::generate().to_string();
    let job = Arc::new(job);
    {
        let mut jobs = state.imports.lock().unwrap_or_else(|p| p.into_inner());
        jobs.retain(|_, j| j.started.elapsed() < KEEP_JOBS);
        jobs.insert(id.clone(), job.clone());
    }
    let store = state.store.clone();
    tokio::spawn(async move {
        let progress = |done: usize, total: usize| {
            job.done.store(done, Ordering::Relaxed);
            job.total.store(total, Ordering::Relaxed);
        };
        let result = store
            .import_items(
                &scope,
                &job.tenant,
                job.item_type,
                &job.bytes,
                job.mode,
                &progress,
            )
            .await;
        let outcome = match result {
            Ok(report) => Ok(report),
            Err(ImportError::Csv(e)) => Err((e.code().to_string(), e.to_string())),
            Err(ImportError::Store(e)) => {
                tracing::error!(error = %e, "inventory import failed");
                Err(("import-failed".to_string(), e.to_string()))
            }
        };
        *job.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
    });
    id
}

/// Reads the upload. The CSRF field comes first in the form, so the token is checked
/// before the file is read.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let mut token_ok = false;
    let (mut tenant, mut item_type, mut mode, mut bytes) = (None, None, None, None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| PageError::BadRequest(ctx.tr))?
    {
        let name = field.name().unwrap_or_default().to_string();
        if name != "csrf" && !token_ok {
            return Err(PageError::Csrf(ctx.tr));
        }
        match name.as_str() {
            "csrf" => {
                let value = field
                    .text()
                    .await
                    .map_err(|_| PageError::BadRequest(ctx.tr))?;
                token_ok = !value.is_empty()
                    && drifta_core::secret::equal(&value, &ctx.session.csrf_token);
            }
            "tenant" => tenant = field.text().await.ok(),
            "type" => item_type = field.text().await.ok(),
            "mode" => mode = field.text().await.ok(),
            "file" => match field.bytes().await {
                Ok(b) => bytes = Some(b.to_vec()),
                Err(_) => {
                    let message = ctx.tr.t("err-csv-too-large");
                    return form_page(&state, &ctx, ItemType::Workstation, Some(message)).await;
                }
            },
            _ => {}
        }
    }
    if !token_ok {
        return Err(PageError::Csrf(ctx.tr));
    }
    let item_type = item_type
        .as_deref()
        .and_then(ItemType::parse)
        .ok_or(PageError::BadRequest(ctx.tr))?;
    let mode = mode
        .as_deref()
        .and_then(ImportMode::parse)
        .ok_or(PageError::BadRequest(ctx.tr))?;
    let tenants = writable_tenants(&state, &ctx).await?;
    let Some((tenant_id, tenant_name)) =
        tenant.and_then(|t| tenants.into_iter().find(|(id, _)| *id == t))
    else {
        return Err(PageError::NotFound(ctx.tr));
    };
    let tenant = TenantId::parse(&tenant_id).map_err(|_| PageError::BadRequest(ctx.tr))?;
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        let message = ctx.tr.t("err-file-empty");
        return form_page(&state, &ctx, item_type, Some(message)).await;
    };
    let id = start(
        &state,
        Job {
            owner: ctx.user.id.clone(),
            tenant,
            tenant_name,
            item_type,
            mode,
            bytes: Arc::new(bytes),
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            started: Instant::now(),
            outcome: Mutex::new(None),
        },
        ctx.scope.clone(),
    );
    Ok(Redirect::to(&format!("/inventory/import/{id}")).into_response())
}

fn job_of(state: &AppState, ctx: &Ctx, id: &str) -> Result<Arc<Job>, PageError> {
    let jobs = state.imports.lock().unwrap_or_else(|p| p.into_inner());
    jobs.get(id)
        .filter(|j| j.owner == ctx.user.id)
        .cloned()
        .ok_or(PageError::NotFound(ctx.tr))
}

pub struct ProblemRow {
    row: usize,
    column: String,
    message: String,
}

#[derive(Template)]
#[template(path = "import_status.html")]
struct StatusPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    job: String,
    heading: String,
    running: bool,
    done: usize,
    total: usize,
    /// The whole file was refused.
    refused: Option<String>,
    summary: String,
    dry_run: bool,
    written: bool,
    problems: Vec<ProblemRow>,
    more_text: Option<String>,
}

/// At most this many problems are listed; the count says how many more there are.
const SHOWN_PROBLEMS: usize = 500;

pub async fn status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let job = job_of(&state, &ctx, &id)?;
    let tr = &ctx.tr;
    let outcome = job
        .outcome
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let mut page = StatusPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/inventory/import").await?),
        csrf: ctx.session.csrf_token.clone(),
        job: id.clone(),
        heading: tr.t_with(
            "import-heading-for",
            &[
                ("type", &type_name(tr, job.item_type)),
                ("municipality", &job.tenant_name),
            ],
        ),
        running: outcome.is_none(),
        done: job.done.load(Ordering::Relaxed),
        total: job.total.load(Ordering::Relaxed),
        refused: None,
        summary: String::new(),
        dry_run: job.mode == ImportMode::DryRun,
        written: false,
        problems: Vec::new(),
        more_text: None,
    };
    match outcome {
        None => {}
        Some(Err((code, english))) => {
            let key = format!("err-{code}");
            let text = tr.t(&key);
            page.refused = Some(if text == key {
                english
            } else {
                format!("{text} ({english})")
            });
        }
        Some(Ok(report)) => {
            page.written = report.written;
            page.summary = tr.t_with(
                "import-summary",
                &[
                    ("rows", &report.total_rows.to_string()),
                    ("created", &report.created.to_string()),
                    ("updated", &report.updated.to_string()),
                    ("problems", &report.problems.len().to_string()),
                    ("encoding", &report.encoding),
                    ("delimiter", &report.delimiter),
                ],
            );
            let more = report.problems.len().saturating_sub(SHOWN_PROBLEMS);
            page.more_text = (more > 0).then(|| tr.t_count("import-more-problems", more as i64));
            page.problems = report
                .problems
                .into_iter()
                .take(SHOWN_PROBLEMS)
                .map(|p| {
                    let key = format!("err-{}", p.code);
                    let text = tr.t(&key);
                    ProblemRow {
                        row: p.row,
                        column: match (p.column, p.column_number) {
                            (Some(c), Some(n)) => format!("{c} ({n})"),
                            (Some(c), None) => c,
                            (None, _) => String::new(),
                        },
                        message: if text == key { p.message } else { text },
                    }
                })
                .collect();
        }
    }
    html(ctx.tr, &page)
}

#[derive(Deserialize, Default)]
pub struct RerunForm {
    #[serde(default)]
    mode: String,
}

/// Runs a dry-run's file for real, in the chosen mode, without uploading it again.
pub async fn rerun(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<RerunForm>,
) -> Result<Response, PageError> {
    let job = job_of(&state, &ctx, &id)?;
    let mode = ImportMode::parse(&form.mode)
        .filter(|m| *m != ImportMode::DryRun)
        .ok_or(PageError::BadRequest(ctx.tr))?;
    let id = start(
        &state,
        Job {
            owner: ctx.user.id.clone(),
            tenant: job.tenant.clone(),
            tenant_name: job.tenant_name.clone(),
            item_type: job.item_type,
            mode,
            bytes: job.bytes.clone(),
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            started: Instant::now(),
            outcome: Mutex::new(None),
        },
        ctx.scope.clone(),
    );
    Ok(Redirect::to(&format!("/inventory/import/{id}")).into_response())
}
