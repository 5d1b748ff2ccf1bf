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
