//! The e-mail intake: the mailboxes Drifta polls for tickets (provider administrators add,
//! change and remove them), and the intake log of what became of each message, read by
//! anyone who works tickets for their municipalities, with the raw message of mail that was
//! ignored or kept aside as a download.
//!
//! A mailbox's password is write-only: no page ever shows it, not even in a form sent back
//! with errors.

use super::admin_users::form_errors;
use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::tenant::Tenant;
use drifta_core::{Permission, TenantId, TenantKind};
use drifta_store::{InboundEntry, MailSecurity, Mailbox, NewMailbox};
use serde::Deserialize;
use std::collections::BTreeMap;

/// How many log rows the page shows.
pub const LOG_ROWS: i64 = 200;

/// Reasons the intake writes as codes; each has a text in the catalogue
/// (`mail-reason-<code>`). Other reasons (attachments left out of a ticket) are shown as
/// written.
pub const REASON_CODES: [&str; 10] = [
    "auto-reply",
    "bulk",
    "bounce",
    "own",
    "rate-limited",
    "unrouted",
    "unreadable",
    "no-sender",
    "too-large",
    "empty",
];

/// What became of a message, in the reader's language.
pub(crate) fn outcome_name(tr: &Tr, outcome: &str) -> String {
    let key = format!("mail-outcome-{}", outcome.replace('_', "-"));
    let text = tr.t(&key);
    if text == key {
        outcome.to_string()
    } else {
        text
    }
}

/// Why, in the reader's language when it is one of the known codes.
pub(crate) fn reason_text(tr: &Tr, reason: &str) -> String {
    if REASON_CODES.contains(&reason) {
        tr.t(&format!("mail-reason-{reason}"))
    } else {
        reason.to_string()
    }
}

fn require_manager(ctx: &Ctx) -> Result<(), PageError> {
    if ctx.scope.can_anywhere(Permission::ManageTenants) {
        Ok(())
    } else {
        Err(PageError::Forbidden(ctx.tr))
    }
}

/// The viewer's zone, as the audit and account pages choose it: their first tenant's.
fn viewer_zone(tenants: &[Tenant]) -> String {
    tenants
        .first()
        .map_or("UTC".to_string(), |t| t.time_zone.clone())
}

pub struct MailboxRow {
    id: String,
    name: String,
    tenant: String,
    shared: bool,
    address: String,
    server: String,
    security: String,
    username: String,
    folder: String,
    poll: String,
    enabled: bool,
    last_poll: String,
    last_error: String,
    /// (pattern, municipality)
    routes: Vec<(String, String)>,
}

fn mailbox_row(tr: &Tr, zone: &str, m: Mailbox) -> MailboxRow {
    MailboxRow {
        server: format!("{}:{}", m.host, m.port),
        // Protocol names, the same in every language.
        security: m.security.as_str().to_uppercase(),
        poll: tr.t_with(
            "mail-poll-every",
            &[("seconds", &m.poll_seconds.to_string())],
        ),
        last_poll: m
            .last_poll_at
            .map_or_else(|| tr.t("mail-never-polled"), |t| local_time(t, zone)),
        routes: m
            .routes
            .into_iter()
            .map(|r| (r.pattern, r.tenant_name))
            .collect(),
        id: m.id,
        name: m.name,
        tenant: m.tenant_name,
        shared: m.shared,
        address: m.address,
        username: m.username,
        folder: m.folder,
        enabled: m.enabled,
        last_error: m.last_error,
    }
}

#[derive(Template)]
#[template(path = "mail.html")]
struct MailPage {
    tr: Tr,
    shell: Option<Shell>,
    rows: Vec<MailboxRow>,
    saved: bool,
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// The mailboxes, for provider administrators.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    require_manager(&ctx)?;
    let tenants = state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let zone = viewer_zone(&tenants);
    // The whole scope, not the switcher's: a provider's shared mailbox belongs to no one
    // municipality and would otherwise vanish when one is picked.
    let rows = state
        .store
        .list_mailboxes(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|m| mailbox_row(&ctx.tr, &zone, m))
        .collect();
    let page = MailPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/mail").await?),
        rows,
        saved: q.saved.is_some(),
    };
    html(ctx.tr, &page)
}

/// A mailbox as posted, and as shown again in the form (never with the password).
#[derive(Deserialize, Default)]
pub struct MailboxForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    security: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    folder: String,
    #[serde(default)]
    poll_seconds: String,
    #[serde(default)]
    enabled: String,
    /// One route a line: "pattern municipality" (the municipality's short name or name).
    #[serde(default)]
    routes: String,
}

impl MailboxForm {
    fn blank() -> MailboxForm {
        MailboxForm {
            port: "993".into(),
            security: "tls".into(),
            folder: "INBOX".into(),
            poll_seconds: "60".into(),
            enabled: "1".into(),
            ..MailboxForm::default()
        }
    }

    fn from_mailbox(m: &Mailbox, tenants: &[Tenant]) -> MailboxForm {
        let slug_of = |id: &TenantId| tenants.iter().find(|t| t.id == *id).map(|t| t.slug.clone());
        MailboxForm {
            tenant: m.tenant_id.to_string(),
            name: m.name.clone(),
            address: m.address.clone(),
            host: m.host.clone(),
            port: m.port.to_string(),
            security: m.security.as_str().to_string(),
            username: m.username.clone(),
            password: String::new(),
            folder: m.folder.clone(),
            poll_seconds: m.poll_seconds.to_string(),
            enabled: if m.enabled { "1".into() } else { String::new() },
            routes: m
                .routes
                .iter()
                .map(|r| {
                    let who = slug_of(&r.tenant_id).unwrap_or_else(|| r.tenant_name.clone());
                    format!("{} {who}\n", r.pattern)
                })
                .collect(),
        }
    }
}

/// Reads the routes box: one "pattern municipality" a line, blank lines and lines starting
/// with `#` skipped. The municipality is found by short name or name among `towns`; the
/// store then checks that it belongs to the mailbox's provider.
fn parse_routes(tr: &Tr, text: &str, towns: &[Tenant]) -> Result<Vec<(String, TenantId)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let number = (n + 1).to_string();
        let Some((pattern, who)) = line.split_once(char::is_whitespace) else {
            return Err(tr.t_with("mail-route-line-format", &[("line", &number)]));
        };
        let who = who
            .trim()
            .trim_start_matches(['→', '-', '>', '=', ':'])
            .trim();
        if who.is_empty() {
            return Err(tr.t_with("mail-route-line-format", &[("line", &number)]));
        }
        let wanted = who.to_lowercase();
        let Some(town) = towns
            .iter()
            .find(|t| t.slug == wanted || t.name.to_lowercase() == wanted)
        else {
            return Err(tr.t_with(
                "mail-route-unknown-municipality",
                &[("line", &number), ("name", who)],
            ));
        };
        out.push((pattern.to_string(), town.id.clone()));
    }
    Ok(out)
}

/// The form as the store takes it, or the field and message of what cannot be read.
fn to_new(
    tr: &Tr,
    form: &MailboxForm,
    tenant: TenantId,
    towns: &[Tenant],
) -> Result<NewMailbox, (String, String)> {
    let port = form
        .port
        .trim()
        .parse::<i64>()
        .map_err(|_| ("port".to_string(), tr.t("err-port-invalid")))?;
    let poll_seconds = form
        .poll_seconds
        .trim()
        .parse::<i64>()
        .map_err(|_| ("poll_seconds".to_string(), tr.t("err-poll-invalid")))?;
    let routes = parse_routes(tr, &form.routes, towns).map_err(|m| ("routes".to_string(), m))?;
    Ok(NewMailbox {
        tenant_id: tenant,
        name: form.name.clone(),
        address: form.address.clone(),
        host: form.host.clone(),
        port,
        security: MailSecurity::parse(form.security.trim()),
        username: form.username.clone(),
        password: form.password.clone(),
        folder: form.folder.clone(),
        poll_seconds,
        enabled: !form.enabled.is_empty(),
        routes,
    })
}

#[derive(Template)]
#[template(path = "mail_form.html")]
struct FormPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    /// The mailbox being changed; `None` on the add form.
    id: Option<String>,
    /// The tenant of the mailbox being changed (it cannot move).
    tenant_name: String,
    /// Routes belong to a provider's shared mailbox (and to the add form, which may make one).
    show_routes: bool,
    form: MailboxForm,
    /// Tenants the person may add a mailbox to: (id, label).
    tenants: Vec<(String, String)>,
    errors: BTreeMap<String, String>,
    form_error: Option<String>,
}

/// The fields the form shows; an error about any other goes above the form.
const FORM_FIELDS: [&str; 11] = [
    "tenant",
    "name",
    "address",
    "host",
    "port",
    "security",
    "username",
    "password",
    "folder",
    "poll_seconds",
    "routes",
];

/// The mailbox a form changes.
struct Editing {
    id: String,
    tenant_name: String,
    shared: bool,
}

impl Editing {
    fn of(tr: &Tr, m: &Mailbox) -> Editing {
        Editing {
            id: m.id.clone(),
            tenant_name: tenant_label(tr, m),
            shared: m.shared,
        }
    }
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    editing: Option<Editing>,
    mut form: MailboxForm,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let show_routes = editing.as_ref().is_none_or(|e| e.shared);
    let (id, tenant_name) = match editing {
        Some(e) => (Some(e.id), e.tenant_name),
        None => (None, String::new()),
    };
    let tenants = if id.is_none() {
        let all = state
            .store
            .list_tenants(&ctx.scope)
            .await
            .map_err(|e| ctx.store_err(e))?;
        let tenants: Vec<(String, String)> = all
            .iter()
            .filter(|t| ctx.scope.can(&t.id, Permission::ManageTenants))
            .map(|t| {
                let label = if t.kind == TenantKind::Provider {
                    ctx.tr.t_with("mail-tenant-shared", &[("name", &t.name)])
                } else {
                    t.name.clone()
                };
                (t.id.to_string(), label)
            })
            .collect();
        if form.tenant.is_empty()
            && let Some((first, _)) = tenants.first()
        {
            form.tenant = first.clone();
        }
        tenants
    } else {
        Vec::new()
    };
    // Errors about fields not on the form (a mailbox cannot move) go above it.
    let loose: Vec<&String> = errors
        .iter()
        .filter(|(f, _)| {
            !FORM_FIELDS.contains(&f.as_str())
                || (id.is_some() && *f == "tenant")
                || (!show_routes && *f == "routes")
        })
        .map(|(_, m)| m)
        .collect();
    let form_error = if !loose.is_empty() {
        Some(
            loose
                .into_iter()
                .cloned()
                .collect::<Vec<String>>()
                .join(" "),
        )
    } else {
        (!errors.is_empty()).then(|| ctx.tr.t("form-has-errors"))
    };
    let path = match &id {
        Some(id) => format!("/mail/{id}"),
        None => "/mail/new".to_string(),
    };
    // Never sent back, whatever was typed.
    form.password.clear();
    let page = FormPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, &path).await?),
        csrf: ctx.session.csrf_token.clone(),
        id,
        tenant_name,
        show_routes,
        form,
        tenants,
        errors,
        form_error,
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

async fn municipalities(state: &AppState, ctx: &Ctx) -> Result<Vec<Tenant>, PageError> {
    Ok(state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|t| t.kind == TenantKind::Municipality)
        .collect())
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    require_manager(&ctx)?;
    form_page(
        &state,
        &ctx,
        None,
        MailboxForm::blank(),
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<MailboxForm>,
) -> Result<Response, PageError> {
    require_manager(&ctx)?;
    let invalid = |field: &str, message: String| BTreeMap::from([(field.to_string(), message)]);
    let tenant = match TenantId::parse(form.tenant.trim()) {
        Ok(t) if ctx.scope.can(&t, Permission::ManageTenants) => t,
        _ => {
            let errors = invalid("tenant", ctx.tr.t("err-required"));
            return form_page(
                &state,
                &ctx,
                None,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let towns = municipalities(&state, &ctx).await?;
    let problem = match to_new(&ctx.tr, &form, tenant, &towns) {
        Err(problem) => problem,
        Ok(new) => match state.store.create_mailbox(&ctx.scope, &new).await {
            Ok(_) => return Ok(Redirect::to("/mail?saved=1").into_response()),
            Err(e) => form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?,
        },
    };
    let (field, message) = problem;
    form_page(
        &state,
        &ctx,
        None,
        form,
        invalid(&field, message),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, PageError> {
    require_manager(&ctx)?;
    let mailbox = state
        .store
        .mailbox(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let towns = municipalities(&state, &ctx).await?;
    form_page(
        &state,
        &ctx,
        Some(Editing::of(&ctx.tr, &mailbox)),
        MailboxForm::from_mailbox(&mailbox, &towns),
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

fn tenant_label(tr: &Tr, m: &Mailbox) -> String {
    if m.shared {
        tr.t_with("mail-tenant-shared", &[("name", &m.tenant_name)])
    } else {
        m.tenant_name.clone()
    }
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<MailboxForm>,
) -> Result<Response, PageError> {
    require_manager(&ctx)?;
    let before = state
        .store
        .mailbox(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let towns = municipalities(&state, &ctx).await?;
    let problem = match to_new(&ctx.tr, &form, before.tenant_id.clone(), &towns) {
        Err(problem) => problem,
        Ok(new) => match state.store.update_mailbox(&ctx.scope, &id, &new).await {
            Ok(_) => return Ok(Redirect::to("/mail?saved=1").into_response()),
            Err(e) => form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?,
        },
    };
    let (field, message) = problem;
    form_page(
        &state,
        &ctx,
        Some(Editing::of(&ctx.tr, &before)),
        form,
        BTreeMap::from([(field, message)]),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Template)]
#[template(path = "mail_delete.html")]
struct DeletePage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    id: String,
    name: String,
    tenant: String,
}

/// The confirm step before a mailbox goes.
pub async fn confirm_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, PageError> {
    require_manager(&ctx)?;
    let mailbox = state
        .store
        .mailbox(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let page = DeletePage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, &format!("/mail/{id}/delete")).await?),
        csrf: ctx.session.csrf_token.clone(),
        tenant: tenant_label(&ctx.tr, &mailbox),
        id: mailbox.id,
        name: mailbox.name,
    };
    html(ctx.tr, &page)
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, _form): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    require_manager(&ctx)?;
    state
        .store
        .delete_mailbox(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/mail").into_response())
}

pub struct LogRow {
    id: String,
    received: String,
    mailbox: String,
    tenant: String,
    from: String,
    subject: String,
    outcome: String,
    outcome_name: String,
    reason: String,
    ticket: Option<i64>,
    has_raw: bool,
}

fn log_row(tr: &Tr, zone: &str, e: InboundEntry) -> LogRow {
    LogRow {
        received: local_time(e.received_at, zone),
        outcome_name: outcome_name(tr, &e.outcome),
        outcome: e.outcome.replace('_', "-"),
        reason: reason_text(tr, &e.reason),
        ticket: e.ticket_number,
        id: e.id,
        mailbox: e.mailbox_name,
        tenant: e.tenant_name,
        from: e.from_address,
        subject: e.subject,
        has_raw: e.has_raw,
    }
}

#[derive(Template)]
#[template(path = "mail_log.html")]
struct LogPage {
    tr: Tr,
    shell: Option<Shell>,
    rows: Vec<LogRow>,
    problems: bool,
    can_manage: bool,
    limit: String,
}

#[derive(Deserialize)]
pub struct LogQuery {
    problems: Option<String>,
}

/// The intake log: the latest messages of the municipalities the person works for.
pub async fn log(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LogQuery>,
) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::Operate) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let problems = q
        .problems
        .as_deref()
        .is_some_and(|p| !p.is_empty() && p != "0" && p != "false");
    let tenants = state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let zone = viewer_zone(&tenants);
    let rows = state
        .store
        .list_inbound_mail(&ctx.view_scope(), problems, LOG_ROWS)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|e| log_row(&ctx.tr, &zone, e))
        .collect();
    let page = LogPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/mail/log").await?),
        rows,
        problems,
        can_manage: ctx.scope.can_anywhere(Permission::ManageTenants),
        limit: LOG_ROWS.to_string(),
    };
    html(ctx.tr, &page)
}

/// A logged message's raw bytes as an `.eml` download, never shown inline.
pub(crate) fn eml_response(id: &str, bytes: Vec<u8>) -> Response {
    let name: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    (
        [
            (header::CONTENT_TYPE, "message/rfc822".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"mail-{name}.eml\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// `/mail/inbound/{id}.eml`: 404 for anything outside the person's municipalities.
pub async fn raw(
    State(state): State<AppState>,
    Path(file): Path<String>,
    ctx: Ctx,
) -> Result<Response, PageError> {
    let Some(id) = file.strip_suffix(".eml") else {
        return Err(PageError::NotFound(ctx.tr));
    };
    let (entry, bytes) = state
        .store
        .inbound_mail_raw(&ctx.scope, id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(eml_response(&entry.id, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use drifta_core::{Country, Language};

    #[test]
    fn every_outcome_and_reason_has_a_name_in_every_language() {
        for lang in Language::ALL {
            let tr = Tr::new(lang);
            for code in REASON_CODES {
                let text = reason_text(&tr, code);
                assert!(!text.starts_with("mail-reason-"), "{lang:?} {code}");
                assert_ne!(text, code, "{lang:?} {code}");
            }
            for outcome in ["ticket", "reply", "ignored", "kept_aside"] {
                assert!(
                    !outcome_name(&tr, outcome).starts_with("mail-outcome-"),
                    "{lang:?} {outcome}"
                );
                assert_ne!(outcome_name(&tr, outcome), outcome, "{lang:?} {outcome}");
            }
        }
        // Attachment notes on ticket rows are shown as written.
        let en = Tr::new(Language::En);
        assert_eq!(reason_text(&en, "big.iso (TooLarge)"), "big.iso (TooLarge)");
    }

    #[test]
    fn the_store_refusals_of_a_mailbox_read_in_every_language() {
        for lang in Language::ALL {
            let tr = Tr::new(lang);
            for code in [
                "required",
                "email-invalid",
                "host-invalid",
                "port-invalid",
                "security-invalid",
                "no-secret-key",
                "poll-invalid",
                "routes-municipal-mailbox",
                "route-invalid",
                "route-other-provider",
                "route-twice",
                "mailbox-move",
            ] {
                let key = format!("err-{code}");
                assert_ne!(tr.t(&key), key, "{lang:?} {code}");
            }
        }
    }

    fn town(name: &str, slug: &str) -> Tenant {
        Tenant {
            id: TenantId::generate(),
            parent_id: None,
            kind: TenantKind::Municipality,
            name: name.into(),
            slug: slug.into(),
            country: Country::No,
            time_zone: "Europe/Oslo".into(),
            language: Language::Nb,
        }
    }

    #[test]
    fn routes_are_read_a_line_each_by_short_name_or_name() {
        let tr = Tr::new(Language::En);
        let towns = [
            town("Fjordvik kommune", "fjordvik"),
            town("Lysberg kommune", "lysberg"),
        ];
        let routes = parse_routes(
            &tr,
            "fjordvik.kommune.no fjordvik\n\n# comment\n  kari@lysberg.no   Lysberg Kommune \nskole.fjordvik.no → fjordvik\r\n",
            &towns,
        )
        .unwrap();
        assert_eq!(
            routes,
            vec![
                ("fjordvik.kommune.no".to_string(), towns[0].id.clone()),
                ("kari@lysberg.no".to_string(), towns[1].id.clone()),
                ("skole.fjordvik.no".to_string(), towns[0].id.clone()),
            ]
        );
        let no_town = parse_routes(&tr, "fjordvik.no\n", &towns).unwrap_err();
        assert!(no_town.contains('1'), "{no_town}");
        let unknown = parse_routes(&tr, "a.no fjordvik\nb.no fremmedvik", &towns).unwrap_err();
        assert!(
            unknown.contains("fremmedvik") && unknown.contains('2'),
            "{unknown}"
        );
        assert!(parse_routes(&tr, "", &towns).unwrap().is_empty());
    }

    #[test]
    fn the_form_never_carries_a_password_back_and_reads_numbers() {
        let tr = Tr::new(Language::En);
        let form = MailboxForm {
            port: "99x".into(),
            ..MailboxForm::blank()
        };
        let (field, _) = to_new(&tr, &form, TenantId::generate(), &[]).unwrap_err();
        assert_eq!(field, "port");
        let form = MailboxForm {
            password: "hemmelig".into(),
            security: "none".into(),
            ..MailboxForm::blank()
        };
        let new = to_new(&tr, &form, TenantId::generate(), &[]).unwrap();
        assert_eq!(new.security, None, "plain is no choice; the store says so");
        assert_eq!(new.port, 993);
        assert!(new.enabled);
    }
}
