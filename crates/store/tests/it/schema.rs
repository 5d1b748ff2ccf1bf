use drifta_store::testing::{backends, sqlite};
use drifta_store::{ConnectOptions, Store, StoreError};

#[tokio::test]
async fn migrate_is_idempotent_and_current() {
    for db in backends().await {
        assert!(db.store.migrate().await.unwrap().is_empty(), "{}", db.label);
        assert!(db.store.schema_status().await.unwrap().is_current());
        db.store.require_current_schema().await.unwrap();
    }
}

#[tokio::test]
async fn refuses_a_database_from_a_newer_drifta() {
    for db in backends().await {
        let reopened = Store::connect(&db.url, &ConnectOptions::default())
            .await
            .unwrap();
        sqlx_insert_future_version(&db.url).await;
        let err = reopened.migrate().await.unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { database: 9999, .. }),
            "{}: {err}",
            db.label
        );
        assert!(err.to_string().contains("newer drifta"), "{err}");
        assert!(matches!(
            reopened.require_current_schema().await,
            Err(StoreError::SchemaTooNew { .. })
        ));
    }
}

#[tokio::test]
async fn notices_an_edited_migration() {
    let db = sqlite().await;
    raw(
        &db.url,
        "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
    )
    .await;
    let err = db.store.migrate().await.unwrap_err();
    assert!(
        matches!(err, StoreError::MigrationChanged { version: 1, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn unreachable_or_unsupported_databases_give_clear_errors() {
    let opts = ConnectOptions {
        acquire_timeout: std::time::Duration::from_secs(2),
        ..ConnectOptions::default()
    };
    let err = Store::connect("postgres://drifta:secret@127.0.0.1:1/drifta", &opts)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Connect { .. }), "{text}");
    assert!(text.contains("cannot open the database"), "{text}");
    assert!(!text.contains("secret"), "password leaked: {text}");

    let err = Store::connect("mysql://localhost/x", &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl { .. }), "{err}");

    let err = Store::connect("sqlite:///nonexistent-dir/for/sure/drifta.db", &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Connect { .. }), "{err}");
}

/// Plays a newer binary that has applied migration 9999.
async fn sqlx_insert_future_version(url: &str) {
    raw(
        url,
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'future', 'x', 0)",
    )
    .await;
}

pub async fn raw(url: &str, sql: &'static str) {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    }
}

#[tokio::test]
async fn a_missing_version_below_the_newest_is_noticed_and_applied() {
    let db = sqlite().await;
    // Plays a database migrated by a build that lacked migration 4 (merged later).
    raw(&db.url, "DROP TABLE ticket_articles; DROP TABLE kb_articles; DELETE FROM schema_migrations WHERE version = 4").await;
    let status = db.store.schema_status().await.unwrap();
    assert_eq!(status.missing, vec![4]);
    assert!(matches!(
        db.store.require_current_schema().await,
        Err(StoreError::NotMigrated { .. })
    ));
    assert_eq!(db.store.migrate().await.unwrap(), vec![4]);
    db.store.require_current_schema().await.unwrap();
}
