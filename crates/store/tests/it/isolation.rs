//! Random actors against random data: nothing outside an actor's scope ever comes back.

use crate::support::{provider_with, user_with};
use drifta_core::tenant::LocationKind;
use drifta_core::{Permission, Role, TenantId};
use drifta_store::testing::{TestDb, backends};
use drifta_store::{ArticleFilter, AuditFilter, NewArticle, NewLocation, Store, StoreError};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// A grant: municipality index (`None` for the provider) and role index.
type GrantSpec = (Option<usize>, usize);

#[derive(Debug, Clone)]
struct World {
    municipalities: usize,
    /// (home municipality index, grants as (municipality index or None for provider, role index))
    users: Vec<(usize, Vec<GrantSpec>)>,
    locations: Vec<usize>,
}

fn world() -> impl Strategy<Value = World> {
    (2usize..5).prop_flat_map(|m| {
        (
            Just(m),
            proptest::collection::vec(
                (
                    0..m,
                    proptest::collection::vec((proptest::option::of(0..m), 0usize..5), 0..3),
                ),
                1..5,
            ),
            proptest::collection::vec(0..m, 0..6),
        )
            .prop_map(|(municipalities, users, locations)| World {
                municipalities,
                users,
                locations,
            })
    })
}

async fn check_world(store: &Store, w: &World) -> Result<(), TestCaseError> {
    let (provider, munis, admin) = provider_with(store, w.municipalities).await;
    for &l in &w.locations {
        store
            .create_location(
                &admin,
                &munis[l],
                NewLocation {
                    name: format!("Sted {l}"),
                    kind: LocationKind::School,
                    address: String::new(),
                },
            )
            .await
            .unwrap();
    }
    // A knowledge-base article for the provider and each municipality, every other one a draft.
    let mut articles = Vec::new();
    for (i, t) in std::iter::once(&provider).chain(munis.iter()).enumerate() {
        let new = NewArticle {
            tenant_id: t.clone(),
            title: format!("Artikkel {i}"),
            body_markdown: String::new(),
            published: i % 2 == 0,
        };
        articles.push(store.create_article(&admin, new).await.unwrap());
    }
    let mut actors = Vec::new();
    for (home, grants) in &w.users {
        let grants: Vec<(TenantId, Role)> = grants
            .iter()
            .filter_map(|(t, r)| {
                let role = Role::ALL[*r];
                match t {
                    None if role.may_be_granted_on_provider() => Some((provider.clone(), role)),
                    None => None,
                    Some(i) if role == Role::ProviderAdmin => {
                        None.or(Some((munis[*i].clone(), Role::Technician)))
                    }
                    Some(i) => Some((munis[*i].clone(), role)),
                }
            })
            .collect();
        let user = user_with(store, &admin, &munis[*home], &grants).await;
        actors.push(store.scope_for(&user, "").await.unwrap());
    }
    // Another provider's world exists beside this one in the same database.
    for scope in &actors {
        let visible = store.list_tenants(scope).await.unwrap();
        for t in &visible {
            prop_assert!(scope.sees(&t.id), "tenant {} leaked", t.name);
        }
        prop_assert_eq!(visible.len(), scope.tenant_ids().count());
        for loc in store.list_locations(scope, None).await.unwrap() {
            prop_assert!(scope.sees(&loc.tenant_id));
        }
        for m in &munis {
            let got = store.get_tenant(scope, m).await;
            prop_assert_eq!(got.is_ok(), scope.sees(m));
            if !scope.sees(m) {
                prop_assert!(matches!(got, Err(StoreError::NotFound)));
                let locs = store.list_locations(scope, Some(m)).await.unwrap();
                prop_assert!(locs.is_empty());
            }
        }
        // Articles: drafts only where the actor reads everything; published ones of the
        // tenants they see and of the provider above their municipalities; no other world's.
        let readable = |a: &drifta_store::Article| {
            scope.can(&a.tenant_id, Permission::ReadAll)
                || (a.published
                    && (scope.sees(&a.tenant_id)
                        || (a.tenant_id == provider && munis.iter().any(|m| scope.sees(m)))))
        };
        let mut expected: Vec<&str> = articles
            .iter()
            .filter(|a| readable(a))
            .map(|a| a.id.as_str())
            .collect();
        let listed = store
            .list_articles(
                scope,
                &ArticleFilter {
                    limit: 500,
                    ..ArticleFilter::default()
                },
            )
            .await
            .unwrap();
        let mut got: Vec<&str> = listed.iter().map(|a| a.id.as_str()).collect();
        expected.sort();
        got.sort();
        prop_assert_eq!(got, expected);
        for a in &articles {
            let one = store.get_article(scope, &a.id).await;
            prop_assert_eq!(one.is_ok(), readable(a));
        }
        for u in store.list_users(scope, None).await.unwrap() {
            prop_assert!(scope.can(&u.tenant_id, Permission::ManageUsers));
        }
        let page = store
            .list_audit(
                scope,
                &AuditFilter {
                    limit: 500,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap();
        for e in page.entries {
            match &e.tenant_id {
                Some(t) => prop_assert!(scope.can(t, Permission::ReadAudit)),
                None => prop_assert!(
                    scope.can(&provider, Permission::ReadAudit)
                        || scope
                            .tenant_ids()
                            .any(|t| scope.can(t, Permission::ReadAudit))
                ),
            }
        }
    }
    Ok(())
}

#[test]
fn random_actors_never_see_outside_their_scope() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dbs: Vec<TestDb> = rt.block_on(backends());
    for db in &dbs {
        let mut runner = TestRunner::new(Config {
            cases: 12,
            ..Config::default()
        });
        let result = runner.run(&world(), |w| rt.block_on(check_world(&db.store, &w)));
        if let Err(e) = result {
            panic!("{}: {e}", db.label);
        }
    }
}
