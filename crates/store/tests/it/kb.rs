//! Knowledge base: who reads which articles, who may write them, the audit trail, bad
//! input, and links from tickets.

use crate::support::{provider_with, user_with};
use drifta_core::ticket::{Level, TicketKind};
use drifta_core::{Role, Scope, TenantId};
use drifta_store::testing::backends;
use drifta_store::{
    ArticleFilter, ArticleUpdate, AuditFilter, NewArticle, NewTicket, Store, StoreError, User,
};

fn article(tenant: &TenantId, title: &str, published: bool) -> NewArticle {
    NewArticle {
        tenant_id: tenant.clone(),
        title: title.into(),
        body_markdown: format!("# {title}\n\nSlik gjør du det."),
        published,
    }
}

async fn scope_of(store: &Store, user: &User) -> Scope {
    store.scope_for(user, "").await.unwrap()
}

async fn titles(store: &Store, scope: &Scope, filter: ArticleFilter) -> Vec<String> {
    let mut t: Vec<String> = store
        .list_articles(
            scope,
            &ArticleFilter {
                limit: 100,
                ..filter
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.title)
        .collect();
    t.sort();
    t
}

fn all() -> ArticleFilter {
    ArticleFilter::default()
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn who_reads_which_articles() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (provider, munis, _) = provider_with(store, 2).await;
        let (other_provider, other_munis, admin) = provider_with(store, 1).await;
        let provider_tech = user_with(
            store,
            &admin,
            &provider,
            &[(provider.clone(), Role::Technician)],
        )
        .await;
        let provider_tech = scope_of(store, &provider_tech).await;
        let other_admin = user_with(
            store,
            &admin,
            &other_provider,
            &[(other_provider.clone(), Role::ProviderAdmin)],
        )
        .await;
        let other_admin = scope_of(store, &other_admin).await;

        let wifi = store
            .create_article(
                &provider_tech,
                article(&provider, "Slik kobler du til skolens Wi-Fi", true),
            )
            .await
            .unwrap();
        assert!(wifi.shared && wifi.published, "{label}");
        store
            .create_article(&provider_tech, article(&provider, "Utkast for alle", false))
            .await
            .unwrap();
        let a_info = store
            .create_article(&provider_tech, article(&munis[0], "Skriveren i A", true))
            .await
            .unwrap();
        assert!(!a_info.shared);
        let a_draft = store
            .create_article(&provider_tech, article(&munis[0], "Utkast i A", false))
            .await
            .unwrap();
        let b_info = store
            .create_article(&provider_tech, article(&munis[1], "Skjærmen i B", true))
            .await
            .unwrap();
        store
            .create_article(
                &other_admin,
                article(&other_provider, "Annen leverandør", true),
            )
            .await
            .unwrap();

        let teacher_a = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Requester)],
        )
        .await;
        let teacher_a = scope_of(store, &teacher_a).await;
        let nurse_b = user_with(
            store,
            &admin,
            &munis[1],
            &[(munis[1].clone(), Role::Requester)],
        )
        .await;
        let nurse_b = scope_of(store, &nurse_b).await;
        let elsewhere = user_with(
            store,
            &admin,
            &other_munis[0],
            &[(other_munis[0].clone(), Role::Requester)],
        )
        .await;
        let elsewhere = scope_of(store, &elsewhere).await;
        let tech_a = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech_a = scope_of(store, &tech_a).await;

        // Requesters: published articles of their municipality and of its provider only.
        assert_eq!(
            titles(store, &teacher_a, all()).await,
            sorted(&["Slik kobler du til skolens Wi-Fi", "Skriveren i A"]),
            "{label}"
        );
        assert_eq!(
            titles(store, &nurse_b, all()).await,
            sorted(&["Slik kobler du til skolens Wi-Fi", "Skjærmen i B"]),
            "{label}"
        );
        // Another provider's municipality sees none of this provider's articles.
        assert_eq!(
            titles(store, &elsewhere, all()).await,
            sorted(&["Annen leverandør"]),
            "{label}"
        );
        // A municipality's technician: its drafts too, the provider's published articles only.
        assert_eq!(
            titles(store, &tech_a, all()).await,
            sorted(&[
                "Slik kobler du til skolens Wi-Fi",
                "Skriveren i A",
                "Utkast i A"
            ]),
            "{label}"
        );
        // Provider staff: everything of the provider and its municipalities, nothing else.
        assert_eq!(
            titles(store, &provider_tech, all()).await,
            sorted(&[
                "Slik kobler du til skolens Wi-Fi",
                "Utkast for alle",
                "Skriveren i A",
                "Utkast i A",
                "Skjærmen i B"
            ]),
            "{label}"
        );
        assert_eq!(
            titles(store, &other_admin, all()).await,
            sorted(&["Annen leverandør"])
        );

        // One article at a time answers alike for "missing" and "not yours".
        for (scope, id) in [
            (&teacher_a, &a_draft.id),
            (&teacher_a, &b_info.id),
            (&elsewhere, &wifi.id),
            (&other_admin, &a_info.id),
        ] {
            assert!(
                matches!(
                    store.get_article(scope, id).await,
                    Err(StoreError::NotFound)
                ),
                "{label}"
            );
        }
        assert!(matches!(
            store.get_article(&teacher_a, "not-an-id").await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store.get_article(&nurse_b, &wifi.id).await.unwrap().title,
            wifi.title
        );

        // Publishing shows a draft to requesters; unpublishing hides it again.
        store.publish_article(&tech_a, &a_draft.id).await.unwrap();
        assert!(
            store
                .get_article(&teacher_a, &a_draft.id)
                .await
                .unwrap()
                .published
        );
        store.unpublish_article(&tech_a, &a_draft.id).await.unwrap();
        assert!(matches!(
            store.get_article(&teacher_a, &a_draft.id).await,
            Err(StoreError::NotFound)
        ));

        // Filters: words in any case (æ too), published only, one municipality's view.
        let find = |text: &str| ArticleFilter {
            text: text.into(),
            ..all()
        };
        assert_eq!(
            titles(store, &provider_tech, find("WI-FI")).await,
            sorted(&["Slik kobler du til skolens Wi-Fi"]),
            "{label}"
        );
        assert_eq!(
            titles(store, &provider_tech, find("SKJÆR")).await,
            sorted(&["Skjærmen i B"]),
            "{label}"
        );
        assert_eq!(
            titles(store, &provider_tech, find("gjør du")).await.len(),
            5
        );
        assert!(titles(store, &provider_tech, find("100%")).await.is_empty());
        assert_eq!(
            titles(
                store,
                &provider_tech,
                ArticleFilter {
                    published_only: true,
                    ..all()
                }
            )
            .await,
            sorted(&[
                "Slik kobler du til skolens Wi-Fi",
                "Skriveren i A",
                "Skjærmen i B"
            ])
        );
        assert_eq!(
            titles(
                store,
                &provider_tech,
                ArticleFilter {
                    tenant: Some(munis[1].clone()),
                    ..all()
                }
            )
            .await,
            sorted(&[
                "Slik kobler du til skolens Wi-Fi",
                "Utkast for alle",
                "Skjærmen i B"
            ]),
            "{label}"
        );
        // A tenant filter never widens: the teacher asking for B still sees only what A sees of it.
        assert_eq!(
            titles(
                store,
                &teacher_a,
                ArticleFilter {
                    tenant: Some(munis[1].clone()),
                    ..all()
                }
            )
            .await,
            sorted(&["Slik kobler du til skolens Wi-Fi"])
        );
    }
}

#[tokio::test]
async fn writing_needs_operate_on_the_articles_tenant() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (provider, munis, admin) = provider_with(store, 2).await;
        let tech_a = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech_a = scope_of(store, &tech_a).await;
        let coordinator = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Coordinator)],
        )
        .await;
        let coordinator = scope_of(store, &coordinator).await;
        let teacher = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Requester)],
        )
        .await;
        let teacher = scope_of(store, &teacher).await;
        let provider_admin = user_with(
            store,
            &admin,
            &provider,
            &[(provider.clone(), Role::ProviderAdmin)],
        )
        .await;
        let provider_admin = scope_of(store, &provider_admin).await;

        // Only provider-level staff write provider-wide articles.
        let denied = store
            .create_article(&tech_a, article(&provider, "Felles", true))
            .await
            .unwrap_err();
        assert!(matches!(denied, StoreError::Denied(_)), "{label}: {denied}");
        let shared = store
            .create_article(&provider_admin, article(&provider, "Felles", true))
            .await
            .unwrap();
        assert_eq!(shared.author_name, provider_admin.actor().name);
        // Coordinators and requesters read but do not write.
        for scope in [&coordinator, &teacher] {
            let err = store
                .create_article(scope, article(&munis[0], "Nei", false))
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Denied(_)), "{label}: {err}");
        }
        // A municipality's technician writes there, but not in the neighbour municipality.
        let own = store
            .create_article(&tech_a, article(&munis[0], "Lokal", false))
            .await
            .unwrap();
        assert!(matches!(
            store
                .create_article(&tech_a, article(&munis[1], "Nabo", true))
                .await,
            Err(StoreError::Denied(_))
        ));
        // Reading a shared article is not a licence to change it.
        let edit = ArticleUpdate {
            title: "Endret".into(),
            body_markdown: "Ny tekst".into(),
        };
        assert!(matches!(
            store
                .update_article(&tech_a, &shared.id, edit.clone())
                .await,
            Err(StoreError::Denied(_))
        ));
        assert!(matches!(
            store.unpublish_article(&tech_a, &shared.id).await,
            Err(StoreError::Denied(_))
        ));
        assert!(matches!(
            store.publish_article(&coordinator, &own.id).await,
            Err(StoreError::Denied(_))
        ));
        // A draft a requester cannot even read answers NotFound, not Denied.
        assert!(matches!(
            store.publish_article(&teacher, &own.id).await,
            Err(StoreError::NotFound)
        ));
        let changed = store
            .update_article(&tech_a, &own.id, edit.clone())
            .await
            .unwrap();
        assert_eq!(
            (changed.title.as_str(), changed.body_markdown.as_str()),
            ("Endret", "Ny tekst"),
            "{label}"
        );
        let untouched = store
            .get_article(&provider_admin, &shared.id)
            .await
            .unwrap();
        assert_eq!(untouched.title, "Felles");
    }
}

#[tokio::test]
async fn every_change_is_audited_and_bad_input_is_refused() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (_, munis, admin) = provider_with(store, 1).await;
        let tech = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech = scope_of(store, &tech).await;

        let err = store
            .create_article(&tech, article(&munis[0], "   ", true))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.field == "title" && f.code == "required"),
            "{label}: {err}"
        );
        let mut huge = article(&munis[0], "Stor", true);
        huge.body_markdown = "x".repeat(drifta_store::MAX_BODY_CHARS + 1);
        let err = store.create_article(&tech, huge).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.field == "body"),
            "{err}"
        );

        let a = store
            .create_article(&tech, article(&munis[0], "Passord", false))
            .await
            .unwrap();
        let err = store
            .update_article(
                &tech,
                &a.id,
                ArticleUpdate {
                    title: "".into(),
                    body_markdown: "x".into(),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref f) if f.field == "title"));
        store
            .update_article(
                &tech,
                &a.id,
                ArticleUpdate {
                    title: "Bytte passord".into(),
                    body_markdown: "Gå til **Min konto**.".into(),
                },
            )
            .await
            .unwrap();
        store.publish_article(&tech, &a.id).await.unwrap();
        // Publishing what is already published changes nothing and records nothing.
        store.publish_article(&tech, &a.id).await.unwrap();
        store.unpublish_article(&tech, &a.id).await.unwrap();
        let ticket = store
            .create_ticket(
                &tech,
                NewTicket {
                    tenant_id: munis[0].clone(),
                    kind: TicketKind::Incident,
                    title: "Glemt passord".into(),
                    description: String::new(),
                    requester_id: None,
                    location_id: None,
                    category: String::new(),
                    impact: Level::Low,
                    urgency: Level::Low,
                    channel: "phone".into(),
                },
            )
            .await
            .unwrap();
        store.link_article(&tech, &ticket.id, &a.id).await.unwrap();
        store.link_article(&tech, &ticket.id, &a.id).await.unwrap();

        let page = store
            .list_audit(
                &admin,
                &AuditFilter {
                    object_type: Some("kb_article".into()),
                    limit: 50,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap();
        let actions: Vec<&str> = page.entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["link", "unpublish", "publish", "update", "create"],
            "{label}"
        );
        let update = &page.entries[3];
        assert_eq!(update.object_id, a.id);
        assert_eq!(update.tenant_id.as_ref(), Some(&munis[0]));
        assert!(update.before.as_deref().unwrap().contains("Passord"));
        assert!(update.after.as_deref().unwrap().contains("Bytte passord"));
        assert!(
            page.entries
                .iter()
                .all(|e| e.actor_name == tech.actor().name)
        );
        assert!(store.verify_audit_chain().await.unwrap().is_ok());
    }
}

#[tokio::test]
async fn tickets_link_articles_of_their_municipality_and_provider() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (provider, munis, _) = provider_with(store, 2).await;
        // The second call's installation scope covers both providers.
        let (other_provider, _, admin) = provider_with(store, 1).await;
        let teacher = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Requester)],
        )
        .await;
        let teacher_scope = scope_of(store, &teacher).await;
        let tech = user_with(
            store,
            &admin,
            &provider,
            &[(provider.clone(), Role::Technician)],
        )
        .await;
        let tech = scope_of(store, &tech).await;

        let shared = store
            .create_article(&tech, article(&provider, "Felles Wi-Fi", true))
            .await
            .unwrap();
        let local_draft = store
            .create_article(&tech, article(&munis[0], "Lokalt utkast", false))
            .await
            .unwrap();
        let neighbour = store
            .create_article(&tech, article(&munis[1], "Nabokommunen", true))
            .await
            .unwrap();
        let foreign = store
            .create_article(&admin, article(&other_provider, "Annen leverandør", true))
            .await
            .unwrap();

        let ticket = store
            .create_ticket(
                &teacher_scope,
                NewTicket {
                    tenant_id: munis[0].clone(),
                    kind: TicketKind::Incident,
                    title: "Får ikke koblet til nettet".into(),
                    description: String::new(),
                    requester_id: Some(teacher.id.clone()),
                    location_id: None,
                    category: String::new(),
                    impact: Level::Low,
                    urgency: Level::Medium,
                    channel: "portal".into(),
                },
            )
            .await
            .unwrap();

        // The requester cannot link, even a published article.
        assert!(matches!(
            store
                .link_article(&teacher_scope, &ticket.id, &shared.id)
                .await,
            Err(StoreError::Denied(_))
        ));
        store
            .link_article(&tech, &ticket.id, &shared.id)
            .await
            .unwrap();
        store
            .link_article(&tech, &ticket.id, &local_draft.id)
            .await
            .unwrap();
        // Another municipality's article, another provider's, or no article: NotFound.
        for id in [neighbour.id.as_str(), foreign.id.as_str(), "nope"] {
            let err = store.link_article(&tech, &ticket.id, id).await.unwrap_err();
            assert!(matches!(err, StoreError::NotFound), "{label}: {id} {err}");
        }
        // Linking twice keeps one link.
        store
            .link_article(&tech, &ticket.id, &shared.id)
            .await
            .unwrap();

        let linked = |scope: Scope| {
            let ticket = ticket.clone();
            async move {
                store
                    .ticket_articles(&scope, &ticket)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|a| a.title)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            linked(tech.clone()).await,
            ["Felles Wi-Fi", "Lokalt utkast"],
            "{label}"
        );
        assert_eq!(
            linked(teacher_scope.clone()).await,
            ["Felles Wi-Fi"],
            "{label}: requesters see published links only"
        );
        store.publish_article(&tech, &local_draft.id).await.unwrap();
        assert_eq!(
            linked(teacher_scope.clone()).await,
            ["Felles Wi-Fi", "Lokalt utkast"]
        );
    }
}
