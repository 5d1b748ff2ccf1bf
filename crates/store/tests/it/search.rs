use crate::support::{provider_with, user_with};
use drifta_core::Role;
use drifta_core::ticket::{Level, TicketKind};
use drifta_store::NewTicket;
use drifta_store::testing::backends;

fn new(tenant: &drifta_core::TenantId, title: &str, description: &str) -> NewTicket {
    NewTicket {
        tenant_id: tenant.clone(),
        kind: TicketKind::Incident,
        title: title.into(),
        description: description.into(),
        requester_id: None,
        location_id: None,
        category: String::new(),
        impact: Level::Medium,
        urgency: Level::Medium,
        channel: "phone".into(),
    }
}

#[tokio::test]
async fn finds_partial_words_with_nordic_letters_within_scope() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, admin) = provider_with(store, 2).await;
        let tech = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech = store.scope_for(&tech, "").await.unwrap();
        let printer = store
            .create_ticket(
                &tech,
                new(
                    &munis[0],
                    "Laserskriveren på lærerværelset er tom",
                    "Blinker rødt",
                ),
            )
            .await
            .unwrap();
        let pc = store
            .create_ticket(&tech, new(&munis[0], "PC-en starter ikke", ""))
            .await
            .unwrap();
        store
            .add_comment(
                &tech,
                &printer.id,
                "Byttet tonerkassett, virker igjen",
                true,
            )
            .await
            .unwrap();
        store
            .add_comment(&tech, &pc.id, "Hemmelig notat om hovedkortet", false)
            .await
            .unwrap();
        let elsewhere = store
            .create_ticket(&admin, new(&munis[1], "Skriveren i Danmark", ""))
            .await
            .unwrap();

        let titles = |q: &'static str| {
            let tech = tech.clone();
            async move {
                store
                    .search_tickets(&tech, q, 20)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|t| t.title)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            titles("skriver").await,
            vec![printer.title.clone()],
            "{}: partial word",
            db.label
        );
        assert_eq!(
            titles("LÆRERVÆR").await,
            vec![printer.title.clone()],
            "{}: Æ folded",
            db.label
        );
        assert_eq!(
            titles("kassett").await,
            vec![printer.title.clone()],
            "{}: replies are searched",
            db.label
        );
        assert_eq!(
            titles("rødt skriver").await,
            vec![printer.title.clone()],
            "all words required"
        );
        assert!(titles("rødt pc").await.is_empty());
        assert_eq!(
            titles("pc").await,
            vec![pc.title.clone()],
            "{}: two letters",
            db.label
        );
        assert!(
            titles("hovedkortet").await.is_empty(),
            "internal notes are not searched"
        );
        assert!(
            titles("\"OR* ( NEAR(\"").await.is_empty(),
            "operators are plain text"
        );
        assert!(titles("").await.is_empty());
        assert!(titles("50%").await.is_empty());

        // The other municipality's ticket is only found by someone who sees it.
        let all: Vec<String> = store
            .search_tickets(&admin, "skriveren", 20)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert!(
            all.contains(&elsewhere.id) && all.contains(&printer.id),
            "{}",
            db.label
        );
        let requester = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Requester)],
        )
        .await;
        let requester = store.scope_for(&requester, "").await.unwrap();
        assert!(
            store
                .search_tickets(&requester, "skriver", 20)
                .await
                .unwrap()
                .is_empty(),
            "not their ticket"
        );
    }
}

#[tokio::test]
async fn changes_reach_the_index_through_the_queue_once_and_in_order() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, admin) = provider_with(store, 1).await;
        let documents = || async { store.dataset_stats(&admin).await.unwrap().search_documents };
        let before = documents().await;
        let ticket = store
            .create_ticket(&admin, new(&munis[0], "Projektoren i aulaen", ""))
            .await
            .unwrap();
        assert_eq!(
            documents().await,
            before,
            "{}: queued, not yet indexed",
            db.label
        );
        assert_eq!(
            store.index_search_queue(100).await.unwrap(),
            1,
            "{}",
            db.label
        );
        assert_eq!(
            store.index_search_queue(100).await.unwrap(),
            0,
            "{}: done once",
            db.label
        );
        assert_eq!(documents().await, before + 1, "{}", db.label);

        // Two replies before the indexer runs leave one entry, indexed with both.
        for reply in ["Ny pære bestilt", "Pæren er byttet"] {
            store
                .add_comment(&admin, &ticket.id, reply, true)
                .await
                .unwrap();
        }
        assert_eq!(
            store.index_search_queue(100).await.unwrap(),
            1,
            "{}",
            db.label
        );
        for word in ["bestilt", "byttet"] {
            let found = store.search_tickets(&admin, word, 10).await.unwrap();
            assert_eq!(found.len(), 1, "{}: {word}", db.label);
        }
        assert_eq!(
            documents().await,
            before + 1,
            "{}: replaced, not added",
            db.label
        );

        // The background indexer empties the queue without anyone searching.
        let indexer = store.spawn_search_indexer();
        store
            .create_ticket(&admin, new(&munis[0], "Smartboard uten lyd", ""))
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while documents().await != before + 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "{}: indexer idle",
                db.label
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        indexer.abort();
        // On SQLite, merging segments keeps every document findable.
        while store.merge_search_index().await.unwrap() {}
        let found = store
            .search_tickets(&admin, "smartboard", 10)
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{}", db.label);
    }
}
