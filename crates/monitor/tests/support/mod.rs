//! Set-up shared by the monitor crate's test binaries.

use drifta_core::{Actor, Country, Scope, TenantId};
use drifta_store::{NewTenant, Store};

/// A provider with one municipality, "Fjordvik"; returns it and the installation scope.
pub async fn municipality(store: &Store) -> (TenantId, Scope) {
    let actor = Actor::system("test");
    let provider = store
        .create_provider(
            &actor,
            NewTenant {
                name: "Driftssenteret".into(),
                slug: format!("p{}", TenantId::generate().as_str()),
                country: Country::No,
                time_zone: None,
                language: None,
            },
        )
        .await
        .unwrap();
    let scope = store.installation_scope(actor.clone()).await.unwrap();
    let m = store
        .create_municipality(
            &scope,
            &provider.id,
            NewTenant {
                name: "Fjordvik".into(),
                slug: format!("m{}", TenantId::generate().as_str()),
                country: Country::No,
                time_zone: None,
                language: None,
            },
        )
        .await
        .unwrap();
    (m.id, store.installation_scope(actor).await.unwrap())
}
