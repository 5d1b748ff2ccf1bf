use drifta_core::scope::Denied;
use drifta_core::validate::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the database {url}: {reason}. Check `database_url` and that the database server is running and reachable."
    )]
    Connect { url: String, reason: String },
    #[error(
        "unsupported database URL {url}: use sqlite://PATH (for example sqlite://drifta.db) or postgres://USER:PASSWORD@HOST/DATABASE"
    )]
    UnsupportedUrl { url: String },
    #[error(
        "the database has schema version {database}, but this drifta knows only up to {binary}: it was used by a newer drifta. Run that version, or restore a backup taken before the upgrade."
    )]
    SchemaTooNew { database: i64, binary: i64 },
    #[error(
        "migration {version} ({name}) was changed after it was applied to this database; restore the original migration file"
    )]
    MigrationChanged { version: i64, name: String },
    #[error(
        "the database is not migrated yet (schema version {database}, needs {binary}); run `drifta migrate`"
    )]
    NotMigrated { database: i64, binary: i64 },
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{field} is already in use")]
    Taken { field: &'static str },
    #[error("stored data is inconsistent: {0}")]
    Inconsistent(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Turns a unique-constraint violation into [`StoreError::Taken`] naming the first of
    /// `fields` that the database's message mentions (SQLite names the column, PostgreSQL the
    /// constraint, and both contain the column name).
    pub(crate) fn taken_or(err: sqlx::Error, fields: &[&'static str]) -> StoreError {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
            if let Some(field) = fields.iter().find(|f| text.contains(*f)) {
                return StoreError::Taken { field };
            }
        }
        StoreError::Database(err)
    }
}
