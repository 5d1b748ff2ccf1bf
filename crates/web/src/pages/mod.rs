//! Server-rendered pages. Every page works without JavaScript.

mod account;
mod admin_users;
pub(crate) mod alerts;
mod audit;
mod checks;
mod dashboard;
mod desk;
mod gdpr;
pub(crate) mod import;
mod inventory;
mod item_fields;
mod kb;
mod login;
pub(crate) mod mail;
mod monitors;
mod reports;
mod status;
mod teams;
mod tickets;
pub(crate) mod uptime_report;

use crate::AppState;
use crate::auth::{Visitor, safe_next};
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use drifta_core::tenant::LocationKind;
use drifta_core::{Role, TenantId};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/tenants/{id}", get(dashboard::tenant))
        .route("/tenants/{id}/desk", get(desk::show).post(desk::save))
        .route("/tenants/{id}/matrix", post(dashboard::save_matrix))
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", post(login::logout))
        .route("/switch", post(switch_tenant))
        .route("/healthz", get(healthz))
        .route("/account", get(account::account))
        .route("/account/language", post(account::set_language))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route(
            "/admin/users",
            get(admin_users::list).post(admin_users::create),
        )
        .route("/admin/users/new", get(admin_users::new_form))
        .route("/admin/users/{id}", get(admin_users::edit))
        .route("/admin/users/{id}/grants", post(admin_users::save_grants))
        .route("/admin/users/{id}/status", post(admin_users::set_status))
        .route(
            "/admin/users/{id}/password",
            post(admin_users::set_password),
        )
        .route("/audit", get(audit::audit))
        .route("/search", get(tickets::search))
        .route("/monitors", get(monitors::list).post(monitors::create))
        .route("/monitors/{id}/status-page", post(status::set_shown))
        .route("/monitors/checks", post(checks::create))
        .route("/monitors/report", get(uptime_report::page))
        .route("/monitors/report.csv", get(uptime_report::csv))
        .route("/monitors/{id}", get(checks::show))
        .route("/monitors/{id}/pause", post(checks::set_paused))
        .route("/monitors/maintenance", post(checks::create_maintenance))
        .route("/monitors/alerts", get(alerts::page).post(alerts::create))
        .route("/monitors/alerts/{id}/delete", post(alerts::delete))
        .route("/monitors/alerts/{id}/test", post(alerts::test))
        .route("/mail", get(mail::list).post(mail::create))
        .route("/mail/new", get(mail::new_form))
        .route("/mail/log", get(mail::log))
        .route("/mail/inbound/{file}", get(mail::raw))
        .route("/mail/{id}", get(mail::edit).post(mail::update))
        .route(
            "/mail/{id}/delete",
            get(mail::confirm_delete).post(mail::delete),
        )
        .route(
            "/monitors/maintenance/{id}/delete",
            post(checks::delete_maintenance),
        )
        .route("/status", post(status::set_public))
        .route("/status/{slug}", get(status::page))
        .route(
            "/ping/{*path}",
            get(monitors::ping)
                .post(monitors::ping)
                .layer(axum::extract::DefaultBodyLimit::max(16 * 1024)),
        )
        .route("/live/tickets", get(crate::live::tickets))
        .route("/live/monitors", get(crate::live::monitors))
        .route("/wall", get(checks::wall))
        .route("/reports/time", get(reports::time_report))
        .route("/reports/time.csv", get(reports::time_report_csv))
        .route("/tickets", get(tickets::queue).post(tickets::create))
        .route("/tickets/new", get(tickets::new_form))
        .route("/tickets/callers", get(tickets::callers_json))
        .route(
            "/tickets/callers/{id}/recent",
            get(tickets::caller_recent_json),
        )
        .route("/tickets/{number}", get(tickets::show))
        .route("/tickets/{number}/comment", post(tickets::comment))
        .route("/tickets/{number}/status", post(tickets::set_status))
        .route("/tickets/{number}/assign", post(tickets::assign))
        .route("/tickets/{number}/time", post(tickets::add_time))
        .route("/tickets/{number}/tags", post(tickets::add_tag))
        .route("/tickets/{number}/tags/remove", post(tickets::remove_tag))
        .route(
            "/tickets/{number}/attachments",
            post(tickets::upload).layer(axum::extract::DefaultBodyLimit::max(
                drifta_store::MAX_ATTACHMENT_BYTES + 64 * 1024,
            )),
        )
        .route("/tickets/bulk", post(tickets::bulk))
        .route("/tickets/filters", post(tickets::save_filter))
        .route("/tickets/filters/{id}/delete", post(tickets::delete_filter))
        .route("/tickets/{number}/team", post(tickets::set_team))
        .route("/tickets/{number}/watch", post(tickets::watch))
        .route("/admin/teams", get(teams::list).post(teams::create))
        .route("/admin/teams/{id}/members", post(teams::member))
        .route("/attachments/{id}", get(tickets::download))
        .route("/tickets/{number}/articles", post(tickets::link_article))
        .route("/tickets/{number}/items", post(tickets::link_item))
        .route("/inventory", get(inventory::list).post(inventory::create))
        .route("/inventory/export.csv", get(inventory::export_csv))
        .route("/inventory/new", get(inventory::new_form))
        .route(
            "/inventory/import",
            get(import::form)
                .post(import::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    import::MAX_UPLOAD_BYTES + 64 * 1024,
                )),
        )
        .route("/inventory/import/template.csv", get(import::template))
        .route(
            "/inventory/import/{job}",
            get(import::status).post(import::rerun),
        )
        .route(
            "/inventory/suppliers",
            get(inventory::suppliers).post(inventory::create_supplier),
        )
        .route("/inventory/contracts", post(inventory::create_contract))
        .route("/inventory/suppliers.csv", get(inventory::suppliers_csv))
        .route("/inventory/{id}/impact.csv", get(inventory::impact_csv))
        .route(
            "/inventory/fields",
            get(item_fields::list).post(item_fields::add),
        )
        .route(
            "/inventory/{id}",
            get(inventory::show).post(inventory::update),
        )
        .route("/inventory/{id}/edit", get(inventory::edit_form))
        .route("/inventory/{id}/lifecycle", post(inventory::move_item))
        .route("/inventory/{id}/relations", post(inventory::relate))
        .route("/inventory/{id}/impact", get(inventory::impact))
        .route(
            "/inventory/{id}/portfolio",
            get(gdpr::portfolio).post(gdpr::save_portfolio),
        )
        .route("/gdpr", get(gdpr::record))
        .route("/gdpr.csv", get(gdpr::record_csv))
        .route("/kb", get(kb::list).post(kb::create))
        .route("/kb/new", get(kb::new_form))
        .route("/kb/{id}", get(kb::show).post(kb::update))
        .route("/kb/{id}/edit", get(kb::edit_form))
        .route("/kb/{id}/publish", post(kb::publish))
        .route("/kb/{id}/unpublish", post(kb::unpublish))
}

pub async fn not_found(visitor: Visitor) -> Response {
    PageError::NotFound(visitor.tr).into_response()
}

/// For load balancers: answers 200 only when the database answers.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.schema_status().await {
        Ok(_) => "ok".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable",
            )
                .into_response()
        }
    }
}

#[derive(Deserialize)]
struct SwitchForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    back: String,
}

/// The municipality switcher. An id outside the scope is refused, not silently widened.
async fn switch_tenant(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<SwitchForm>,
) -> Result<Response, PageError> {
    let tenant = if form.tenant.is_empty() {
        None
    } else {
        let id = TenantId::parse(&form.tenant).map_err(|_| PageError::BadRequest(ctx.tr))?;
        if !ctx.scope.sees(&id) {
            return Err(PageError::NotFound(ctx.tr));
        }
        Some(id)
    };
    state
        .store
        .set_active_tenant(&ctx.session.token_hash, tenant.as_ref())
        .await
        .map_err(|e| ctx.store_err(e))?;
    Ok(Redirect::to(&safe_next(Some(&form.back))).into_response())
}

/// Sends an attachment as a download, never rendered inline: a file from a requester must
/// not be able to run as a page of ours.
pub(crate) fn attachment_response(a: &drifta_store::Attachment, bytes: Vec<u8>) -> Response {
    use axum::http::header;
    let ascii: String = a
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        crate::error::url_encode(&a.filename).replace('+', "%20")
    );
    (
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// A CSV file for download. `filename` must be plain ASCII: callers build it from slugs,
/// codes and dates, never from what people typed.
pub(crate) fn csv_download(filename: &str, body: impl Into<axum::body::Body>) -> Response {
    use axum::http::header;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body.into(),
    )
        .into_response()
}

pub(crate) fn role_name(tr: &Tr, role: Role) -> String {
    tr.t(&format!("role-{}", role.as_str().replace('_', "-")))
}

pub(crate) fn location_kind_name(tr: &Tr, kind: LocationKind) -> String {
    tr.t(&format!(
        "location-kind-{}",
        kind.as_str().replace('_', "-")
    ))
}

pub(crate) fn country_name(tr: &Tr, country: drifta_core::Country) -> String {
    tr.t(&format!("country-{}", country.as_str().to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use drifta_core::Language;

    #[test]
    fn every_role_kind_and_country_has_a_name_in_every_language() {
        for lang in Language::ALL {
            let tr = Tr::new(lang);
            for role in Role::ALL {
                assert!(
                    !role_name(&tr, role).starts_with("role-"),
                    "{lang:?} {role}"
                );
            }
            for kind in LocationKind::ALL {
                assert!(
                    !location_kind_name(&tr, kind).starts_with("location-kind-"),
                    "{lang:?} {kind:?}"
                );
            }
            for c in drifta_core::Country::ALL {
                assert!(!country_name(&tr, c).starts_with("country-"));
            }
        }
    }
}
