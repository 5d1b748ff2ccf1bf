//! Versioned schema migrations, embedded in the binary.
//!
//! Each migration is one portable SQL file that runs on both backends, plus an optional
//! file per backend for what truly differs (triggers, full-text indexes). Applied versions
//! are recorded with a checksum; a database that knows a version this binary does not is
//! refused, because running old code on a newer schema can corrupt data silently.

use crate::db::{Backend, Store};
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::secret::digest as checksum;

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub common: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Migration {
    fn script(&self, backend: Backend) -> String {
        let specific = match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        };
        format!("{}\n{}", self.common, specific)
    }
}

/// One entry per version: the portable file and the two per-backend files, named
/// `NNNN_name.sql`, `NNNN_name.sqlite.sql` and `NNNN_name.postgres.sql`.
macro_rules! migration {
    ($version:literal, $number:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            common: include_str!(concat!("../migrations/", $number, "_", $name, ".sql")),
            sqlite: include_str!(concat!(
                "../migrations/",
                $number,
                "_",
                $name,
                ".sqlite.sql"
            )),
            postgres: include_str!(concat!(
                "../migrations/",
                $number,
                "_",
                $name,
                ".postgres.sql"
            )),
        }
    };
}

pub static MIGRATIONS: &[Migration] = &[
    migration!(1, "0001", "foundation"),
    migration!(2, "0002", "service_desk"),
    migration!(3, "0003", "search"),
    migration!(4, "0004", "knowledge_base"),
    migration!(5, "0005", "desk_settings"),
    migration!(6, "0006", "bench_indexes"),
    migration!(7, "0007", "tags_attachments"),
    migration!(8, "0008", "teams_watchers_filters"),
    migration!(9, "0009", "heartbeats"),
    migration!(10, "0010", "search_queue"),
    migration!(11, "0011", "inventory"),
    migration!(12, "0012", "article_search"),
    migration!(13, "0013", "inventory_indexes"),
    migration!(14, "0014", "status_pages"),
    migration!(15, "0015", "checks"),
    migration!(16, "0016", "alerts"),
    migration!(17, "0017", "inventory_versions"),
    migration!(18, "0018", "mail"),
    migration!(19, "0019", "sla_notices"),
    migration!(20, "0020", "ticket_numbers"),
    migration!(21, "0021", "natural_keys_nocase"),
];

/// Where a database stands against this binary's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The newest version applied to the database.
    pub database: i64,
    /// The newest version this binary knows.
    pub binary: i64,
    /// Versions this binary knows that the database lacks (a branch merged between releases
    /// can add one below the newest applied version).
    pub missing: Vec<i64>,
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        self.database == self.binary && self.missing.is_empty()
    }
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

impl Store {
    /// Reads where the schema stands; read-only, so health checks and `check-config` can
    /// call it freely. A database without our table counts as empty.
    pub async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        let applied: Vec<(i64,)> = self
            .fetch_all(Sql::new(
                "SELECT version FROM schema_migrations ORDER BY version",
            ))
            .await
            .unwrap_or_default();
        let applied: Vec<i64> = applied.into_iter().map(|(v,)| v).collect();
        Ok(SchemaStatus {
            database: applied.last().copied().unwrap_or(0),
            binary: latest(),
            missing: MIGRATIONS
                .iter()
                .map(|m| m.version)
                .filter(|v| !applied.contains(v))
                .collect(),
        })
    }

    /// Fails with [`StoreError::NotMigrated`] or [`StoreError::SchemaTooNew`] unless the
    /// schema is exactly what this binary expects. For commands that must not migrate.
    pub async fn require_current_schema(&self) -> Result<(), StoreError> {
        let status = self.schema_status().await?;
        if status.database > status.binary {
            return Err(StoreError::SchemaTooNew {
                database: status.database,
                binary: status.binary,
            });
        }
        if !status.is_current() {
            return Err(StoreError::NotMigrated {
                database: status.database,
                binary: status.binary,
            });
        }
        Ok(())
    }

    /// Applies every pending migration in one transaction, so a failure leaves the schema
    /// as it was. On PostgreSQL an advisory lock makes nodes that start together wait for
    /// each other instead of racing; SQLite's `BEGIN IMMEDIATE` already does that.
    /// Returns the versions applied.
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.begin().await?;
        if tx.backend() == Backend::Postgres {
            tx.execute(Sql::new("SELECT pg_advisory_xact_lock(7204551)"))
                .await?;
        }
        tx.execute(Sql::new(CREATE_TABLE)).await?;
        let applied: Vec<(i64, String, String)> = tx
            .fetch_all(Sql::new(
                "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
            ))
            .await?;
        if let Some((newest, _, _)) = applied.last()
            && *newest > latest()
        {
            return Err(StoreError::SchemaTooNew {
                database: *newest,
                binary: latest(),
            });
        }
        let mut applied_now = Vec::new();
        for migration in MIGRATIONS {
            let script = migration.script(self.backend());
            let sum = checksum(&script);
            if let Some((_, _, stored)) = applied.iter().find(|(v, _, _)| *v == migration.version) {
                if *stored != sum {
                    return Err(StoreError::MigrationChanged {
                        version: migration.version,
                        name: migration.name.to_string(),
                    });
                }
                continue;
            }
            tx.execute_script(&script).await?;
            tx.execute(
                Sql::new(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
                )
                .arg(migration.version)
                .arg(migration.name)
                .arg(sum)
                .arg(self.now_ms()),
            )
            .await?;
            applied_now.push(migration.version);
        }
        tx.commit().await?;
        for v in &applied_now {
            tracing::info!(version = v, "applied migration");
        }
        Ok(applied_now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_files_and_list_agree() {
        // Every file in migrations/ must be listed, so a forgotten include cannot ship.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut expected: Vec<String> = MIGRATIONS
            .iter()
            .flat_map(|m| {
                let stem = format!("{:04}_{}", m.version, m.name);
                [
                    format!("{stem}.sql"),
                    format!("{stem}.sqlite.sql"),
                    format!("{stem}.postgres.sql"),
                ]
            })
            .collect();
        expected.sort();
        assert_eq!(files, expected);
    }

    #[test]
    fn versions_increase() {
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].version < pair[1].version);
        }
    }

    #[test]
    fn checksum_notices_one_changed_byte() {
        assert_ne!(
            checksum("CREATE TABLE a (x INT)"),
            checksum("CREATE TABLE a (y INT)")
        );
        assert_eq!(checksum("x"), checksum("x"));
    }
}
