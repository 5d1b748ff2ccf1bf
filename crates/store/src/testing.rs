//! Throwaway databases for tests: SQLite always, PostgreSQL when `DRIFTA_TEST_PG` names a
//! server (an admin URL such as `postgres://postgres@127.0.0.1:5433/postgres`).

use crate::db::{ConnectOptions, Store};

pub struct TestDb {
    pub store: Store,
    /// The URL the store was opened with, for tests that open a second connection.
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh, migrated SQLite database in its own temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = Store::connect(&url, &ConnectOptions::default())
        .await
        .expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    TestDb {
        store,
        url,
        label: "sqlite",
        _dir: Some(dir),
    }
}

/// A fresh, migrated PostgreSQL database, or `None` when `DRIFTA_TEST_PG` is not set.
pub async fn postgres() -> Option<TestDb> {
    let admin = std::env::var("DRIFTA_TEST_PG").ok()?;
    let name = format!("drifta_test_{}", uuid_suffix());
    {
        use sqlx::Connection;
        // CREATE DATABASE cannot run inside the transaction every store write opens.
        let mut admin_conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to DRIFTA_TEST_PG");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin_conn)
            .await
            .expect("create test database");
        let _ = admin_conn.close().await;
    }
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    let store = Store::connect(
        &url,
        &ConnectOptions {
            max_connections: 4,
            ..ConnectOptions::default()
        },
    )
    .await
    .expect("connect to test database");
    store.migrate().await.expect("migrate PostgreSQL");
    Some(TestDb {
        store,
        url,
        label: "postgres",
        _dir: None,
    })
}

/// Every backend available to this test run. Says once on stderr when PostgreSQL is skipped,
/// so a green run without it is never mistaken for a full one.
pub async fn backends() -> Vec<TestDb> {
    let mut out = vec![sqlite().await];
    match postgres().await {
        Some(pg) => out.push(pg),
        None => {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                eprintln!("note: DRIFTA_TEST_PG is not set; PostgreSQL tests skipped (bash .ci/run runs them)");
            });
        }
    }
    out
}

fn uuid_suffix() -> String {
    drifta_core::TenantId::generate().as_str().replace('-', "")
}
