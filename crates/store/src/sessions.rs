//! Browser sessions, kept in the database so every node can serve every request.

use crate::audit::Change;
use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use crate::users::{User, user_from_row};
use drifta_core::{Actor, TenantId, secret};
use jiff::SignedDuration;

#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 of the cookie value; the value itself is never stored.
    pub token_hash: String,
    pub user_id: String,
    /// The synchroniser token every form of this session must echo.
    pub csrf_token: String,
    /// The municipality picked in the switcher; `None` shows all of the user's municipalities.
    pub active_tenant: Option<TenantId>,
    pub expires_at: i64,
    pub last_seen_at: i64,
    pub created_at: i64,
}

/// A session ends after this long regardless of activity.
const ABSOLUTE_LIFETIME: SignedDuration = SignedDuration::from_hours(24 * 14);
/// Sliding expiry is written back at most this often, so reads stay reads.
const TOUCH_EVERY_MS: i64 = 60_000;

impl Store {
    /// Starts a session and returns the cookie value (shown to the browser once).
    pub async fn create_session(
        &self,
        user: &User,
        ip: &str,
        idle: SignedDuration,
    ) -> Result<(String, Session), StoreError> {
        let cookie = secret::generate("");
        let now = self.now_ms();
        let session = Session {
            token_hash: secret::digest(&cookie),
            user_id: user.id.to_string(),
            csrf_token: secret::generate(""),
            active_tenant: None,
            expires_at: now + idle.as_millis() as i64,
            last_seen_at: now,
            created_at: now,
        };
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO sessions (token_hash, user_id, csrf_token, active_tenant, created_at, last_seen_at, expires_at, ip) VALUES ($1, $2, $3, NULL, $4, $4, $5, $6)")
                .arg(session.token_hash.as_str())
                .arg(session.user_id.as_str())
                .arg(session.csrf_token.as_str())
                .arg(now)
                .arg(session.expires_at)
                .arg(ip),
        )
        .await?;
        // Expired sessions are swept whenever someone signs in: no background job needed.
        tx.execute(Sql::new("DELETE FROM sessions WHERE expires_at < $1").arg(now))
            .await?;
        tx.commit().await?;
        Ok((cookie, session))
    }

    /// The live session and its (enabled) user for a cookie value, extending the idle
    /// expiry. `None` for unknown, expired or disabled.
    pub async fn session_by_cookie(
        &self,
        cookie: &str,
        idle: SignedDuration,
    ) -> Result<Option<(Session, User)>, StoreError> {
        let now = self.now_ms();
        // One round trip for the session and its user: this runs on every page request.
        type Row = (
            String,
            String,
            Option<String>,
            i64,
            i64,
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            bool,
        );
        let row: Option<Row> = self
            .fetch_optional(
                Sql::new(
                    "SELECT s.token_hash, s.csrf_token, s.active_tenant, s.expires_at, s.last_seen_at, s.created_at, \
                     u.id, u.tenant_id, u.username, u.email, u.display_name, u.phone, u.language, u.disabled \
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
                )
                .arg(secret::digest(cookie)),
            )
            .await?;
        let Some(r) = row else { return Ok(None) };
        let user = user_from_row((r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13));
        let mut session = Session {
            token_hash: r.0,
            user_id: user.id.to_string(),
            csrf_token: r.1,
            active_tenant: r.2.map(TenantId::from_db),
            expires_at: r.3,
            last_seen_at: r.4,
            created_at: r.5,
        };
        if session.expires_at <= now
            || session.created_at + ABSOLUTE_LIFETIME.as_millis() as i64 <= now
        {
            return Ok(None);
        }
        if user.disabled {
            return Ok(None);
        }
        if now - session.last_seen_at > TOUCH_EVERY_MS {
            session.last_seen_at = now;
            session.expires_at = now + idle.as_millis() as i64;
            self.execute(
                Sql::new(
                    "UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3",
                )
                .arg(now)
                .arg(session.expires_at)
                .arg(session.token_hash.as_str()),
            )
            .await?;
        }
        Ok(Some((session, user)))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.execute(Sql::new("DELETE FROM sessions WHERE token_hash = $1").arg(token_hash))
            .await?;
        Ok(())
    }

    /// Remembers the municipality picked in the switcher. The caller checks it is in scope;
    /// a stale value is harmless because every read is scoped anyway.
    pub async fn set_active_tenant(
        &self,
        token_hash: &str,
        tenant: Option<&TenantId>,
    ) -> Result<(), StoreError> {
        self.execute(
            Sql::new("UPDATE sessions SET active_tenant = $1 WHERE token_hash = $2")
                .arg(tenant.map(|t| t.to_string()))
                .arg(token_hash),
        )
        .await?;
        Ok(())
    }

    /// Records a sign-in attempt in the audit log. `user` is `None` when the name was unknown.
    pub async fn record_sign_in(
        &self,
        user: Option<&User>,
        login: &str,
        ip: &str,
        outcome: &str,
    ) -> Result<(), StoreError> {
        let actor = match user {
            Some(u) => Actor::user(u.id.clone(), u.display_name.clone(), ip),
            None => Actor {
                user_id: None,
                name: login.chars().take(80).collect(),
                ip: ip.to_string(),
            },
        };
        self.audit_event(
            &actor,
            Change {
                tenant: user.map(|u| &u.tenant_id),
                action: outcome,
                object_type: "session",
                object_id: user.map(|u| u.id.as_str()).unwrap_or(""),
                before: None,
                after: Some(
                    serde_json::json!({ "login": login.chars().take(80).collect::<String>() }),
                ),
            },
        )
        .await
    }
}
