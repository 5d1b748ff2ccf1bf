//! The service desk: queues, the phone-speed logging form, and the ticket page.

use super::admin_users::form_errors;
use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::ticket::{Level, Priority, TicketKind, TicketStatus};
use drifta_core::{LocationId, Permission, TenantId, UserId};
use drifta_store::{ArticleFilter, NewTicket, QueueFilter, QueueView, StatusFilter, Ticket};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

pub(crate) fn status_name(tr: &Tr, s: TicketStatus) -> String {
    tr.t(&format!("status-{}", s.as_str().replace('_', "-")))
}

pub(crate) fn priority_name(tr: &Tr, p: Priority) -> String {
    tr.t(&format!("priority-{}", p.as_str()))
}

fn level_name(tr: &Tr, l: Level) -> String {
    tr.t(&format!("level-{}", l.as_str()))
}

fn kind_name(tr: &Tr, k: TicketKind) -> String {
    tr.t(&format!("kind-{}", k.as_str().replace('_', "-")))
}

/// How an SLA target stands, as (css class, text): met, late, paused, breached, warning, ok.
pub(crate) fn sla_view(
    tr: &Tr,
    t: &Ticket,
    due: Option<i64>,
    met_at: Option<i64>,
    now: i64,
) -> (&'static str, String) {
    let zone = t.time_zone.as_str();
    match (due, met_at) {
        (_, Some(met)) => match due {
            Some(d) if met > d => ("late", tr.t("sla-met-late")),
            _ => ("met", tr.t("sla-met")),
        },
        (None, None) if t.status.pauses_sla() => ("paused", tr.t("sla-paused")),
        (None, None) => ("none", "—".to_string()),
        (Some(d), None) if d < now => (
            "breached",
            tr.t_with("sla-breached", &[("time", &local_time(d, zone))]),
        ),
        (Some(d), None) => {
            // Warn in the last quarter of the wall-clock span; cheap, and no query per row.
            let span = (d - t.created_at).max(1);
            let class = if (d - now) * 4 < span {
                "warning"
            } else {
                "ok"
            };
            (
                class,
                tr.t_with("sla-due", &[("time", &local_time(d, zone))]),
            )
        }
    }
}

pub struct QueueRow {
    number: i64,
    title: String,
    tenant: String,
    requester: String,
    priority: String,
    priority_code: &'static str,
    status: String,
    assignee: String,
    sla: String,
    sla_class: &'static str,
    tags: Vec<String>,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct QueuePage {
    tr: Tr,
    shell: Option<Shell>,
    saved: Vec<(String, String, String)>,
    current_query: String,
    csrf: String,
    back: String,
    notice: Option<String>,
    tag_filter: String,
    view_code: String,
    /// Every status and priority as (code, name, chosen), for the filter bar.
    status_choices: Vec<(String, String, bool)>,
    priority_choices: Vec<(String, String, bool)>,
    statuses: Vec<(String, String)>,
    /// Whom the selected tickets can be assigned to (id, name).
    technicians: Vec<(String, String)>,
    can_log: bool,
    views: Vec<(String, String, bool)>,
    rows: Vec<QueueRow>,
}

#[derive(Deserialize)]
pub struct QueueQuery {
    view: Option<String>,
    tag: Option<String>,
    /// One status instead of the view's (active or done) set.
    status: Option<String>,
    priority: Option<String>,
    changed: Option<String>,
    refused: Option<String>,
}

/// A filter's code from the query string: none when absent or empty, `Err` when unknown.
fn chosen_code<T>(code: Option<&str>, parse: fn(&str) -> Option<T>) -> Result<Option<T>, ()> {
    code.filter(|c| !c.is_empty())
        .map(|c| parse(c).ok_or(()))
        .transpose()
}

/// Every value as (code, name, chosen) for a filter's select.
fn choices<T: Copy + PartialEq>(
    all: &[T],
    chosen: Option<T>,
    code: fn(T) -> &'static str,
    name: impl Fn(T) -> String,
) -> Vec<(String, String, bool)> {
    all.iter()
        .map(|v| (code(*v).to_string(), name(*v), chosen == Some(*v)))
        .collect()
}

pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let staff = ctx.scope.can_anywhere(Permission::Operate);
    let view_code = q
        .view
        .as_deref()
        .unwrap_or(if staff { "all" } else { "mine-requests" });
    let (view, status) = match view_code {
        "mine" => (QueueView::Mine, StatusFilter::Active),
        "unassigned" => (QueueView::Unassigned, StatusFilter::Active),
        "team" => (QueueView::MyTeams, StatusFilter::Active),
        "done" => (QueueView::All, StatusFilter::Done),
        _ => (QueueView::All, StatusFilter::Active),
    };
    let (Ok(only_status), Ok(priority)) = (
        chosen_code(q.status.as_deref(), TicketStatus::parse),
        chosen_code(q.priority.as_deref(), Priority::parse),
    ) else {
        return Err(PageError::BadRequest(ctx.tr));
    };
    let tag = q.tag.clone().filter(|t| !t.is_empty());
    let filter = QueueFilter {
        view,
        status: only_status.map_or(status, StatusFilter::Only),
        tenant: ctx.session.active_tenant.clone(),
        requester: None,
        tag: tag.clone(),
        priority,
        limit: 100,
    };
    let tickets = state
        .store
        .list_tickets(&ctx.view_scope(), &filter)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let now = state.store.now().as_millisecond();
    let rows = tickets
        .iter()
        .map(|t| {
            let (sla_class, sla) = sla_view(&ctx.tr, t, t.resolution_due_at, t.resolved_at, now);
            QueueRow {
                number: t.number,
                title: t.title.clone(),
                tenant: t.tenant_name.clone(),
                requester: t.requester_name.clone().unwrap_or_default(),
                priority: priority_name(&ctx.tr, t.priority),
                priority_code: t.priority.as_str(),
                status: status_name(&ctx.tr, t.status),
                assignee: t.assignee_name.clone().unwrap_or_else(|| "—".into()),
                sla,
                sla_class,
                tags: t.tags.clone(),
            }
        })
        .collect();
    let mut views = vec![("all", "queue-all")];
    let in_a_team = staff
        && state
            .store
            .list_teams(&ctx.scope)
            .await
            .map_err(|e| ctx.store_err(e))?
            .iter()
            .any(|t| t.members.iter().any(|(id, _)| *id == ctx.user.id));
    if staff {
        views.push(("mine", "queue-mine"));
        if in_a_team {
            views.push(("team", "queue-team"));
        }
        views.push(("unassigned", "queue-unassigned"));
    }
    views.push(("done", "queue-done"));
    let views = views
        .into_iter()
        .map(|(code, key)| {
            (
                format!("/tickets?view={code}"),
                ctx.tr.t(key),
                code == view_code || (code == "all" && view_code == "mine-requests"),
            )
        })
        .collect();
    let notice = q
        .changed
        .as_deref()
        .and_then(|c| c.parse::<i64>().ok())
        .map(|changed| {
            let refused: Vec<String> = q
                .refused
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter_map(|n| n.parse::<i64>().ok())
                .map(|n| format!("#{n}"))
                .collect();
            if refused.is_empty() {
                ctx.tr.t_count("bulk-done", changed)
            } else {
                ctx.tr
                    .t_count_with("bulk-partly", changed, &[("refused", &refused.join(", "))])
            }
        });
    // The queue's whole filter, for returning after a bulk change and for saving as a view.
    let mut back = format!("/tickets?view={view_code}");
    if let Some(s) = only_status {
        back.push_str(&format!("&status={}", s.as_str()));
    }
    if let Some(p) = priority {
        back.push_str(&format!("&priority={}", p.as_str()));
    }
    if let Some(tag) = &tag {
        back.push_str(&format!("&tag={}", crate::error::url_encode(tag)));
    }
    let technicians = if staff {
        state
            .store
            .technicians_for(&ctx.view_scope())
            .await
            .map_err(|e| ctx.store_err(e))?
            .into_iter()
            .map(|u| (u.id.to_string(), u.display_name))
            .collect()
    } else {
        Vec::new()
    };
    let saved = state
        .store
        .saved_filters(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|f| (f.id, f.name, format!("/tickets?{}", f.query)))
        .collect();
    let page = QueuePage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/tickets").await?),
        saved,
        current_query: back.trim_start_matches("/tickets?").to_string(),
        csrf: ctx.session.csrf_token.clone(),
        back,
        notice,
        tag_filter: q.tag.clone().unwrap_or_default(),
        view_code: view_code.to_string(),
        status_choices: choices(TicketStatus::ALL, only_status, TicketStatus::as_str, |s| {
            status_name(&ctx.tr, s)
        }),
        priority_choices: choices(Priority::ALL, priority, Priority::as_str, |p| {
            priority_name(&ctx.tr, p)
        }),
        technicians,
        statuses: TicketStatus::ALL
            .iter()
            .filter(|s| **s != TicketStatus::New)
            .map(|s| (s.as_str().to_string(), status_name(&ctx.tr, *s)))
            .collect(),
        can_log: staff,
        views,
        rows,
    };
    html(ctx.tr, &page)
}

#[derive(Deserialize, Default)]
pub struct TicketForm {
    #[serde(default)]
    requester: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    category: String,
    /// An affected item by host name, serial number or asset tag (staff only).
    #[serde(default)]
    item: String,
}

pub struct CallerView {
    id: String,
    name: String,
    phone: String,
    tenant_id: String,
    tenant_name: String,
    location_id: String,
    location_name: String,
}

#[derive(Template)]
#[template(path = "ticket_new.html")]
struct NewTicketPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    staff: bool,
    caller_q: String,
    callers: Vec<CallerView>,
    chosen: String,
    form: TicketForm,
    tenants: Vec<(String, String)>,
    locations: Vec<(String, String, String)>,
    kinds: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    recent: Vec<(i64, String, String)>,
    errors: BTreeMap<String, String>,
    form_error: Option<String>,
}

#[derive(Deserialize)]
pub struct NewQuery {
    caller_q: Option<String>,
    caller: Option<String>,
}

async fn new_ticket_page(
    state: &AppState,
    ctx: &Ctx,
    mut form: TicketForm,
    caller_q: String,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let staff = ctx.scope.can_anywhere(Permission::Operate);
    let tenants_all = state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let permission = if staff {
        Permission::Operate
    } else {
        Permission::Request
    };
    let tenants: Vec<(String, String)> = tenants_all
        .iter()
        .filter(|t| {
            ctx.scope.can(&t.id, permission) && t.kind == drifta_core::TenantKind::Municipality
        })
        .map(|t| (t.id.to_string(), t.name.clone()))
        .collect();
    if tenants.is_empty() {
        return Err(PageError::Forbidden(ctx.tr));
    }
    if form.tenant.is_empty() {
        form.tenant = ctx
            .session
            .active_tenant
            .as_ref()
            .map(|t| t.to_string())
            .filter(|t| tenants.iter().any(|(id, _)| id == t))
            .unwrap_or_else(|| tenants[0].0.clone());
    }
    let callers = if staff && !caller_q.is_empty() {
        state
            .store
            .search_callers(&ctx.scope, &caller_q, 10)
            .await
            .map_err(|e| ctx.store_err(e))?
    } else {
        Vec::new()
    };
    let mut chosen = String::new();
    let mut recent = Vec::new();
    if let Ok(id) = UserId::parse(&form.requester)
        && staff
        && let Ok(user) = state.store.get_caller(&ctx.scope, &id).await
    {
        chosen = format!("{} · {}", user.name, user.tenant_name);
        recent = state
            .store
            .list_tickets(
                &ctx.scope,
                &QueueFilter {
                    status: StatusFilter::Any,
                    requester: Some(id),
                    limit: 5,
                    ..QueueFilter::default()
                },
            )
            .await
            .map_err(|e| ctx.store_err(e))?
            .into_iter()
            .map(|t| (t.number, t.title, status_name(&ctx.tr, t.status)))
            .collect();
    }
    let locations = if staff {
        state
            .store
            .list_locations(&ctx.scope, None)
            .await
            .map_err(|e| ctx.store_err(e))?
            .into_iter()
            .filter(|l| ctx.scope.can(&l.tenant_id, Permission::Operate))
            .map(|l| (l.id.to_string(), l.tenant_id.to_string(), l.name))
            .collect()
    } else {
        Vec::new()
    };
    if form.impact.is_empty() {
        form.impact = "medium".into();
    }
    if form.urgency.is_empty() {
        form.urgency = "medium".into();
    }
    if form.kind.is_empty() {
        form.kind = "incident".into();
    }
    let form_error = (!errors.is_empty()).then(|| ctx.tr.t("form-has-errors"));
    let page = NewTicketPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, "/tickets/new").await?),
        csrf: ctx.session.csrf_token.clone(),
        staff,
        caller_q,
        callers: callers
            .into_iter()
            .map(|c| CallerView {
                id: c.id.to_string(),
                name: c.name,
                phone: c.phone,
                tenant_id: c.tenant_id.to_string(),
                tenant_name: c.tenant_name,
                location_id: c.location_id.map(|l| l.to_string()).unwrap_or_default(),
                location_name: c.location_name.unwrap_or_default(),
            })
            .collect(),
        chosen,
        form,
        tenants,
        locations,
        kinds: TicketKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), kind_name(&ctx.tr, *k)))
            .collect(),
        levels: Level::ALL
            .iter()
            .map(|l| (l.as_str().to_string(), level_name(&ctx.tr, *l)))
            .collect(),
        recent,
        errors,
        form_error,
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let mut form = TicketForm::default();
    if let Some(id) = q.caller.as_deref().and_then(|c| UserId::parse(c).ok())
        && let Ok(caller) = state.store.get_caller(&ctx.scope, &id).await
    {
        form.requester = caller.id.to_string();
        form.tenant = caller.tenant_id.to_string();
        form.location = caller
            .location_id
            .map(|l| l.to_string())
            .unwrap_or_default();
    }
    new_ticket_page(
        &state,
        &ctx,
        form,
        q.caller_q.unwrap_or_default(),
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<TicketForm>,
) -> Result<Response, PageError> {
    let tr = ctx.tr;
    let staff = ctx.scope.can_anywhere(Permission::Operate);
    let mut errors = BTreeMap::new();
    let tenant = TenantId::parse(&form.tenant).ok();
    if tenant.is_none() {
        errors.insert("tenant".to_string(), tr.t("err-required"));
    }
    let requester = if staff {
        UserId::parse(&form.requester).ok()
    } else {
        ctx.scope.user_id().cloned()
    };
    let location = LocationId::parse(&form.location).ok();
    let level = |s: &str| Level::parse(s).unwrap_or(Level::Medium);
    // The affected item is found before the ticket is written, so a typo is fixed in the
    // form instead of leaving a ticket without its item.
    let mut item = None;
    if staff && !form.item.trim().is_empty() {
        match super::inventory::resolve_item(&state, &ctx, &form.item, None).await? {
            super::inventory::Resolved::One(id) => item = Some(id),
            super::inventory::Resolved::None => {
                errors.insert("item".to_string(), tr.t("inventory-relation-none-found"));
            }
            super::inventory::Resolved::Many(candidates) => {
                let names: Vec<String> = candidates.into_iter().map(|(_, l)| l).collect();
                errors.insert(
                    "item".to_string(),
                    format!("{} {}", tr.t("ticket-item-ambiguous"), names.join("; ")),
                );
            }
        }
    }
    let (Some(tenant), true) = (tenant, errors.is_empty()) else {
        return new_ticket_page(
            &state,
            &ctx,
            form,
            String::new(),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let new = NewTicket {
        tenant_id: tenant,
        kind: TicketKind::parse(&form.kind).unwrap_or(TicketKind::Incident),
        title: form.title.clone(),
        description: form.description.clone(),
        requester_id: requester,
        location_id: location,
        category: form.category.chars().take(60).collect(),
        impact: level(&form.impact),
        urgency: level(&form.urgency),
        channel: if staff { "phone" } else { "portal" }.to_string(),
    };
    match state.store.create_ticket(&ctx.scope, new).await {
        Ok(t) => {
            if let Some(item) = item {
                // The ticket stands either way; a refused link shows on its page.
                if let Err(e) = state.store.link_ticket_item(&ctx.scope, &t.id, &item).await {
                    let (_, message) = form_errors(&tr, e).map_err(|e| ctx.store_err(e))?;
                    return ticket_page(&state, &ctx, t, None, Some(message)).await;
                }
            }
            Ok(Redirect::to(&format!("/tickets/{}?created=1", t.number)).into_response())
        }
        Err(e) => {
            let (field, message) = form_errors(&tr, e).map_err(|e| ctx.store_err(e))?;
            errors.insert(field, message);
            new_ticket_page(
                &state,
                &ctx,
                form,
                String::new(),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub struct EventView {
    kind: String,
    public: bool,
    actor: String,
    what: String,
    time: String,
    body: String,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    t: Ticket,
    staff: bool,
    can_reply: bool,
    channel: String,
    status: String,
    priority: String,
    priority_code: &'static str,
    assignee: String,
    response: String,
    response_class: &'static str,
    resolution: String,
    resolution_class: &'static str,
    time_spent: String,
    events: Vec<EventView>,
    next_statuses: Vec<(String, String)>,
    technicians: Vec<(String, String, bool)>,
    attachments: Vec<(String, String, String, String)>,
    can_attach: bool,
    teams: Vec<(String, String, bool)>,
    watchers: String,
    watching: bool,
    /// Linked knowledge-base articles the reader may see: (id, title).
    articles: Vec<(String, String)>,
    /// Affected items the reader can see: (id, label).
    items: Vec<(String, String)>,
    /// For staff: articles of this municipality and its provider not linked yet.
    linkable: Vec<(String, String)>,
    /// For staff: mail sent about this ticket: (recipient, what, status code, status, detail).
    mails: Vec<(String, String, String, String, String)>,
    notice: Option<String>,
    form_error: Option<String>,
}

async fn find(state: &AppState, ctx: &Ctx, number: &str) -> Result<Ticket, PageError> {
    let n: i64 = number.parse().map_err(|_| PageError::NotFound(ctx.tr))?;
    state
        .store
        .ticket_by_number(&ctx.scope, n)
        .await
        .map_err(|e| ctx.store_err(e))
}

fn event_text(tr: &Tr, kind: &str, data: Option<&str>) -> String {
    let data: serde_json::Value = data
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    match kind {
        "status" => {
            let to = data["to"]
                .as_str()
                .and_then(TicketStatus::parse)
                .map(|s| status_name(tr, s))
                .unwrap_or_default();
            tr.t_with("event-status", &[("status", to.as_str())])
        }
        "time" => tr.t_with("event-time", &[("minutes", &data["minutes"].to_string())]),
        other => tr.t(&format!("event-{other}")),
    }
}

async fn ticket_page(
    state: &AppState,
    ctx: &Ctx,
    t: Ticket,
    notice: Option<String>,
    form_error: Option<String>,
) -> Result<Response, PageError> {
    let staff = ctx.scope.can(&t.tenant_id, Permission::Operate);
    let own = t.requester_id.as_ref() == ctx.scope.user_id();
    let can_reply = t.status != TicketStatus::Closed && (staff || own);
    let now = state.store.now().as_millisecond();
    let (response_class, response) =
        sla_view(&ctx.tr, &t, t.response_due_at, t.first_response_at, now);
    let (resolution_class, resolution) =
        sla_view(&ctx.tr, &t, t.resolution_due_at, t.resolved_at, now);
    let events = state
        .store
        .ticket_events(&ctx.scope, &t)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|e| EventView {
            what: event_text(&ctx.tr, &e.kind, e.data.as_deref()),
            kind: e.kind,
            public: e.public,
            actor: e.actor_name,
            time: local_time(e.at, &t.time_zone),
            body: e.body,
        })
        .collect();
    let technicians = if staff {
        state
            .store
            .technicians_of(&t.tenant_id)
            .await
            .map_err(|e| ctx.store_err(e))?
            .into_iter()
            .map(|u| {
                let selected = t.assignee_id.as_ref() == Some(&u.id);
                (u.id.to_string(), u.display_name, selected)
            })
            .collect()
    } else {
        Vec::new()
    };
    let attachments = state
        .store
        .list_attachments(&ctx.scope, &t)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|a| {
            let size = if a.size >= 1024 * 1024 {
                format!("{:.1} MB", a.size as f64 / 1_048_576.0)
            } else {
                format!("{} kB", (a.size + 1023) / 1024)
            };
            (
                a.id,
                a.filename,
                size,
                format!(
                    "{} · {}",
                    a.uploaded_by,
                    local_time(a.uploaded_at, &t.time_zone)
                ),
            )
        })
        .collect();
    let watchers = state
        .store
        .watchers(&ctx.scope, &t.id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let watching = watchers.iter().any(|(id, _)| *id == ctx.user.id);
    let watchers = watchers
        .into_iter()
        .map(|(_, n)| n)
        .collect::<Vec<_>>()
        .join(", ");
    let teams = if staff {
        let parent = state
            .store
            .list_teams(&ctx.scope)
            .await
            .map_err(|e| ctx.store_err(e))?;
        parent
            .into_iter()
            .map(|team| {
                let chosen = t.team_id.as_deref() == Some(team.id.as_str());
                (team.id, team.name, chosen)
            })
            .collect()
    } else {
        Vec::new()
    };
    let time_spent = if staff {
        let (billable, total) = state
            .store
            .time_spent(&ctx.scope, &t)
            .await
            .map_err(|e| ctx.store_err(e))?;
        ctx.tr.t_with(
            "time-summary",
            &[
                ("total", &total.to_string()),
                ("billable", &billable.to_string()),
            ],
        )
    } else {
        String::new()
    };
    let articles: Vec<(String, String)> = state
        .store
        .ticket_articles(&ctx.scope, &t)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|a| (a.id, a.title))
        .collect();
    let items = state
        .store
        .ticket_items(&ctx.scope, &t.id)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|i| {
            let key = i
                .hostname
                .or(i.asset_tag)
                .or(i.serial_number)
                .unwrap_or_default();
            let label = if key.is_empty() {
                i.name
            } else {
                format!("{} ({key})", i.name)
            };
            (i.id, label)
        })
        .collect();
    let mails = if staff {
        state
            .store
            .ticket_outbox(&ctx.scope, &t.id)
            .await
            .map_err(|e| ctx.store_err(e))?
            .into_iter()
            .map(|m| {
                let detail = match m.status.as_str() {
                    "sent" => m
                        .sent_at
                        .map(|at| local_time(at, &t.time_zone))
                        .unwrap_or_default(),
                    _ => m.last_error,
                };
                (
                    m.target,
                    ctx.tr.t(&format!("mail-kind-{}", m.kind.replace('_', "-"))),
                    m.status.clone(),
                    ctx.tr.t(&format!("alert-status-{}", m.status)),
                    detail,
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let linkable = if staff {
        state
            .store
            .list_articles(
                &ctx.scope,
                &ArticleFilter {
                    tenant: Some(t.tenant_id.clone()),
                    limit: 200,
                    ..ArticleFilter::default()
                },
            )
            .await
            .map_err(|e| ctx.store_err(e))?
            .into_iter()
            .filter(|a| !articles.iter().any(|(id, _)| *id == a.id))
            .map(|a| (a.id, a.title))
            .collect()
    } else {
        Vec::new()
    };
    let page = TicketPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, &format!("/tickets/{}", t.number)).await?),
        csrf: ctx.session.csrf_token.clone(),
        staff,
        can_reply,
        channel: ctx.tr.t(&format!("channel-{}", t.channel)),
        status: status_name(&ctx.tr, t.status),
        priority: priority_name(&ctx.tr, t.priority),
        priority_code: t.priority.as_str(),
        assignee: t
            .assignee_name
            .clone()
            .unwrap_or_else(|| ctx.tr.t("ticket-unassigned")),
        response,
        response_class,
        resolution,
        resolution_class,
        time_spent,
        events,
        next_statuses: TicketStatus::ALL
            .iter()
            .filter(|s| t.status.can_move_to(**s))
            .map(|s| (s.as_str().to_string(), status_name(&ctx.tr, *s)))
            .collect(),
        technicians,
        attachments,
        can_attach: can_reply,
        teams,
        watchers,
        watching,
        articles,
        items,
        linkable,
        mails,
        t,
        notice,
        form_error,
    };
    let status = if page.form_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize)]
pub struct TicketQuery {
    created: Option<String>,
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Query(q): Query<TicketQuery>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let notice = if q.created.is_some() {
        Some(
            ctx.tr
                .t_with("ticket-created", &[("number", &t.number.to_string())]),
        )
    } else {
        q.saved.map(|_| ctx.tr.t("saved"))
    };
    ticket_page(&state, &ctx, t, notice, None).await
}

/// Runs a change; on a field error shows the ticket again with the message.
async fn after_change(
    state: &AppState,
    ctx: &Ctx,
    t: Ticket,
    result: Result<(), drifta_store::StoreError>,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/tickets/{}?saved=1", t.number)).into_response()),
        Err(e) => {
            let (_, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            let fresh = find(state, ctx, &t.number.to_string()).await?;
            ticket_page(state, ctx, fresh, None, Some(message)).await
        }
    }
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    internal: String,
}

pub async fn comment(
    State(state): State<AppState>,
    Path(number): Path<String>,
    CsrfForm(ctx, form): CsrfForm<CommentForm>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let result = state
        .store
        .add_comment(&ctx.scope, &t.id, &form.body, form.internal.is_empty())
        .await
        .map(|_| ());
    after_change(&state, &ctx, t, result).await
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    Path(number): Path<String>,
    CsrfForm(ctx, form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let next = TicketStatus::parse(&form.status).ok_or(PageError::BadRequest(ctx.tr))?;
    let result = state
        .store
        .set_status(&ctx.scope, &t.id, next)
        .await
        .map(|_| ());
    after_change(&state, &ctx, t, result).await
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    assignee: String,
}

pub async fn assign(
    State(state): State<AppState>,
    Path(number): Path<String>,
    CsrfForm(ctx, form): CsrfForm<AssignForm>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let assignee = if form.assignee.is_empty() {
        None
    } else {
        Some(UserId::parse(&form.assignee).map_err(|_| PageError::BadRequest(ctx.tr))?)
    };
    let result = state
        .store
        .assign_ticket(&ctx.scope, &t.id, assignee.as_ref())
        .await
        .map(|_| ());
    after_change(&state, &ctx, t, result).await
}

#[derive(Deserialize)]
pub struct TimeForm {
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    billable: String,
    #[serde(default)]
    note: String,
}

pub async fn add_time(
    State(state): State<AppState>,
    Path(number): Path<String>,
    CsrfForm(ctx, form): CsrfForm<TimeForm>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let minutes = form.minutes.trim().parse::<i64>().unwrap_or(0);
    let result = state
        .store
        .add_time(
            &ctx.scope,
            &t.id,
            minutes,
            !form.billable.is_empty(),
            &form.note,
        )
        .await;
    after_change(&state, &ctx, t, result).await
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    article: String,
}

/// Links a knowledge-base article to the ticket; one of another municipality answers 404.
#[derive(Deserialize)]
pub struct ItemLinkForm {
    #[serde(default)]
    item: String,
}

/// Links an affected item, named by host name, serial number, asset tag or name.
pub async fn link_item(
    State(state): State<AppState>,
    Path(number): Path<String>,
    CsrfForm(ctx, form): CsrfForm<ItemLinkForm>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    match super::inventory::resolve_item(&state, &ctx, &form.item, None).await? {
        super::inventory::Resolved::One(item) => {
            let result = state.store.link_ticket_item(&ctx.scope, &t.id, &item).await;
            after_change(&state, &ctx, t, result).await
        }
        super::inventory::Resolved::None => {
            let message = ctx.tr.t("inventory-relation-none-found");
            ticket_page(&state, &ctx, t, None, Some(message)).await
        }
        super::inventory::Resolved::Many(candidates) => {
            let names: Vec<String> = candidates.into_iter().map(|(_, label)| label).collect();
            let message = format!("{} {}", ctx.tr.t("ticket-item-ambiguous"), names.join("; "));
            ticket_page(&state, &ctx, t, None, Some(message)).await
        }
    }
}

pub async fn link_article(
    State(state): State<AppState>,
    Path(number): Path<String>,
    CsrfForm(ctx, form): CsrfForm<LinkForm>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let result = state
        .store
        .link_article(&ctx.scope, &t.id, form.article.trim())
        .await;
    after_change(&state, &ctx, t, result).await
}

#[derive(Deserialize)]
pub struct CallerQuery {
    #[serde(default)]
    q: String,
}

/// Caller lookup for the phone form's script (same-origin, session cookie).
pub async fn callers_json(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CallerQuery>,
) -> Result<Response, PageError> {
    let callers = state
        .store
        .search_callers(&ctx.scope, &q.q, 10)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Json(json!({ "items": callers })).into_response())
}

/// A caller's latest tickets, shown beside the phone form while the call goes on.
pub async fn caller_recent_json(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = UserId::parse(&id).map_err(|_| PageError::NotFound(ctx.tr))?;
    let caller = state
        .store
        .get_caller(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let tickets = state
        .store
        .list_tickets(
            &ctx.scope,
            &QueueFilter {
                status: StatusFilter::Any,
                requester: Some(id),
                limit: 5,
                ..QueueFilter::default()
            },
        )
        .await
        .map_err(|e| ctx.store_err(e))?;
    let items: Vec<_> = tickets
        .iter()
        .map(|t| json!({"number": t.number, "title": t.title, "status": status_name(&ctx.tr, t.status)}))
        .collect();
    Ok(Json(json!({ "caller": caller, "items": items })).into_response())
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    tr: Tr,
    shell: Option<Shell>,
    q: String,
    rows: Vec<(i64, String, String, String)>,
    articles: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Full-text search over the tickets the person may read (narrowed by the switcher).
pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let rows = state
        .store
        .search_tickets(&ctx.view_scope(), &q.q, 50)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|t| {
            (
                t.number,
                t.title,
                t.tenant_name,
                status_name(&ctx.tr, t.status),
            )
        })
        .collect();
    let articles = if q.q.trim().is_empty() {
        Vec::new()
    } else {
        state
            .store
            .list_articles(
                &ctx.view_scope(),
                &drifta_store::ArticleFilter {
                    tenant: None,
                    published_only: false,
                    text: q.q.clone(),
                    limit: 20,
                },
            )
            .await
            .map_err(|e| ctx.store_err(e))?
            .into_iter()
            .map(|a| (a.id, a.title, a.tenant_name))
            .collect()
    };
    let page = SearchPage {
        articles,
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/search").await?),
        q: q.q.chars().take(200).collect(),
        rows,
    };
    html(ctx.tr, &page)
}

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    tag: String,
}

pub async fn add_tag(
    State(state): State<AppState>,
    Path(number): Path<String>,
    CsrfForm(ctx, form): CsrfForm<TagForm>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let result = state.store.add_tag(&ctx.scope, &t.id, &form.tag).await;
    after_change(&state, &ctx, t, result).await
}

pub async fn remove_tag(
    State(state): State<AppState>,
    Path(number): Path<String>,
    CsrfForm(ctx, form): CsrfForm<TagForm>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let result = state.store.remove_tag(&ctx.scope, &t.id, &form.tag).await;
    after_change(&state, &ctx, t, result).await
}

/// A file upload from the ticket page. The CSRF field comes before the file in the form, so
/// the token is checked before any file bytes are read.
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let mut token_ok = false;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| PageError::BadRequest(ctx.tr))?
    {
        match field.name() {
            Some("csrf") => {
                let value = field
                    .text()
                    .await
                    .map_err(|_| PageError::BadRequest(ctx.tr))?;
                token_ok = !value.is_empty()
                    && drifta_core::secret::equal(&value, &ctx.session.csrf_token);
            }
            Some("file") if token_ok => {
                let filename = field.file_name().unwrap_or("vedlegg").to_string();
                let bytes = match field.bytes().await {
                    Ok(b) => b,
                    Err(_) => {
                        let message = ctx.tr.t("err-file-too-large");
                        return ticket_page(&state, &ctx, t, None, Some(message)).await;
                    }
                };
                let result = state
                    .store
                    .add_attachment(&ctx.scope, &t.id, &filename, &bytes)
                    .await
                    .map(|_| ());
                return after_change(&state, &ctx, t, result).await;
            }
            Some("file") => return Err(PageError::Csrf(ctx.tr)),
            _ => {}
        }
    }
    if token_ok {
        let message = ctx.tr.t("err-file-empty");
        ticket_page(&state, &ctx, t, None, Some(message)).await
    } else {
        Err(PageError::Csrf(ctx.tr))
    }
}

pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (a, bytes) = state
        .store
        .get_attachment(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(super::attachment_response(&a, bytes))
}

/// Many tickets at once: after a replacement weekend, hundreds of similar calls come in.
/// Each change goes through the same rules as one at a time; refusals are listed.
pub async fn bulk(
    State(state): State<AppState>,
    CsrfForm(ctx, pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let numbers: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "ticket")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let action = get("action");
    let mut changed = 0;
    let mut refused = Vec::new();
    for n in numbers {
        let Ok(t) = state.store.ticket_by_number(&ctx.scope, n).await else {
            refused.push(n);
            continue;
        };
        let result = match action.as_str() {
            "status" => match TicketStatus::parse(&get("status")) {
                Some(s) => state
                    .store
                    .set_status(&ctx.scope, &t.id, s)
                    .await
                    .map(|_| ()),
                None => return Err(PageError::BadRequest(ctx.tr)),
            },
            "assign_me" => state
                .store
                .assign_ticket(&ctx.scope, &t.id, ctx.scope.user_id())
                .await
                .map(|_| ()),
            "unassign" => state
                .store
                .assign_ticket(&ctx.scope, &t.id, None)
                .await
                .map(|_| ()),
            "assign" => match UserId::parse(&get("assignee")) {
                Ok(who) => state
                    .store
                    .assign_ticket(&ctx.scope, &t.id, Some(&who))
                    .await
                    .map(|_| ()),
                Err(_) => return Err(PageError::BadRequest(ctx.tr)),
            },
            "tag" => state.store.add_tag(&ctx.scope, &t.id, &get("tag")).await,
            _ => return Err(PageError::BadRequest(ctx.tr)),
        };
        match result {
            Ok(()) => changed += 1,
            Err(_) => refused.push(n),
        }
    }
    let refused: Vec<String> = refused.iter().map(|n| n.to_string()).collect();
    let back = get("back");
    let back = if back.starts_with("/tickets") {
        back
    } else {
        "/tickets".into()
    };
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!(
        "{back}{sep}changed={changed}&refused={}",
        refused.join(",")
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    team: String,
}

pub async fn set_team(
    State(state): State<AppState>,
    Path(number): Path<String>,
    CsrfForm(ctx, form): CsrfForm<TeamForm>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let team = (!form.team.is_empty()).then_some(form.team.as_str());
    let result = state.store.set_ticket_team(&ctx.scope, &t.id, team).await;
    after_change(&state, &ctx, t, result).await
}

#[derive(Deserialize)]
pub struct WatchForm {
    #[serde(default)]
    watch: String,
}

pub async fn watch(
    State(state): State<AppState>,
    Path(number): Path<String>,
    CsrfForm(ctx, form): CsrfForm<WatchForm>,
) -> Result<Response, PageError> {
    let t = find(&state, &ctx, &number).await?;
    let result = state
        .store
        .watch_ticket(&ctx.scope, &t.id, form.watch == "1")
        .await;
    after_change(&state, &ctx, t, result).await
}

#[derive(Deserialize)]
pub struct SaveFilterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
}

pub async fn save_filter(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<SaveFilterForm>,
) -> Result<Response, PageError> {
    match state
        .store
        .save_filter(&ctx.scope, &form.name, &form.query)
        .await
    {
        Ok(f) => Ok(Redirect::to(&format!("/tickets?{}", f.query)).into_response()),
        Err(drifta_store::StoreError::Invalid(_)) => Err(PageError::BadRequest(ctx.tr)),
        Err(e) => Err(ctx.store_err(e)),
    }
}

pub async fn delete_filter(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, _): CsrfForm<super::login::Empty>,
) -> Result<Response, PageError> {
    state
        .store
        .delete_filter(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/tickets").into_response())
}
