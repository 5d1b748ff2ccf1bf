//! Counting failed sign-ins per account and per address, in the database so that the
//! limit holds across nodes and restarts.

use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use jiff::SignedDuration;

impl Store {
    /// Failures recorded for `key` within `window` before now.
    pub async fn recent_login_failures(
        &self,
        key: &str,
        window: SignedDuration,
    ) -> Result<i64, StoreError> {
        let since = self.now_ms() - window.as_millis() as i64;
        let (n,): (i64,) = self
            .fetch_optional(
                Sql::new("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at > $2")
                    .arg(key)
                    .arg(since),
            )
            .await?
            .unwrap_or((0,));
        Ok(n)
    }

    /// Records one failure under each key and forgets failures older than `window`.
    pub async fn record_login_failure(
        &self,
        keys: &[String],
        window: SignedDuration,
    ) -> Result<(), StoreError> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        for key in keys {
            tx.execute(
                Sql::new("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                    .arg(key.as_str())
                    .arg(now),
            )
            .await?;
        }
        tx.execute(
            Sql::new("DELETE FROM login_failures WHERE at < $1")
                .arg(now - window.as_millis() as i64),
        )
        .await?;
        tx.commit().await
    }

    /// Clears an account's failures after a successful sign-in.
    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        self.execute(Sql::new("DELETE FROM login_failures WHERE key = $1").arg(key))
            .await?;
        Ok(())
    }
}
