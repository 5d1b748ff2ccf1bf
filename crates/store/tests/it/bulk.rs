use crate::support::{provider_with, user_with};
use drifta_core::ticket::{Level, Priority, TicketKind, TicketStatus};
use drifta_core::{Role, TenantId};
use drifta_store::testing::backends;
use drifta_store::{BulkActor, BulkComment, BulkTicket, NewTicket, QueueFilter, StatusFilter};

fn bulk(tenant: &TenantId, title: &str, status: TicketStatus, due: i64) -> BulkTicket {
    let by = BulkActor {
        user_id: None,
        name: "Import".into(),
    };
    BulkTicket {
        tenant_id: tenant.clone(),
        kind: TicketKind::Incident,
        title: title.into(),
        description: "Skjermen blinker".into(),
        requester_id: None,
        location_id: None,
        category: String::new(),
        impact: Level::Medium,
        urgency: Level::Medium,
        priority: Priority::P3,
        status,
        assignee_id: None,
        channel: "phone".into(),
        created_by: by.clone(),
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_100_000,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        response_due_at: None,
        resolution_due_at: (!status.pauses_sla()).then_some(due),
        comments: vec![
            BulkComment {
                at: 1_700_000_050_000,
                by: by.clone(),
                public: true,
                body: "Byttet kabel på lærerværelset".into(),
            },
            BulkComment {
                at: 1_700_000_060_000,
                by,
                public: false,
                body: "Hemmelig notat".into(),
            },
        ],
    }
}

#[tokio::test]
async fn bulk_loaded_tickets_are_queued_searchable_numbered_and_audited() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, admin) = provider_with(store, 2).await;
        // More tickets than one statement holds, so batching is exercised.
        let mut tickets: Vec<BulkTicket> = (0..1_203)
            .map(|i| {
                let status = [TicketStatus::Closed, TicketStatus::Open][i % 2];
                bulk(
                    &munis[i % 2],
                    &format!("Skriver {i}"),
                    status,
                    10_000 + i as i64,
                )
            })
            .collect();
        tickets.push(bulk(
            &munis[0],
            "Venter på svar",
            TicketStatus::WaitingRequester,
            0,
        ));
        let loaded = store
            .bulk_load_tickets(&admin, tickets)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", db.label));
        assert_eq!(loaded.tickets, 1_204, "{}", db.label);
        assert_eq!(loaded.events, 3 * 1_204, "{}", db.label);
        assert_eq!(loaded.search_documents, 1_204, "{}", db.label);
        assert_eq!(loaded.last_number - loaded.first_number, 1_203);
        store.analyze().await.unwrap();

        let stats = store.dataset_stats(&admin).await.unwrap();
        assert_eq!(stats.tickets, 1_204, "{}", db.label);
        assert_eq!(stats.active_tickets, 602, "{}", db.label);
        assert_eq!(stats.ticket_events, 3 * 1_204, "{}", db.label);
        assert_eq!(stats.search_documents, 1_204, "{}", db.label);
        assert!(stats.database_bytes > 0);

        let queue = store
            .list_tickets(
                &admin,
                &QueueFilter {
                    status: StatusFilter::Active,
                    tenant: Some(munis[1].clone()),
                    limit: 5,
                    ..QueueFilter::default()
                },
            )
            .await
            .unwrap();
        let dues: Vec<_> = queue.iter().map(|t| t.resolution_due_at).collect();
        assert_eq!(
            dues,
            [10_001, 10_003, 10_005, 10_007, 10_009].map(Some),
            "{}",
            db.label
        );

        let found = store
            .search_tickets(&admin, "lærerværel skriver 1201", 10)
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(),
            ["Skriver 1201"],
            "{}",
            db.label
        );
        assert!(
            store
                .search_tickets(&admin, "hemmelig", 10)
                .await
                .unwrap()
                .is_empty(),
            "notes are not indexed ({})",
            db.label
        );

        // A ticket waiting for its requester has its SLA pause open, so taking it up
        // closes that pause as set_status expects.
        let waiting = store
            .search_tickets(&admin, "venter på svar", 10)
            .await
            .unwrap()
            .remove(0);
        let tech = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech = store.scope_for(&tech, "").await.unwrap();
        let reopened = store
            .set_status(&tech, &waiting.id, TicketStatus::Open)
            .await
            .unwrap();
        assert!(reopened.resolution_due_at.is_some(), "{}", db.label);

        // Normal creation carries on after the loaded numbers.
        let next = store
            .create_ticket(
                &tech,
                NewTicket {
                    tenant_id: munis[0].clone(),
                    kind: TicketKind::Incident,
                    title: "Etter importen".into(),
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
        assert_eq!(next.number, loaded.last_number + 1, "{}", db.label);
        // A reply re-indexes a loaded ticket: its document is replaced, not duplicated.
        store
            .add_comment(&tech, &waiting.id, "Ny nettverkskabel montert", true)
            .await
            .unwrap();
        let found = store
            .search_tickets(&admin, "nettverkskabel", 10)
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{}", db.label);
        assert_eq!(
            store.dataset_stats(&admin).await.unwrap().search_documents,
            1_205,
            "{}",
            db.label
        );
        assert!(store.verify_audit_chain().await.unwrap().is_ok());

        // Someone who may not work tickets in a municipality cannot load into it.
        let coordinator = user_with(
            store,
            &admin,
            &munis[1],
            &[(munis[1].clone(), Role::Coordinator)],
        )
        .await;
        let coordinator = store.scope_for(&coordinator, "").await.unwrap();
        assert!(
            store
                .bulk_load_tickets(
                    &coordinator,
                    vec![bulk(&munis[1], "Nei", TicketStatus::Open, 1)]
                )
                .await
                .is_err()
        );
    }
}
