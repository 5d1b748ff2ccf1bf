//! People, their passwords, languages and role grants.

use crate::audit::Change;
use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::validate::{self, FieldError};
use drifta_core::{Actor, Language, Permission, Role, Scope, TenantId, TenantKind, UserId};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    /// The home tenant: the provider for its staff, a municipality for its employees.
    pub tenant_id: TenantId,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub phone: String,
    pub language: Option<Language>,
    pub disabled: bool,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub tenant_id: TenantId,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub phone: String,
    pub language: Option<Language>,
    /// An argon2id hash; `None` makes an account that cannot sign in with a password yet.
    pub password_hash: Option<String>,
}

pub(crate) type UserRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
);
const USER_COLUMNS: &str =
    "id, tenant_id, username, email, display_name, phone, language, disabled";

pub(crate) fn user_from_row(r: UserRow) -> User {
    User {
        id: UserId::from_db(r.0),
        tenant_id: TenantId::from_db(r.1),
        username: r.2,
        email: r.3,
        display_name: r.4,
        phone: r.5,
        language: r.6.as_deref().and_then(Language::from_code),
        disabled: r.7,
    }
}

/// What caller search matches against; see migration 0002.
pub(crate) fn search_text(display_name: &str, username: &str, email: &str, phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    format!("{display_name} {username} {email} {digits}").to_lowercase()
}

fn snapshot(user: &User) -> serde_json::Value {
    serde_json::to_value(user).unwrap_or_default()
}

impl Store {
    pub async fn create_user(&self, scope: &Scope, new: NewUser) -> Result<User, StoreError> {
        scope.require(&new.tenant_id, Permission::ManageUsers)?;
        let user = User {
            id: UserId::generate(),
            tenant_id: new.tenant_id,
            username: validate::username(&new.username)?,
            email: validate::email(&new.email)?,
            display_name: validate::display_name("display_name", &new.display_name)?,
            phone: new.phone.trim().to_string(),
            language: new.language,
            disabled: false,
        };
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute_raw(
            Sql::new(format!(
                "INSERT INTO users ({USER_COLUMNS}, password_hash, created_at, password_changed_at, search_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ))
            .arg(user.id.as_str())
            .arg(user.tenant_id.as_str())
            .arg(user.username.as_str())
            .arg(user.email.as_str())
            .arg(user.display_name.as_str())
            .arg(user.phone.as_str())
            .arg(user.language.map(|l| l.code()))
            .arg(false)
            .arg(new.password_hash.clone())
            .arg(now)
            .arg(new.password_hash.as_ref().map(|_| now))
            .arg(search_text(&user.display_name, &user.username, &user.email, &user.phone)),
        )
        .await
        .map_err(|e| StoreError::taken_or(e, &["username", "email"]))?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&user.tenant_id),
                action: "create",
                object_type: "user",
                object_id: user.id.as_str(),
                before: None,
                after: Some(snapshot(&user)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// A user the scope may see: oneself, or anyone whose home tenant the actor manages.
    pub async fn get_user(&self, scope: &Scope, id: &UserId) -> Result<User, StoreError> {
        let sql = Sql::new(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND (id = $2 OR "
        ))
        .arg(id.as_str())
        .arg(scope.user_id().map(|u| u.to_string()).unwrap_or_default())
        .in_scope(scope, Permission::ManageUsers, "tenant_id")
        .push(")");
        self.fetch_optional::<UserRow>(sql)
            .await?
            .map(user_from_row)
            .ok_or(StoreError::NotFound)
    }

    pub async fn find_user_by_username(
        &self,
        scope: &Scope,
        username: &str,
    ) -> Result<User, StoreError> {
        let sql = Sql::new(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1 AND "
        ))
        .arg(username.trim().to_lowercase())
        .in_scope(scope, Permission::ManageUsers, "tenant_id");
        self.fetch_optional::<UserRow>(sql)
            .await?
            .map(user_from_row)
            .ok_or(StoreError::NotFound)
    }

    /// Users whose home tenant the actor manages, optionally of one tenant.
    pub async fn list_users(
        &self,
        scope: &Scope,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<User>, StoreError> {
        let mut sql = Sql::new(format!("SELECT {USER_COLUMNS} FROM users WHERE ")).in_scope(
            scope,
            Permission::ManageUsers,
            "tenant_id",
        );
        if let Some(t) = tenant {
            sql = sql.push(" AND tenant_id = ").push_arg(t.as_str());
        }
        Ok(self
            .fetch_all::<UserRow>(sql.push(" ORDER BY display_name"))
            .await?
            .into_iter()
            .map(user_from_row)
            .collect())
    }

    /// The account and password hash for a sign-in attempt, by user name or e-mail.
    /// Unscoped by nature: nobody is signed in yet. Only the sign-in code calls it.
    pub async fn find_login(
        &self,
        login: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        let login = login.trim().to_lowercase();
        let sql = Sql::new(format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1 OR email = $1"
        ))
        .arg(login);
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            bool,
            Option<String>,
        );
        Ok(self.fetch_optional::<Row>(sql).await?.map(|r| {
            let hash = r.8.clone();
            (
                user_from_row((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7)),
                hash,
            )
        }))
    }

    /// The account behind a session or token, for building its scope. Unscoped, like
    /// [`Store::find_login`]: it is how a scope comes to exist.
    pub(crate) async fn user_by_id_unscoped(&self, id: &str) -> Result<Option<User>, StoreError> {
        let sql = Sql::new(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")).arg(id);
        Ok(self
            .fetch_optional::<UserRow>(sql)
            .await?
            .map(user_from_row))
    }

    /// Sets a new password hash and ends the user's other sessions, so a changed password
    /// locks out whoever knew the old one.
    pub async fn set_password(
        &self,
        scope: &Scope,
        user: &UserId,
        password_hash: &str,
        keep_session: Option<&str>,
    ) -> Result<(), StoreError> {
        let target = self.get_user(scope, user).await?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
                .arg(password_hash)
                .arg(now)
                .arg(user.as_str()),
        )
        .await?;
        tx.execute(
            Sql::new("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .arg(user.as_str())
                .arg(
                    keep_session
                        .map(drifta_core::secret::digest)
                        .unwrap_or_default(),
                ),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&target.tenant_id),
                action: "password_change",
                object_type: "user",
                object_id: user.as_str(),
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Disables or re-enables an account. Disabling ends its sessions at once; its API
    /// tokens stop working because authentication checks the flag.
    pub async fn set_disabled(
        &self,
        scope: &Scope,
        user: &UserId,
        disabled: bool,
    ) -> Result<User, StoreError> {
        let before = self.get_user(scope, user).await?;
        scope.require(&before.tenant_id, Permission::ManageUsers)?;
        if disabled && scope.user_id() == Some(user) {
            return Err(StoreError::Invalid(FieldError::new(
                "disabled",
                "cannot-disable-self",
                "you cannot disable your own account",
            )));
        }
        let after = User {
            disabled,
            ..before.clone()
        };
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("UPDATE users SET disabled = $1 WHERE id = $2")
                .arg(disabled)
                .arg(user.as_str()),
        )
        .await?;
        if disabled {
            tx.execute(Sql::new("DELETE FROM sessions WHERE user_id = $1").arg(user.as_str()))
                .await?;
        }
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&before.tenant_id),
                action: if disabled { "disable" } else { "enable" },
                object_type: "user",
                object_id: user.as_str(),
                before: Some(snapshot(&before)),
                after: Some(snapshot(&after)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The user's own interface language; `None` follows the browser.
    pub async fn set_language(
        &self,
        scope: &Scope,
        user: &UserId,
        language: Option<Language>,
    ) -> Result<(), StoreError> {
        let before = self.get_user(scope, user).await?;
        let after = User {
            language,
            ..before.clone()
        };
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("UPDATE users SET language = $1 WHERE id = $2")
                .arg(language.map(|l| l.code()))
                .arg(user.as_str()),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&before.tenant_id),
                action: "update",
                object_type: "user",
                object_id: user.as_str(),
                before: Some(snapshot(&before)),
                after: Some(snapshot(&after)),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The grants a user holds in tenants the actor manages.
    pub async fn grants_of(
        &self,
        scope: &Scope,
        user: &UserId,
    ) -> Result<Vec<(TenantId, Role)>, StoreError> {
        let sql = Sql::new("SELECT tenant_id, role FROM role_grants WHERE user_id = $1 AND ")
            .arg(user.as_str())
            .in_scope(scope, Permission::ManageUsers, "tenant_id")
            .push(" ORDER BY tenant_id, role");
        Ok(self
            .fetch_all::<(String, String)>(sql)
            .await?
            .into_iter()
            .filter_map(|(t, r)| Some((TenantId::from_db(t), Role::parse(&r)?)))
            .collect())
    }

    /// Replaces the user's grants within the tenants the actor manages. Grants in other
    /// tenants stay as they are: an administrator can never touch what they cannot see.
    pub async fn set_grants(
        &self,
        scope: &Scope,
        user: &UserId,
        grants: &[(TenantId, Role)],
    ) -> Result<(), StoreError> {
        let target = self.get_user(scope, user).await?;
        scope.require(&target.tenant_id, Permission::ManageUsers)?;
        for (tenant, role) in grants {
            scope.require(tenant, Permission::ManageUsers)?;
            let t = self.get_tenant(scope, tenant).await?;
            if t.kind == TenantKind::Provider && !role.may_be_granted_on_provider() {
                return Err(StoreError::Invalid(FieldError::new(
                    "role",
                    "role-municipality-only",
                    "coordinators and requesters are granted per municipality",
                )));
            }
            if t.kind == TenantKind::Municipality && *role == Role::ProviderAdmin {
                return Err(StoreError::Invalid(FieldError::new(
                    "role",
                    "role-provider-only",
                    "provider administrators are granted on the provider",
                )));
            }
        }
        if scope.user_id() == Some(user)
            && !grants.iter().any(|(_, r)| *r == Role::ProviderAdmin)
            && self
                .grants_of(scope, user)
                .await?
                .iter()
                .any(|(_, r)| *r == Role::ProviderAdmin)
        {
            return Err(StoreError::Invalid(FieldError::new(
                "role",
                "cannot-demote-self",
                "you cannot remove your own administrator role",
            )));
        }
        let before = self.grants_of(scope, user).await?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("DELETE FROM role_grants WHERE user_id = $1 AND ")
                .arg(user.as_str())
                .in_scope(scope, Permission::ManageUsers, "tenant_id"),
        )
        .await?;
        let mut unique: Vec<&(TenantId, Role)> = grants.iter().collect();
        unique.sort();
        unique.dedup();
        for (tenant, role) in unique {
            tx.execute(
                Sql::new("INSERT INTO role_grants (tenant_id, user_id, role) VALUES ($1, $2, $3)")
                    .arg(tenant.as_str())
                    .arg(user.as_str())
                    .arg(role.as_str()),
            )
            .await?;
        }
        let as_json = |g: &[(TenantId, Role)]| {
            serde_json::Value::Array(
                g.iter()
                    .map(|(t, r)| serde_json::json!({"tenant_id": t, "role": r}))
                    .collect(),
            )
        };
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&target.tenant_id),
                action: "grants",
                object_type: "user",
                object_id: user.as_str(),
                before: Some(as_json(&before)),
                after: Some(as_json(grants)),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Builds the scope of a signed-in user from their grants; a grant on a provider
    /// covers every municipality under it.
    pub async fn scope_for(&self, user: &User, ip: &str) -> Result<Scope, StoreError> {
        let sql = Sql::new(
            "SELECT tenant_id, role FROM role_grants WHERE user_id = $1 \
             UNION SELECT t.id, g.role FROM role_grants g JOIN tenants t ON t.parent_id = g.tenant_id WHERE g.user_id = $1",
        )
        .arg(user.id.as_str());
        let grants = self
            .fetch_all::<(String, String)>(sql)
            .await?
            .into_iter()
            .filter_map(|(t, r)| Some((TenantId::from_db(t), Role::parse(&r)?)));
        Ok(Scope::new(
            Actor::user(user.id.clone(), user.display_name.clone(), ip),
            grants,
        ))
    }
}
