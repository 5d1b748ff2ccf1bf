use drifta_core::password::PasswordHasher;
use drifta_core::{Actor, Country, Role, Scope, TenantId};
use drifta_store::{NewTenant, NewUser, Store, User};

pub fn hasher() -> PasswordHasher {
    PasswordHasher::fast_insecure_for_tests()
}

pub fn unique(prefix: &str) -> String {
    let id = TenantId::generate().to_string().replace('-', "");
    format!("{prefix}{}", &id[id.len() - 10..])
}

/// A provider with `n` municipalities; returns (provider, municipalities, installation scope).
pub async fn provider_with(store: &Store, n: usize) -> (TenantId, Vec<TenantId>, Scope) {
    let actor = Actor::system("test");
    let provider = store
        .create_provider(
            &actor,
            NewTenant {
                name: "Test Provider".into(),
                slug: unique("p"),
                country: Country::No,
                time_zone: None,
                language: None,
            },
        )
        .await
        .unwrap();
    let scope = store.installation_scope(actor.clone()).await.unwrap();
    let mut munis = Vec::new();
    for i in 0..n {
        let m = store
            .create_municipality(
                &scope,
                &provider.id,
                NewTenant {
                    name: format!("Kommune {i}"),
                    slug: unique("m"),
                    country: if i % 2 == 0 { Country::No } else { Country::Dk },
                    time_zone: None,
                    language: None,
                },
            )
            .await
            .unwrap();
        munis.push(m.id);
    }
    let scope = store.installation_scope(actor).await.unwrap();
    (provider.id, munis, scope)
}

pub async fn user_with(
    store: &Store,
    scope: &Scope,
    home: &TenantId,
    grants: &[(TenantId, Role)],
) -> User {
    let name = unique("u");
    let user = store
        .create_user(
            scope,
            NewUser {
                tenant_id: home.clone(),
                username: name.clone(),
                email: format!("{name}@example.no"),
                display_name: format!("User {name}"),
                phone: String::new(),
                language: None,
                password_hash: Some(hasher().hash("a long test password").unwrap()),
            },
        )
        .await
        .unwrap();
    store.set_grants(scope, &user.id, grants).await.unwrap();
    user
}
