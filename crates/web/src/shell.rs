//! The frame around every signed-in page: navigation, municipality switcher, language.

use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::i18n::Tr;
use askama::Template;
use drifta_core::{Permission, TenantKind};

pub struct Shell {
    pub user_name: String,
    pub csrf: String,
    /// Municipalities (and providers) the person sees: (id, name).
    pub tenants: Vec<(String, String)>,
    pub active: Option<String>,
    pub can_manage_users: bool,
    pub can_read_audit: bool,
    /// Works tickets somewhere: shows the queue and the phone form.
    pub can_operate: bool,
    /// Reads a municipality's figures (coordinators, technicians, auditors).
    pub can_read_reports: bool,
    /// Files requests (or reads tickets): shows the ticket list.
    pub can_see_tickets: bool,
    /// Manages a tenant (provider administrators): shows the e-mail intake's mailboxes.
    pub can_manage_mail: bool,
    /// Where the language and switcher forms return to.
    pub path: String,
}

impl Shell {
    pub async fn build(state: &AppState, ctx: &Ctx, path: &str) -> Result<Shell, PageError> {
        let tenants = state
            .store
            .list_tenants(&ctx.scope)
            .await
            .map_err(|e| ctx.store_err(e))?;
        // The switcher lists municipalities; a provider appears only when it is all one sees.
        let municipalities: Vec<(String, String)> = tenants
            .iter()
            .filter(|t| t.kind == TenantKind::Municipality)
            .map(|t| (t.id.to_string(), t.name.clone()))
            .collect();
        Ok(Shell {
            user_name: ctx.user.display_name.clone(),
            csrf: ctx.session.csrf_token.clone(),
            tenants: municipalities,
            active: ctx.session.active_tenant.as_ref().map(|t| t.to_string()),
            can_manage_users: ctx.scope.can_anywhere(Permission::ManageUsers),
            can_read_audit: ctx.scope.can_anywhere(Permission::ReadAudit),
            can_operate: ctx.scope.can_anywhere(Permission::Operate),
            can_read_reports: ctx.scope.can_anywhere(Permission::ReadAll),
            can_see_tickets: ctx.scope.can_anywhere(Permission::Request)
                || ctx.scope.can_anywhere(Permission::ReadAll),
            can_manage_mail: ctx.scope.can_anywhere(Permission::ManageTenants),
            path: path.to_string(),
        })
    }

    pub fn is_active(&self, id: &str) -> bool {
        self.active.as_deref() == Some(id)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub tr: Tr,
    pub shell: Option<Shell>,
    pub title: String,
    pub message: String,
}

/// An instant (ms since the epoch) as local time in `zone`, e.g. "2026-11-23 14:05".
pub fn local_time(ms: i64, zone: &str) -> String {
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_uses_the_zone_and_dst() {
        // 2026-07-01 10:00 UTC is 12:00 in Oslo (summer time), 2026-01-01 10:00 UTC is 11:00.
        assert_eq!(
            local_time(1_782_900_000_000, "Europe/Oslo"),
            "2026-07-01 12:00"
        );
        assert_eq!(
            local_time(1_767_261_600_000, "Europe/Copenhagen"),
            "2026-01-01 11:00"
        );
        assert_eq!(
            local_time(1_767_261_600_000, "Nowhere/Land"),
            "2026-01-01 10:00"
        );
    }
}
