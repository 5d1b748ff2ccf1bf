use crate::support::{provider_with, unique, user_with};
use drifta_core::{Language, Role};
use drifta_store::testing::backends;
use drifta_store::{NewUser, StoreError};

fn new_user(tenant: &drifta_core::TenantId, username: &str, email: &str) -> NewUser {
    NewUser {
        tenant_id: tenant.clone(),
        username: username.into(),
        email: email.into(),
        display_name: "Kari Nordmann".into(),
        phone: "+47 900 00 000".into(),
        language: Some(Language::Nb),
        password_hash: None,
    }
}

#[tokio::test]
async fn usernames_and_emails_are_unique_and_validated() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, scope) = provider_with(store, 1).await;
        let name = unique("kari");
        store
            .create_user(&scope, new_user(&munis[0], &name, &format!("{name}@x.no")))
            .await
            .unwrap();
        let err = store
            .create_user(
                &scope,
                new_user(&munis[0], &name.to_uppercase(), "other@x.no"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Taken { field: "username" }),
            "{}: {err}",
            db.label
        );
        let err = store
            .create_user(
                &scope,
                new_user(
                    &munis[0],
                    &unique("ola"),
                    &format!("{}@X.no", name.to_uppercase()),
                ),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Taken { field: "email" }),
            "{}: {err}",
            db.label
        );
        let err = store
            .create_user(&scope, new_user(&munis[0], "bad name", "a@x.no"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.field == "username"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn grants_are_checked_and_expand_from_the_provider() {
    for db in backends().await {
        let store = &db.store;
        let (provider, munis, scope) = provider_with(store, 3).await;
        let tech = user_with(
            store,
            &scope,
            &provider,
            &[(provider.clone(), Role::Technician)],
        )
        .await;
        let tech_scope = store.scope_for(&tech, "").await.unwrap();
        for m in &munis {
            assert!(
                tech_scope.can(m, drifta_core::Permission::Operate),
                "{}",
                db.label
            );
        }
        // A requester cannot be granted on the provider, an admin not on a municipality.
        let err = store
            .set_grants(&scope, &tech.id, &[(provider.clone(), Role::Requester)])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref f) if f.code == "role-municipality-only"));
        let err = store
            .set_grants(&scope, &tech.id, &[(munis[0].clone(), Role::ProviderAdmin)])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref f) if f.code == "role-provider-only"));

        // A technician may not manage users.
        let err = store
            .create_user(
                &tech_scope,
                new_user(&munis[0], &unique("x"), &format!("{}@x.no", unique("x"))),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Denied(_)), "{err}");
    }
}

#[tokio::test]
async fn language_and_disable_round_trip() {
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
        let own = store.scope_for(&user, "").await.unwrap();
        store
            .set_language(&own, &user.id, Some(Language::Da))
            .await
            .unwrap();
        assert_eq!(
            store.get_user(&own, &user.id).await.unwrap().language,
            Some(Language::Da)
        );
        // A requester cannot disable anyone, not even themselves.
        assert!(store.set_disabled(&own, &user.id, true).await.is_err());
        let disabled = store.set_disabled(&scope, &user.id, true).await.unwrap();
        assert!(disabled.disabled);
        let listed = store.list_users(&scope, Some(&munis[0])).await.unwrap();
        assert!(
            listed.iter().any(|u| u.id == user.id && u.disabled),
            "{}",
            db.label
        );
    }
}
