//! Random actors through HTTP: the API and the pages never show a tenant outside the scope.

use crate::support::{api_token, client, servers, sign_in};
use drifta_core::Actor;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

const USERS: [&str; 8] = [
    "tekniker.nord",
    "tekniker.dk",
    "koordinator.fjordvik",
    "laerer.fjordvik",
    "koordinator.egeholm",
    "dpo.egeholm",
    "sygeplejerske.vindaa",
    "driftssjef.skjaervag",
];

#[tokio::test(flavor = "multi_thread")]
async fn random_actors_see_only_their_scope_through_api_and_pages() {
    for server in servers().await {
        let installation = server
            .store
            .installation_scope(Actor::system("t"))
            .await
            .unwrap();
        let all = server.store.list_tenants(&installation).await.unwrap();
        let mut sessions = Vec::new();
        for username in USERS {
            let (user, _) = server.store.find_login(username).await.unwrap().unwrap();
            let scope = server.store.scope_for(&user, "").await.unwrap();
            let token = api_token(&server, username).await;
            let (web, _) = sign_in(&server, username).await;
            sessions.push((scope, token, web));
        }
        let cases: Vec<(usize, usize)> = {
            let mut runner = TestRunner::new(Config {
                cases: 24,
                ..Config::default()
            });
            let strategy = (0..USERS.len(), 0..all.len());
            (0..24)
                .map(|_| strategy.new_tree(&mut runner).unwrap().current())
                .collect()
        };
        let c = client();
        for (who, which) in cases {
            let (scope, token, web) = &sessions[who];
            let tenant = &all[which];
            let visible = scope.sees(&tenant.id);

            let res = c
                .get(server.url(&format!("/api/v1/tenants/{}", tenant.id)))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status() == 200,
                visible,
                "{}: {} → {}",
                server.label,
                USERS[who],
                tenant.name
            );
            if !visible {
                assert_eq!(res.status(), 404);
            }
            let res = c
                .get(server.url(&format!("/api/v1/tenants/{}/locations", tenant.id)))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status() == 200, visible);

            let page = web
                .get(server.url(&format!("/tenants/{}", tenant.id)))
                .send()
                .await
                .unwrap();
            assert_eq!(
                page.status() == 200,
                visible,
                "page {} → {}",
                USERS[who],
                tenant.name
            );

            let list: Value = c
                .get(server.url("/api/v1/tenants"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for item in list["items"].as_array().unwrap() {
                let id = drifta_core::TenantId::parse(item["id"].as_str().unwrap()).unwrap();
                assert!(scope.sees(&id), "{} listed {}", USERS[who], item["name"]);
            }
            let home = web
                .get(server.url("/"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            for t in &all {
                if !scope.sees(&t.id) && t.kind == drifta_core::TenantKind::Municipality {
                    assert!(
                        !home.contains(&t.name),
                        "{} saw {} on the dashboard",
                        USERS[who],
                        t.name
                    );
                }
            }
            let audit: Value = c
                .get(server.url("/api/v1/audit?limit=500"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for e in audit["items"].as_array().unwrap() {
                if let Some(t) = e["tenant_id"].as_str() {
                    let id = drifta_core::TenantId::parse(t).unwrap();
                    assert!(
                        scope.can(&id, drifta_core::Permission::ReadAudit),
                        "{} read audit of {t}",
                        USERS[who]
                    );
                }
            }
        }
    }
}
