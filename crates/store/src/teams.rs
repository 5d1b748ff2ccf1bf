//! Teams of technicians, watchers on tickets, and saved queue filters.

use crate::audit::Change;
use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::validate::{FieldError, display_name};
use drifta_core::{Permission, Scope, TenantId, UserId};
use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub tenant_id: TenantId,
    pub name: String,
    /// (user id, display name), by name.
    pub members: Vec<(UserId, String)>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SavedFilter {
    pub id: String,
    pub name: String,
    /// The queue page's query string, e.g. "view=all&tag=pc-utskifting".
    pub query: String,
}

/// Query-string keys a saved filter may hold; anything else is dropped.
const FILTER_KEYS: [&str; 5] = ["view", "status", "priority", "tag", "team"];

/// Keeps only known keys with short values, so a saved filter cannot smuggle anything into
/// the links it becomes.
pub fn clean_filter_query(query: &str) -> String {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.trim_start_matches('?')).unwrap_or_default();
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| FILTER_KEYS.contains(&k.as_str()) && !v.is_empty() && v.len() <= 80)
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

impl Store {
    /// Teams of the providers whose municipalities (or who themselves) are in scope.
    pub async fn list_teams(&self, scope: &Scope) -> Result<Vec<Team>, StoreError> {
        let sql = Sql::new("SELECT id, tenant_id, name FROM teams WHERE ")
            .in_scope(scope, Permission::View, "tenant_id")
            .push(" OR tenant_id IN (SELECT parent_id FROM tenants WHERE ")
            .in_scope(scope, Permission::Operate, "id")
            .push(") ORDER BY name");
        let rows: Vec<(String, String, String)> = self.fetch_all(sql).await?;
        let mut teams: Vec<Team> = rows
            .into_iter()
            .map(|(id, tenant, name)| Team {
                id,
                tenant_id: TenantId::from_db(tenant),
                name,
                members: Vec::new(),
            })
            .collect();
        if teams.is_empty() {
            return Ok(teams);
        }
        let members: Vec<(String, String, String)> = self
            .fetch_all(
                Sql::new("SELECT m.team_id, u.id, u.display_name FROM team_members m JOIN users u ON u.id = m.user_id WHERE ")
                    .push_in("m.team_id", teams.iter().map(|t| t.id.clone()))
                    .push(" ORDER BY u.display_name"),
            )
            .await?;
        for t in &mut teams {
            t.members = members
                .iter()
                .filter(|(team, _, _)| *team == t.id)
                .map(|(_, id, name)| (UserId::from_db(id.clone()), name.clone()))
                .collect();
        }
        Ok(teams)
    }

    pub async fn create_team(
        &self,
        scope: &Scope,
        provider: &TenantId,
        name: &str,
    ) -> Result<Team, StoreError> {
        scope.require(provider, Permission::ManageUsers)?;
        let name = display_name("name", name)?;
        let team = Team {
            id: UserId::generate().to_string(),
            tenant_id: provider.clone(),
            name,
            members: Vec::new(),
        };
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute_raw(
            Sql::new("INSERT INTO teams (tenant_id, id, name) VALUES ($1, $2, $3)")
                .arg(provider.as_str())
                .arg(team.id.as_str())
                .arg(team.name.as_str()),
        )
        .await
        .map_err(|e| StoreError::taken_or(e, &["name"]))?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(provider),
                action: "create",
                object_type: "team",
                object_id: &team.id,
                before: None,
                after: Some(serde_json::json!({ "name": team.name })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(team)
    }

    async fn team_for_admin(&self, scope: &Scope, team_id: &str) -> Result<Team, StoreError> {
        let team = self
            .list_teams(scope)
            .await?
            .into_iter()
            .find(|t| t.id == team_id)
            .ok_or(StoreError::NotFound)?;
        scope.require(&team.tenant_id, Permission::ManageUsers)?;
        Ok(team)
    }

    /// Adds or removes a member. Members must be technicians or administrators.
    pub async fn set_team_member(
        &self,
        scope: &Scope,
        team_id: &str,
        user: &UserId,
        member: bool,
    ) -> Result<(), StoreError> {
        let team = self.team_for_admin(scope, team_id).await?;
        let person = self.get_user(scope, user).await?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        if member {
            if team.members.iter().any(|(id, _)| id == user) {
                return Ok(());
            }
            tx.execute(
                Sql::new(
                    "INSERT INTO team_members (tenant_id, team_id, user_id) VALUES ($1, $2, $3)",
                )
                .arg(team.tenant_id.as_str())
                .arg(team.id.as_str())
                .arg(user.as_str()),
            )
            .await?;
        } else {
            tx.execute(
                Sql::new("DELETE FROM team_members WHERE tenant_id = $1 AND team_id = $2 AND user_id = $3")
                    .arg(team.tenant_id.as_str())
                    .arg(team.id.as_str())
                    .arg(user.as_str()),
            )
            .await?;
        }
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&team.tenant_id),
                action: if member {
                    "add_member"
                } else {
                    "remove_member"
                },
                object_type: "team",
                object_id: &team.id,
                before: None,
                after: Some(serde_json::json!({ "team": team.name, "user": person.username })),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Hands a ticket to a team of its municipality's provider, or to none.
    pub async fn set_ticket_team(
        &self,
        scope: &Scope,
        ticket_id: &str,
        team_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        scope.require(&ticket.tenant_id, Permission::Operate)?;
        if let Some(team_id) = team_id {
            let fits: Option<(String,)> = self
                .fetch_optional(
                    Sql::new("SELECT m.id FROM teams m JOIN tenants t ON t.parent_id = m.tenant_id WHERE m.id = $1 AND t.id = $2")
                        .arg(team_id)
                        .arg(ticket.tenant_id.as_str()),
                )
                .await?;
            if fits.is_none() {
                return Err(StoreError::Invalid(FieldError::new(
                    "team",
                    "team-other-provider",
                    "is not a team of this municipality's provider",
                )));
            }
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let stamp = tx.ticket_stamp(&ticket.tenant_id, now).await?;
        tx.execute(
            Sql::new(
                "UPDATE tickets SET team_id = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
            )
            .arg(team_id)
            .arg(stamp)
            .arg(ticket.tenant_id.as_str())
            .arg(ticket.id.as_str()),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&ticket.tenant_id),
                action: "team",
                object_type: "ticket",
                object_id: &ticket.id,
                before: Some(serde_json::json!({ "team_id": ticket.team_id })),
                after: Some(serde_json::json!({ "team_id": team_id })),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Starts or stops following a ticket, for oneself.
    pub async fn watch_ticket(
        &self,
        scope: &Scope,
        ticket_id: &str,
        watch: bool,
    ) -> Result<(), StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        let me = scope.user_id().ok_or(StoreError::NotFound)?;
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("DELETE FROM ticket_watchers WHERE tenant_id = $1 AND ticket_id = $2 AND user_id = $3")
                .arg(ticket.tenant_id.as_str())
                .arg(ticket.id.as_str())
                .arg(me.as_str()),
        )
        .await?;
        if watch {
            tx.execute(
                Sql::new("INSERT INTO ticket_watchers (tenant_id, ticket_id, user_id) VALUES ($1, $2, $3)")
                    .arg(ticket.tenant_id.as_str())
                    .arg(ticket.id.as_str())
                    .arg(me.as_str()),
            )
            .await?;
        }
        tx.audit(
            scope.actor(),
            self.now_ms(),
            Change {
                tenant: Some(&ticket.tenant_id),
                action: if watch { "watch" } else { "unwatch" },
                object_type: "ticket",
                object_id: &ticket.id,
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn watchers(
        &self,
        scope: &Scope,
        ticket_id: &str,
    ) -> Result<Vec<(UserId, String)>, StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        let rows: Vec<(String, String)> = self
            .fetch_all(
                Sql::new("SELECT u.id, u.display_name FROM ticket_watchers w JOIN users u ON u.id = w.user_id WHERE w.tenant_id = $1 AND w.ticket_id = $2 ORDER BY u.display_name")
                    .arg(ticket.tenant_id.as_str())
                    .arg(ticket.id.as_str()),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| (UserId::from_db(id), name))
            .collect())
    }

    /// Saves a queue filter for the acting person.
    pub async fn save_filter(
        &self,
        scope: &Scope,
        name: &str,
        query: &str,
    ) -> Result<SavedFilter, StoreError> {
        let me = scope.user_id().ok_or(StoreError::NotFound)?;
        let filter = SavedFilter {
            id: UserId::generate().to_string(),
            name: display_name("name", name)?,
            query: clean_filter_query(query),
        };
        self.execute(
            Sql::new(
                "INSERT INTO saved_filters (user_id, id, name, query) VALUES ($1, $2, $3, $4)",
            )
            .arg(me.as_str())
            .arg(filter.id.as_str())
            .arg(filter.name.as_str())
            .arg(filter.query.as_str()),
        )
        .await?;
        Ok(filter)
    }

    pub async fn saved_filters(&self, scope: &Scope) -> Result<Vec<SavedFilter>, StoreError> {
        let me = scope.user_id().ok_or(StoreError::NotFound)?;
        let rows: Vec<(String, String, String)> = self
            .fetch_all(
                Sql::new(
                    "SELECT id, name, query FROM saved_filters WHERE user_id = $1 ORDER BY name",
                )
                .arg(me.as_str()),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, query)| SavedFilter { id, name, query })
            .collect())
    }

    pub async fn delete_filter(&self, scope: &Scope, id: &str) -> Result<(), StoreError> {
        let me = scope.user_id().ok_or(StoreError::NotFound)?;
        self.execute(
            Sql::new("DELETE FROM saved_filters WHERE user_id = $1 AND id = $2")
                .arg(me.as_str())
                .arg(id),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_queries_keep_only_known_keys() {
        assert_eq!(
            clean_filter_query("view=mine&tag=pc-utskifting"),
            "view=mine&tag=pc-utskifting"
        );
        assert_eq!(
            clean_filter_query("?view=all&evil=%3Cscript%3E&tag="),
            "view=all"
        );
        assert_eq!(
            clean_filter_query("tag=%C3%A6rlig+%C3%B8l"),
            "tag=%C3%A6rlig+%C3%B8l"
        );
        assert_eq!(
            clean_filter_query("view=done&status=closed&priority=p1&changed=3"),
            "view=done&status=closed&priority=p1"
        );
        assert_eq!(clean_filter_query(""), "");
        assert_eq!(clean_filter_query("%%%"), "");
    }
}
