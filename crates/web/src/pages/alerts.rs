//! Alert routes (where each municipality's monitoring alerts go, with escalation steps)
//! and the delivery log; and the text of the alerts themselves, from the catalogue.

use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::alert::{AlertEvent, AlertKind, Rendered, RouteInput};
use drifta_core::monitor::MonitorState;
use drifta_core::notify::{DueTarget, TicketMail, TicketMailKind, ticket_reference};
use drifta_core::{Language, Permission, TenantId, TenantKind};
use drifta_store::StoreError;
use serde::Deserialize;

/// An alert's subject and text in `lang`. Times are shown in the municipality's zone.
pub fn alert_text(event: &AlertEvent, lang: Language) -> Rendered {
    let tr = Tr::new(lang);
    let zone = if event.time_zone.is_empty() {
        "Europe/Oslo"
    } else {
        event.time_zone.as_str()
    };
    let since = local_time(event.since, zone);
    let at = local_time(event.at, zone);
    let minutes = ((event.at - event.since) / 60_000).max(0).to_string();
    let state = tr.t(&format!("monitor-state-{}", event.state.as_str()));
    let args = [
        ("monitor", event.monitor.as_str()),
        ("municipality", event.municipality.as_str()),
        ("state", state.as_str()),
        ("reason", event.reason.as_str()),
        ("since", since.as_str()),
        ("at", at.as_str()),
        ("minutes", minutes.as_str()),
    ];
    let (subject, text) = if event.monitor_id.is_empty() {
        ("alert-test-subject", "alert-test-text")
    } else {
        match (event.kind, event.state) {
            (AlertKind::Recovery, _) => ("alert-recovered-subject", "alert-recovered-text"),
            (AlertKind::Problem, MonitorState::Down) => {
                ("alert-down-subject", "alert-problem-text")
            }
            (AlertKind::Problem, _) => ("alert-degraded-subject", "alert-problem-text"),
        }
    };
    Rendered {
        subject: tr.t_with(subject, &args),
        text: tr.t_with(text, &args),
    }
}

/// Mail about a ticket in `lang`: the ticket reference leads the subject, so replies keep it
/// and mail filters can sort by it.
pub fn ticket_mail_text(mail: &TicketMail, lang: Language) -> Rendered {
    let tr = Tr::new(lang);
    let zone = if mail.time_zone.is_empty() {
        "Europe/Oslo"
    } else {
        mail.time_zone.as_str()
    };
    let reference = ticket_reference(mail.number);
    let at = local_time(mail.at, zone);
    // SLA mail names the promise and when it falls due, as the municipality's staff read
    // the clock.
    let target = match mail.target {
        Some(DueTarget::Response) => tr.t("ticket-mail-sla-target-response"),
        Some(DueTarget::Resolution) => tr.t("ticket-mail-sla-target-resolution"),
        None => String::new(),
    };
    let due = mail
        .due_at
        .map(|due| local_time(due, zone))
        .unwrap_or_default();
    let body = if mail.kind == TicketMailKind::New && mail.body.trim().is_empty() {
        tr.t("ticket-mail-no-description")
    } else {
        mail.body.clone()
    };
    let args = [
        ("reference", reference.as_str()),
        ("title", mail.title.as_str()),
        ("municipality", mail.municipality.as_str()),
        ("actor", mail.actor.as_str()),
        ("body", body.as_str()),
        ("at", at.as_str()),
        ("target", target.as_str()),
        ("due", due.as_str()),
    ];
    let (subject, text) = match mail.kind {
        TicketMailKind::Assigned => ("ticket-mail-assigned-subject", "ticket-mail-assigned-text"),
        TicketMailKind::Reply => ("ticket-mail-reply-subject", "ticket-mail-reply-text"),
        TicketMailKind::New => ("ticket-mail-new-subject", "ticket-mail-new-text"),
        TicketMailKind::SlaWarning => (
            "ticket-mail-sla-warning-subject",
            "ticket-mail-sla-warning-text",
        ),
        TicketMailKind::SlaBreach => (
            "ticket-mail-sla-breach-subject",
            "ticket-mail-sla-breach-text",
        ),
    };
    Rendered {
        subject: tr.t_with(subject, &args),
        text: tr.t_with(text, &args),
    }
}

pub struct RouteRow {
    id: String,
    tenant: String,
    channel: String,
    target: String,
    threshold: String,
    delay: String,
    lang: &'static str,
    can_edit: bool,
}

pub struct DeliveryRow {
    created: String,
    tenant: String,
    channel: String,
    target: String,
    what: String,
    status: String,
    status_name: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    routes: Vec<RouteRow>,
    deliveries: Vec<DeliveryRow>,
    tenants: Vec<(String, String)>,
    form_error: Option<String>,
    max_delay: String,
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    render(&state, &ctx, None).await
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    form_error: Option<String>,
) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::ReadAll) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let view = ctx.view_scope();
    let tr = &ctx.tr;
    let routes = state
        .store
        .list_alert_routes(&view)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|r| RouteRow {
            can_edit: ctx.scope.can(&r.tenant_id, Permission::Operate),
            id: r.id,
            tenant: r.tenant_name,
            channel: tr.t(&format!("alert-channel-{}", r.channel.as_str())),
            target: match r.channel {
                drifta_core::alert::Channel::Webhook => format!(
                    "{} ({})",
                    r.target,
                    tr.t(&format!("alert-format-{}", r.format.as_str()))
                ),
                _ => r.target,
            },
            threshold: tr.t(&format!("alert-threshold-{}", r.threshold.as_str())),
            delay: if r.delay_minutes == 0 {
                tr.t("alert-at-once")
            } else {
                tr.t_with(
                    "alert-after-minutes",
                    &[("minutes", &r.delay_minutes.to_string())],
                )
            },
            lang: r.lang.code(),
        })
        .collect();
    let deliveries = state
        .store
        .list_outbox(&view, None, 100)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|d| DeliveryRow {
            created: local_time(d.created_at, "Europe/Oslo"),
            tenant: d.tenant_name,
            channel: tr.t(&format!("alert-channel-{}", d.channel)),
            target: d.target,
            what: if d.kind == "test" {
                tr.t("alert-kind-test")
            } else {
                format!("{}: {}", d.monitor, tr.t(&format!("alert-kind-{}", d.kind)))
            },
            status_name: tr.t(&format!("alert-status-{}", d.status)),
            detail: match d.status.as_str() {
                "sent" => d
                    .sent_at
                    .map(|t| local_time(t, "Europe/Oslo"))
                    .unwrap_or_default(),
                "queued" if d.attempts > 0 => tr.t_with(
                    "alert-retry",
                    &[
                        ("attempts", &d.attempts.to_string()),
                        ("at", &local_time(d.not_before, "Europe/Oslo")),
                        ("reason", &d.last_error),
                    ],
                ),
                "queued" => tr.t_with(
                    "alert-due",
                    &[("at", &local_time(d.not_before, "Europe/Oslo"))],
                ),
                _ => d.last_error,
            },
            status: d.status,
        })
        .collect();
    let tenants = state
        .store
        .list_tenants(&view)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|t| t.kind == TenantKind::Municipality && ctx.scope.can(&t.id, Permission::Operate))
        .map(|t| (t.id.to_string(), t.name))
        .collect();
    let status = if form_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = AlertsPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, "/monitors").await?),
        csrf: ctx.session.csrf_token.clone(),
        routes,
        deliveries,
        tenants,
        form_error,
        max_delay: drifta_core::alert::MAX_DELAY_MINUTES.to_string(),
    };
    let mut res = html(ctx.tr, &body)?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize)]
pub struct RouteForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    delay_minutes: String,
    #[serde(default)]
    lang: String,
}

pub async fn create(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<RouteForm>,
) -> Result<Response, PageError> {
    let tenant = TenantId::parse(&form.tenant).map_err(|_| PageError::BadRequest(ctx.tr))?;
    let input = RouteInput {
        channel: form.channel,
        target: form.target,
        format: form.format,
        threshold: form.threshold,
        delay_minutes: form.delay_minutes,
    };
    let route = match input.validate() {
        Ok(route) => route,
        Err(problems) => {
            let message = problems
                .iter()
                .map(|p| super::admin_users::field_message(&ctx.tr, p))
                .collect::<Vec<_>>()
                .join(" ");
            return render(&state, &ctx, Some(message)).await;
        }
    };
    let lang = Language::from_code(&form.lang).unwrap_or(ctx.tr.lang);
    match state
        .store
        .create_alert_route(&ctx.scope, &tenant, &route, lang)
        .await
    {
        Ok(_) => Ok(Redirect::to("/monitors/alerts").into_response()),
        Err(StoreError::Invalid(f)) => {
            let message = super::admin_users::field_message(&ctx.tr, &f);
            render(&state, &ctx, Some(message)).await
        }
        Err(e) => Err(ctx.store_err(e)),
    }
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, _form): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    state
        .store
        .delete_alert_route(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/monitors/alerts").into_response())
}

pub async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, _form): CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    state
        .store
        .send_test_alert(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to("/monitors/alerts#deliveries").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: AlertKind, state: MonitorState) -> AlertEvent {
        AlertEvent {
            kind,
            monitor_id: "m".into(),
            monitor: "Fagsystem".into(),
            municipality: "Fjordvik".into(),
            state,
            reason: "HTTP 503".into(),
            since: 1_782_900_000_000,
            at: 1_782_900_000_000 + 17 * 60_000,
            time_zone: "Europe/Oslo".into(),
        }
    }

    #[test]
    fn ticket_mail_carries_the_reference_in_the_recipient_language() {
        let mail = TicketMail {
            kind: TicketMailKind::Reply,
            ticket_id: "t".into(),
            number: 1042,
            title: "Skriver på lærerrommet".into(),
            municipality: "Fjordvik".into(),
            actor: "Mari Holtan".into(),
            body: "Ny toner er bestilt.".into(),
            at: 1_782_900_000_000,
            time_zone: "Europe/Oslo".into(),
            target: None,
            due_at: None,
        };
        let nb = ticket_mail_text(&mail, Language::Nb);
        assert!(nb.subject.starts_with("[#1042] "), "{nb:?}");
        assert!(nb.subject.contains("Skriver på lærerrommet"), "{nb:?}");
        assert!(nb.text.contains("Ny toner er bestilt."), "{nb:?}");
        assert!(nb.text.contains("Mari Holtan"), "{nb:?}");
        let assigned = ticket_mail_text(
            &TicketMail {
                kind: TicketMailKind::Assigned,
                body: String::new(),
                ..mail.clone()
            },
            Language::Da,
        );
        assert!(assigned.subject.starts_with("[#1042] "), "{assigned:?}");
        assert_ne!(assigned.text, ticket_mail_text(&mail, Language::Da).text);
        for lang in Language::ALL {
            for kind in [TicketMailKind::Assigned, TicketMailKind::Reply] {
                let text = ticket_mail_text(
                    &TicketMail {
                        kind,
                        ..mail.clone()
                    },
                    lang,
                );
                assert!(!text.subject.contains("ticket-mail"), "{lang:?}: {text:?}");
                assert!(!text.text.contains('{'), "{lang:?}: {text:?}");
            }
        }
    }

    #[test]
    fn new_ticket_and_sla_mail_carry_the_reference_target_and_local_due_time() {
        let base = TicketMail {
            kind: TicketMailKind::New,
            ticket_id: "t".into(),
            number: 1042,
            title: "Skriver på lærerrommet".into(),
            municipality: "Fjordvik".into(),
            actor: "Mari Holtan".into(),
            body: "Papirstopp i skuff 2.".into(),
            at: 1_782_900_000_000,
            time_zone: "Europe/Oslo".into(),
            target: None,
            due_at: None,
        };
        // 2026-07-01 11:00 UTC: 13:00 in Oslo (summer time).
        let due = 1_782_900_000_000 + 60 * 60_000;
        let warning = TicketMail {
            kind: TicketMailKind::SlaWarning,
            body: String::new(),
            target: Some(DueTarget::Response),
            due_at: Some(due),
            ..base.clone()
        };
        let breach = TicketMail {
            kind: TicketMailKind::SlaBreach,
            target: Some(DueTarget::Resolution),
            ..warning.clone()
        };
        for lang in Language::ALL {
            let new = ticket_mail_text(&base, lang);
            let warn = ticket_mail_text(&warning, lang);
            let late = ticket_mail_text(&breach, lang);
            for text in [&new, &warn, &late] {
                assert!(text.subject.starts_with("[#1042] "), "{lang:?}: {text:?}");
                assert!(
                    text.subject.contains("Skriver på lærerrommet"),
                    "{lang:?}: {text:?}"
                );
                assert!(!text.subject.contains("ticket-mail"), "{lang:?}: {text:?}");
                assert!(!text.text.contains("ticket-mail"), "{lang:?}: {text:?}");
                assert!(!text.text.contains('{'), "{lang:?}: {text:?}");
            }
            assert!(
                new.text.contains("Papirstopp i skuff 2."),
                "{lang:?}: {new:?}"
            );
            assert!(new.text.contains("Mari Holtan"), "{lang:?}: {new:?}");
            for text in [&warn, &late] {
                assert!(text.text.contains("2026-07-01 13:00"), "{lang:?}: {text:?}");
            }
            let response = Tr::new(lang).t("ticket-mail-sla-target-response");
            let resolution = Tr::new(lang).t("ticket-mail-sla-target-resolution");
            assert!(warn.text.contains(&response), "{lang:?}: {warn:?}");
            assert!(late.text.contains(&resolution), "{lang:?}: {late:?}");
            assert_ne!(warn.subject, late.subject, "{lang:?}");
            assert_ne!(new.subject, warn.subject, "{lang:?}");
            let empty = ticket_mail_text(
                &TicketMail {
                    body: String::new(),
                    ..base.clone()
                },
                lang,
            );
            assert!(
                empty
                    .text
                    .contains(&Tr::new(lang).t("ticket-mail-no-description")),
                "{lang:?}: {empty:?}"
            );
        }
        let nb = ticket_mail_text(&warning, Language::Nb);
        let da = ticket_mail_text(&warning, Language::Da);
        let en = ticket_mail_text(&warning, Language::En);
        assert_ne!(nb.text, da.text);
        assert_ne!(nb.text, en.text);
    }

    #[test]
    fn alerts_speak_the_route_language_and_local_time() {
        let nb = alert_text(&event(AlertKind::Problem, MonitorState::Down), Language::Nb);
        assert!(nb.subject.contains("Fagsystem"), "{nb:?}");
        assert!(nb.text.contains("12:00"), "Oslo summer time: {nb:?}");
        assert!(nb.text.contains("HTTP 503"), "{nb:?}");
        let da = alert_text(&event(AlertKind::Problem, MonitorState::Down), Language::Da);
        let en = alert_text(&event(AlertKind::Problem, MonitorState::Down), Language::En);
        // "NEDE" is the word in both Norwegian and Danish; the text tells them apart.
        assert_ne!(nb.text, da.text);
        assert_ne!(nb.subject, en.subject);
        let degraded = alert_text(
            &event(AlertKind::Problem, MonitorState::Degraded),
            Language::En,
        );
        assert_ne!(degraded.subject, en.subject);
        let recovered = alert_text(&event(AlertKind::Recovery, MonitorState::Up), Language::En);
        assert!(
            recovered.text.contains("17"),
            "outage minutes: {recovered:?}"
        );
        for text in [&nb, &da, &en, &degraded, &recovered] {
            assert!(!text.subject.contains("alert-"), "missing key: {text:?}");
            assert!(!text.text.contains('{'), "unfilled placeholder: {text:?}");
        }
    }
}
