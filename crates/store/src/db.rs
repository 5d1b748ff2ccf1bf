//! The two backends behind one [`Store`], chosen by the database URL.
//!
//! Enum dispatch rather than generics: each query is written once, and the `dispatch!`
//! macros expand it for both backends, so the compiled code grows by one copy per backend
//! instead of by one copy per generic instantiation of every caller.

use crate::error::StoreError;
use crate::sql::{Arg, Sql};
use drifta_core::clock::{Clock, SystemClock};
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Connections to PostgreSQL, or readers beside SQLite's single writer.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Db {
    /// SQLite allows one writer at a time: a one-connection write pool queues writers inside
    /// the process (no SQLITE_BUSY between our own requests), while readers run in parallel
    /// on WAL snapshots.
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        checkpointer: Arc<Checkpointer>,
        /// The database file, as SQLite resolved it from the URL.
        file: std::path::PathBuf,
    },
    Pg(PgPool),
}

#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    /// For text the store writes itself (outage tickets), in the municipality's language.
    pub(crate) texts: Arc<dyn drifta_core::lang::Texts>,
    /// Providers' relation graphs for impact analysis (`inventory::graph`), shared by clones.
    pub(crate) graphs: Arc<crate::inventory::GraphCache>,
    /// Seals and opens mailbox passwords (`drifta_core::seal`); none until configured.
    pub(crate) secret_key: Option<Arc<drifta_core::seal::SecretKey>>,
}

/// Rows that decode on both backends (tuples of String, i64, bool and their Options).
pub(crate) trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

/// Moves SQLite's WAL into the database file from its own connection, so no commit pays
/// for it. A passive checkpoint neither waits for nor blocks the writer or the readers.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    task: tokio::task::JoinHandle<()>,
    pool: SqlitePool,
}

impl Checkpointer {
    /// How often the WAL is moved. At 200 tickets/s about 1,000 pages collect per interval,
    /// the amount SQLite's automatic checkpoint would move at once.
    const INTERVAL: Duration = Duration::from_millis(250);

    fn start(pool: SqlitePool, wal: std::path::PathBuf) -> Checkpointer {
        let connection = pool.clone();
        let task = tokio::spawn(async move {
            let pool = connection;
            let mut tick = tokio::time::interval(Self::INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // A checkpoint is a round trip to SQLite's connection thread; an idle server
            // made four a second for nothing. Every commit writes the WAL and so changes its
            // modification time: an unchanged time means nothing new to move.
            let mut last_seen = None;
            loop {
                tick.tick().await;
                let modified = std::fs::metadata(&wal).and_then(|m| m.modified()).ok();
                if modified.is_some() && modified == last_seen {
                    continue;
                }
                // A failed checkpoint leaves the pages in the WAL for the next round;
                // readers still see them, so nothing is lost by trying again later.
                match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    Ok(_) => last_seen = modified,
                    Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed; retrying"),
                }
            }
        });
        Checkpointer { task, pool }
    }

    async fn stop(&self) {
        self.task.abort();
        self.pool.close().await;
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Hides a password in a URL before it goes into a message or a log.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_string(),
    }
}

impl Store {
    /// Opens (and for SQLite creates) the database at `url`. Does not migrate.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Store, StoreError> {
        let connect_err = |e: sqlx::Error| StoreError::Connect {
            url: redact_url(url),
            reason: e.to_string(),
        };
        let db = if url.starts_with("sqlite:") {
            let base = SqliteConnectOptions::from_str(url)
                .map_err(connect_err)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL in WAL mode survives a killed process; only a power cut can lose
                // the last commits, and it never corrupts the database.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // After a burst of writes (10,000 monitors created in 8 s left a 439 MiB WAL)
                // the file is cut back to 64 MiB once a checkpoint resets it.
                .pragma("journal_size_limit", "67108864");
            // The writer never checkpoints: SQLite's automatic checkpoint runs inside the
            // commit that crosses 1,000 WAL pages and fsyncs the database there, which made
            // every few hundredth ticket wait 10-30 ms (drifta-bench). A background
            // connection checkpoints instead, beside the writer.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(options.acquire_timeout.max(Duration::from_secs(30)))
                .connect_with(base.clone().pragma("wal_autocheckpoint", "0"))
                .await
                .map_err(connect_err)?;
            let file = base.get_filename().to_path_buf();
            let mut wal = file.as_os_str().to_owned();
            wal.push("-wal");
            let checkpointer = Arc::new(Checkpointer::start(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(base.clone())
                    .await
                    .map_err(connect_err)?,
                wal.into(),
            ));
            let read = SqlitePoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(base.read_only(true))
                .await
                .map_err(connect_err)?;
            Db::Sqlite {
                write,
                read,
                checkpointer,
                file,
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(connect_err)?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections.max(2))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            Db::Pg(pool)
        } else {
            return Err(StoreError::UnsupportedUrl {
                url: redact_url(url),
            });
        };
        Ok(Store {
            db,
            clock: Arc::new(SystemClock),
            texts: Arc::new(drifta_core::lang::KeysOnly),
            graphs: Arc::default(),
            secret_key: None,
        })
    }

    /// Sets the catalogue for text the store writes itself (see [`drifta_core::lang::Texts`]).
    pub fn with_texts(mut self, texts: Arc<dyn drifta_core::lang::Texts>) -> Self {
        self.texts = texts;
        self
    }

    /// Replaces the clock, so tests can control session expiry and rate-limit windows.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now().as_millisecond()
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Pg(_) => Backend::Postgres,
        }
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite {
                write,
                read,
                checkpointer,
                ..
            } => {
                checkpointer.stop().await;
                read.close().await;
                write.close().await;
            }
            Db::Pg(pool) => pool.close().await,
        }
    }

    /// Whether SQLite's single writer is free right now (always true on PostgreSQL).
    /// Background work checks it to stay out of the way of requests; it is a hint, not a
    /// lock, so a request arriving a moment later still waits for that work.
    /// The SQLite database file (`None` on PostgreSQL), for files kept beside it.
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        match &self.db {
            Db::Sqlite { file, .. } => Some(file),
            Db::Pg(_) => None,
        }
    }

    /// Moves the whole WAL into the database and cuts the file to nothing, on the
    /// checkpointer's own connection (the writer's prepared statements would lock it).
    /// Waits for readers; for the end of a bulk load, not for the request path.
    pub(crate) async fn truncate_wal(&self) -> Result<(), StoreError> {
        self.wal_checkpoint("PRAGMA wal_checkpoint(TRUNCATE)").await
    }

    /// Moves the whole WAL into the database so the next write starts the file from its
    /// beginning again; between the batches of a bulk load.
    ///
    /// SQLite restarts the WAL only when a write begins after a checkpoint that moved every
    /// frame. A bulk load begins its next batch at once, always before the background
    /// checkpoint is through, so without this the WAL grew without end: 2 GiB for 200,000
    /// tickets in drifta-bench. That also pushed the database's own pages out of the OS
    /// cache, and the first creates after the load read them from disk (300-500 ms).
    pub(crate) async fn restart_wal(&self) -> Result<(), StoreError> {
        self.wal_checkpoint("PRAGMA wal_checkpoint(RESTART)").await
    }

    async fn wal_checkpoint(&self, pragma: &'static str) -> Result<(), StoreError> {
        if let Db::Sqlite { checkpointer, .. } = &self.db {
            sqlx::query(pragma).execute(&checkpointer.pool).await?;
        }
        Ok(())
    }

    pub(crate) fn writer_idle(&self) -> bool {
        match &self.db {
            Db::Sqlite { write, .. } => write.num_idle() > 0,
            Db::Pg(_) => true,
        }
    }

    /// Opens a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a transaction that reads first cannot fail later on lock upgrade.
    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match &self.db {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Pg(pool) => Tx::Pg(pool.begin().await?),
        })
    }

    pub(crate) async fn fetch_all<T: AnyRow>(&self, sql: Sql) -> Result<Vec<T>, StoreError> {
        Ok(match &self.db {
            Db::Sqlite { read, .. } => {
                let sqlite = sql.positional();
                bind_all!(
                    sqlx::query_as::<_, T>(AssertSqlSafe(sqlite.text)),
                    sqlite.args
                )
                .fetch_all(read)
                .await?
            }
            Db::Pg(pool) => {
                bind_all!(sqlx::query_as::<_, T>(AssertSqlSafe(sql.text)), sql.args)
                    .fetch_all(pool)
                    .await?
            }
        })
    }

    pub(crate) async fn fetch_optional<T: AnyRow>(
        &self,
        sql: Sql,
    ) -> Result<Option<T>, StoreError> {
        Ok(match &self.db {
            Db::Sqlite { read, .. } => {
                let sqlite = sql.positional();
                bind_all!(
                    sqlx::query_as::<_, T>(AssertSqlSafe(sqlite.text)),
                    sqlite.args
                )
                .fetch_optional(read)
                .await?
            }
            Db::Pg(pool) => {
                bind_all!(sqlx::query_as::<_, T>(AssertSqlSafe(sql.text)), sql.args)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// One writing statement that returns at most one row (`UPDATE … RETURNING`), run on
    /// the writer as its own implicit transaction: one round trip instead of `BEGIN`,
    /// statement and `COMMIT`. On SQLite a statement outside a transaction takes the write
    /// lock before it reads (waiting as `BEGIN IMMEDIATE` would), and a `RETURNING`
    /// statement makes all its changes at its first step.
    pub(crate) async fn write_fetch_optional<T: AnyRow>(
        &self,
        sql: Sql,
    ) -> Result<Option<T>, StoreError> {
        Ok(match &self.db {
            Db::Sqlite { write, .. } => {
                let sqlite = sql.positional();
                bind_all!(
                    sqlx::query_as::<_, T>(AssertSqlSafe(sqlite.text)),
                    sqlite.args
                )
                .fetch_optional(write)
                .await?
            }
            Db::Pg(pool) => {
                bind_all!(sqlx::query_as::<_, T>(AssertSqlSafe(sql.text)), sql.args)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// One statement in its own transaction, for writes that need nothing else.
    pub(crate) async fn execute(&self, sql: Sql) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let n = tx.execute(sql).await?;
        tx.commit().await?;
        Ok(n)
    }
}

pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Pg(_) => Backend::Postgres,
        }
    }

    pub(crate) async fn execute(&mut self, sql: Sql) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                let sqlite = sql.positional();
                bind_all!(sqlx::query(AssertSqlSafe(sqlite.text)), sqlite.args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
            Tx::Pg(tx) => bind_all!(sqlx::query(AssertSqlSafe(sql.text)), sql.args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    /// Like [`Tx::execute`] but keeps the raw error, so callers can map constraint violations.
    pub(crate) async fn execute_raw(&mut self, sql: Sql) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                let sqlite = sql.positional();
                bind_all!(sqlx::query(AssertSqlSafe(sqlite.text)), sqlite.args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
            Tx::Pg(tx) => bind_all!(sqlx::query(AssertSqlSafe(sql.text)), sql.args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    /// Several statements in one string, without arguments (migrations).
    pub(crate) async fn execute_script(&mut self, script: &str) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => {
                sqlx::raw_sql(AssertSqlSafe(script.to_string()))
                    .execute(&mut **tx)
                    .await?;
            }
            Tx::Pg(tx) => {
                sqlx::raw_sql(AssertSqlSafe(script.to_string()))
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn fetch_all<T: AnyRow>(&mut self, sql: Sql) -> Result<Vec<T>, StoreError> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                let sqlite = sql.positional();
                bind_all!(
                    sqlx::query_as::<_, T>(AssertSqlSafe(sqlite.text)),
                    sqlite.args
                )
                .fetch_all(&mut **tx)
                .await?
            }
            Tx::Pg(tx) => {
                bind_all!(sqlx::query_as::<_, T>(AssertSqlSafe(sql.text)), sql.args)
                    .fetch_all(&mut **tx)
                    .await?
            }
        })
    }

    pub(crate) async fn fetch_optional<T: AnyRow>(
        &mut self,
        sql: Sql,
    ) -> Result<Option<T>, StoreError> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                let sqlite = sql.positional();
                bind_all!(
                    sqlx::query_as::<_, T>(AssertSqlSafe(sqlite.text)),
                    sqlite.args
                )
                .fetch_optional(&mut **tx)
                .await?
            }
            Tx::Pg(tx) => {
                bind_all!(sqlx::query_as::<_, T>(AssertSqlSafe(sql.text)), sql.args)
                    .fetch_optional(&mut **tx)
                    .await?
            }
        })
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Pg(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://drifta:s3cret@db.example:5432/drifta"),
            "postgres://drifta:***@db.example:5432/drifta"
        );
        assert_eq!(redact_url("sqlite://drifta.db"), "sqlite://drifta.db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
