use crate::schema::raw;
use crate::support::{provider_with, user_with};
use drifta_core::audit::ChainBreak;
use drifta_core::{Permission, Role};
use drifta_store::AuditFilter;
use drifta_store::testing::backends;

#[tokio::test]
async fn every_change_is_audited_with_before_and_after() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, scope) = provider_with(store, 1).await;
        let user = user_with(
            store,
            &scope,
            &munis[0],
            &[(munis[0].clone(), Role::Requester)],
        )
        .await;
        store.set_disabled(&scope, &user.id, true).await.unwrap();

        let page = store
            .list_audit(
                &scope,
                &AuditFilter {
                    limit: 50,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap();
        let disable = page
            .entries
            .iter()
            .find(|e| e.action == "disable" && e.object_id == user.id.as_str())
            .unwrap_or_else(|| panic!("{}: no disable entry", db.label));
        assert_eq!(disable.tenant_id.as_ref(), Some(&munis[0]));
        assert!(
            disable
                .before
                .as_deref()
                .unwrap()
                .contains("\"disabled\":false")
        );
        assert!(
            disable
                .after
                .as_deref()
                .unwrap()
                .contains("\"disabled\":true")
        );
        assert_eq!(disable.actor_name, "test");
        for kind in ["create", "grants"] {
            assert!(
                page.entries
                    .iter()
                    .any(|e| e.action == kind && e.object_type == "user"),
                "{}: {kind}",
                db.label
            );
        }
        assert_eq!(
            store.verify_audit_chain().await.unwrap(),
            Ok(page.entries.len() as i64)
        );
    }
}

#[tokio::test]
async fn the_log_refuses_updates_and_verify_finds_a_changed_row() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, scope) = provider_with(store, 2).await;
        for m in &munis {
            user_with(store, &scope, m, &[(m.clone(), Role::Coordinator)]).await;
        }
        let total = store.verify_audit_chain().await.unwrap().unwrap();
        assert!(total >= 7, "{total}");

        // The database itself refuses the change ...
        let refused = try_raw(
            &db.url,
            "UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 3",
        )
        .await;
        assert!(refused.unwrap_err().contains("append-only"), "{}", db.label);

        // ... and someone who removes the guard is still caught by the chain.
        let drop = if db.url.starts_with("sqlite:") {
            "DROP TRIGGER audit_log_no_update"
        } else {
            "DROP TRIGGER audit_log_no_change ON audit_log"
        };
        raw(&db.url, drop).await;
        raw(
            &db.url,
            "UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 3",
        )
        .await;
        assert_eq!(
            store.verify_audit_chain().await.unwrap(),
            Err(ChainBreak::Tampered { seq: 3 }),
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn paging_and_scope_of_the_audit_list() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, scope) = provider_with(store, 2).await;
        let auditor = user_with(
            store,
            &scope,
            &munis[0],
            &[(munis[0].clone(), Role::Auditor)],
        )
        .await;
        for _ in 0..3 {
            user_with(
                store,
                &scope,
                &munis[1],
                &[(munis[1].clone(), Role::Requester)],
            )
            .await;
        }
        let auditor_scope = store.scope_for(&auditor, "").await.unwrap();
        assert!(auditor_scope.can(&munis[0], Permission::ReadAudit));
        let mut seen = Vec::new();
        let mut filter = AuditFilter {
            limit: 2,
            ..AuditFilter::default()
        };
        loop {
            let page = store.list_audit(&auditor_scope, &filter).await.unwrap();
            seen.extend(page.entries);
            match page.next_before_seq {
                Some(s) => filter.before_seq = Some(s),
                None => break,
            }
        }
        assert!(!seen.is_empty());
        assert!(
            seen.iter().all(|e| e.tenant_id.as_ref() == Some(&munis[0])),
            "{}",
            db.label
        );
        assert!(seen.windows(2).all(|w| w[0].seq > w[1].seq));
    }
}

async fn try_raw(url: &str, sql: &'static str) -> Result<(), String> {
    use sqlx::Connection;
    let result = if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.map(|_| ())
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.map(|_| ())
    };
    result.map_err(|e| e.to_string())
}
