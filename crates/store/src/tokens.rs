//! Personal API tokens: shown once, stored as a digest, revocable, scoped like their owner.

use crate::audit::Change;
use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use crate::users::User;
use drifta_core::validate::display_name;
use drifta_core::{Scope, TokenId, secret};
use serde::Serialize;

/// Tokens start with this, so a leaked one is recognisable (and secret scanners can match it).
pub const TOKEN_PREFIX: &str = "drifta_";
const LAST_USED_EVERY_MS: i64 = 60_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    /// The first characters of the secret, so the owner can tell tokens apart.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

type TokenRow = (String, String, String, i64, Option<i64>, Option<i64>);

fn token_from_row(r: TokenRow) -> ApiToken {
    ApiToken {
        id: TokenId::from_db(r.0),
        name: r.1,
        prefix: r.2,
        created_at: r.3,
        last_used_at: r.4,
        revoked_at: r.5,
    }
}

impl Store {
    /// Creates a token for the acting user and returns its secret, which is not kept.
    pub async fn create_token(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<(String, ApiToken), StoreError> {
        let owner = scope.user_id().ok_or(StoreError::NotFound)?;
        let user = self.get_user(scope, owner).await?;
        let plain = secret::generate(TOKEN_PREFIX);
        let now = self.now_ms();
        let token = ApiToken {
            id: TokenId::generate(),
            name: display_name("name", name)?,
            prefix: plain.chars().take(TOKEN_PREFIX.len() + 6).collect(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .arg(token.id.as_str())
                .arg(owner.as_str())
                .arg(token.name.as_str())
                .arg(secret::digest(&plain))
                .arg(token.prefix.as_str())
                .arg(now),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&user.tenant_id),
                action: "create",
                object_type: "api_token",
                object_id: token.id.as_str(),
                before: None,
                after: Some(serde_json::to_value(&token).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((plain, token))
    }

    /// The acting user's own tokens, newest first.
    pub async fn list_tokens(&self, scope: &Scope) -> Result<Vec<ApiToken>, StoreError> {
        let owner = scope.user_id().ok_or(StoreError::NotFound)?;
        Ok(self
            .fetch_all::<TokenRow>(
                Sql::new("SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC")
                    .arg(owner.as_str()),
            )
            .await?
            .into_iter()
            .map(token_from_row)
            .collect())
    }

    /// Revokes one of the acting user's tokens. Revoking twice is not an error.
    pub async fn revoke_token(&self, scope: &Scope, id: &TokenId) -> Result<(), StoreError> {
        let owner = scope.user_id().ok_or(StoreError::NotFound)?;
        let user = self.get_user(scope, owner).await?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let changed = tx
            .execute(
                Sql::new("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                    .arg(now)
                    .arg(id.as_str())
                    .arg(owner.as_str()),
            )
            .await?;
        if changed == 0 {
            let exists: Option<(String,)> = tx
                .fetch_optional(
                    Sql::new("SELECT id FROM api_tokens WHERE id = $1 AND user_id = $2")
                        .arg(id.as_str())
                        .arg(owner.as_str()),
                )
                .await?;
            tx.commit().await?;
            return if exists.is_some() {
                Ok(())
            } else {
                Err(StoreError::NotFound)
            };
        }
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&user.tenant_id),
                action: "revoke",
                object_type: "api_token",
                object_id: id.as_str(),
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// The enabled owner of a live token, or `None`.
    pub async fn user_for_token(&self, plain: &str) -> Result<Option<User>, StoreError> {
        if !plain.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = secret::digest(plain);
        let row: Option<(String, String, Option<i64>)> = self
            .fetch_optional(
                Sql::new("SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
                    .arg(hash),
            )
            .await?;
        let Some((id, user_id, last_used)) = row else {
            return Ok(None);
        };
        let Some(user) = self.user_by_id_unscoped(&user_id).await? else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        let now = self.now_ms();
        if last_used.is_none_or(|t| now - t > LAST_USED_EVERY_MS) {
            self.execute(
                Sql::new("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .arg(now)
                    .arg(id),
            )
            .await?;
        }
        Ok(Some(user))
    }
}
