use crate::support::{provider_with, user_with};
use drifta_core::Role;
use drifta_core::clock::ManualClock;
use drifta_store::testing::backends;
use drifta_store::{PingOutcome, QueueFilter, StatusFilter, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

#[tokio::test]
async fn a_backup_that_stops_reporting_opens_one_ticket_and_recovery_adds_a_note() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(
            "2026-11-24T08:00:00Z".parse::<Timestamp>().unwrap(),
        ));
        let store = db.store.clone().with_clock(clock.clone());
        let (_, munis, admin) = provider_with(&store, 1).await;
        let tech = user_with(
            &store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech = store.scope_for(&tech, "").await.unwrap();
        let (secret, monitor) = store
            .create_heartbeat(
                &tech,
                &munis[0],
                "Nattlig backup, filserver",
                SignedDuration::from_hours(24),
                SignedDuration::from_hours(1),
            )
            .await
            .unwrap();
        assert!(secret.starts_with("hb_"));
        assert_eq!(monitor.state, "up");
        // The heartbeat watches the file server's backup; its outage ticket will name it.
        let server = store
            .create_item(
                &tech,
                drifta_store::NewItem {
                    tenant_id: munis[0].clone(),
                    item_type: drifta_core::cmdb::ItemType::PhysicalServer,
                    lifecycle: drifta_core::cmdb::Lifecycle::Deployed,
                    input: drifta_store::ItemInput {
                        name: "Filserver".into(),
                        hostname: Some("fs01".into()),
                        ..Default::default()
                    },
                },
            )
            .await
            .unwrap();
        let linked = store
            .set_monitor_item(&tech, &monitor.id, Some(&server.summary.id))
            .await
            .unwrap();
        assert_eq!(linked.item_name, "Filserver", "{}", db.label);
        assert!(matches!(
            store
                .set_monitor_item(&tech, &monitor.id, Some("no-such-item"))
                .await,
            Err(StoreError::Invalid(_))
        ));

        store
            .heartbeat_ping(&secret, PingOutcome::Success, "412 GB")
            .await
            .unwrap();
        clock.advance(SignedDuration::from_hours(24));
        assert_eq!(
            store.evaluate_heartbeats().await.unwrap(),
            0,
            "{}: within period + grace",
            db.label
        );
        clock.advance(SignedDuration::from_mins(61));
        assert_eq!(store.evaluate_heartbeats().await.unwrap(), 1);
        let m = store.get_monitor(&tech, &monitor.id).await.unwrap();
        assert_eq!(m.state, "down");
        assert!(m.reason.contains("has not reported since"), "{}", m.reason);
        let ticket_id = m.ticket_id.clone().expect("an outage opens a ticket");
        let t = store.get_ticket(&tech, &ticket_id).await.unwrap();
        assert_eq!(t.channel, "monitor");
        assert!(
            t.title
                .starts_with("outage-ticket-title monitor=Nattlig backup, filserver reason="),
            "{}",
            t.title
        );
        let about = store.ticket_items(&tech, &ticket_id).await.unwrap();
        assert_eq!(about.len(), 1, "{}: the outage names the server", db.label);
        assert_eq!(about[0].id, server.summary.id);
        let on_item = store.item_tickets(&tech, &server.summary.id).await.unwrap();
        assert_eq!(on_item.len(), 1, "{}", db.label);

        // Sweeping again opens nothing new.
        clock.advance(SignedDuration::from_hours(2));
        assert_eq!(store.evaluate_heartbeats().await.unwrap(), 0);
        let open = store
            .list_tickets(
                &tech,
                &QueueFilter {
                    limit: 50,
                    ..QueueFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            open.iter().filter(|t| t.channel == "monitor").count(),
            1,
            "{}",
            db.label
        );

        // The job reports again: up, with a note on the outage's ticket.
        store
            .heartbeat_ping(&secret, PingOutcome::Success, "415 GB")
            .await
            .unwrap();
        let m = store.get_monitor(&tech, &monitor.id).await.unwrap();
        assert_eq!(
            (m.state.as_str(), m.last_payload.as_str()),
            ("up", "415 GB")
        );
        assert!(m.ticket_id.is_none());
        let events = store.ticket_events(&tech, &t).await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.kind == "note" && e.body.contains("outage-heartbeat-recovered monitor="))
        );

        // A failure report takes it down at once, with the job's words.
        clock.advance(SignedDuration::from_hours(23));
        store
            .heartbeat_ping(&secret, PingOutcome::Fail, "exit 2: disk full")
            .await
            .unwrap();
        let m = store.get_monitor(&tech, &monitor.id).await.unwrap();
        assert_eq!(m.state, "down");
        assert!(m.reason.contains("disk full"), "{}", m.reason);
        let all = store
            .list_tickets(
                &tech,
                &QueueFilter {
                    status: StatusFilter::Any,
                    limit: 50,
                    ..QueueFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            all.iter().filter(|t| t.channel == "monitor").count(),
            2,
            "a new outage, a new ticket"
        );
    }
}

#[tokio::test]
async fn bad_heartbeats_and_unknown_secrets() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, admin) = provider_with(store, 2).await;
        let err = store
            .create_heartbeat(
                &admin,
                &munis[0],
                "For ofte",
                SignedDuration::from_secs(10),
                SignedDuration::from_mins(1),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.code == "heartbeat-settings"),
            "{}: {err}",
            db.label
        );
        assert!(matches!(
            store
                .create_heartbeat(
                    &admin,
                    &munis[0],
                    " ",
                    SignedDuration::from_hours(1),
                    SignedDuration::from_mins(5)
                )
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store
                .heartbeat_ping("hb_nope", PingOutcome::Success, "")
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .heartbeat_ping("' OR 1=1 --", PingOutcome::Fail, "")
                .await,
            Err(StoreError::NotFound)
        ));
        // A coordinator reads monitors but cannot create them; another municipality sees none.
        let coordinator = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Coordinator)],
        )
        .await;
        let coordinator = store.scope_for(&coordinator, "").await.unwrap();
        assert!(matches!(
            store
                .create_heartbeat(
                    &coordinator,
                    &munis[0],
                    "Backup",
                    SignedDuration::from_hours(1),
                    SignedDuration::from_mins(5)
                )
                .await,
            Err(StoreError::Denied(_))
        ));
        store
            .create_heartbeat(
                &admin,
                &munis[0],
                "Backup",
                SignedDuration::from_hours(1),
                SignedDuration::from_mins(5),
            )
            .await
            .unwrap();
        assert_eq!(store.list_monitors(&coordinator).await.unwrap().len(), 1);
        let other = user_with(
            store,
            &admin,
            &munis[1],
            &[(munis[1].clone(), Role::Coordinator)],
        )
        .await;
        let other = store.scope_for(&other, "").await.unwrap();
        assert!(store.list_monitors(&other).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn pings_to_a_paused_heartbeat_are_kept_without_a_state_change() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, admin) = provider_with(store, 1).await;
        let (secret, monitor) = store
            .create_heartbeat(
                &admin,
                &munis[0],
                "Lønnskjøring",
                SignedDuration::from_hours(1),
                SignedDuration::from_mins(5),
            )
            .await
            .unwrap();
        store
            .set_monitor_paused(&admin, &monitor.id, true)
            .await
            .unwrap();
        store
            .heartbeat_ping(&secret, PingOutcome::Fail, "exit 1")
            .await
            .unwrap();
        // Control characters other than line breaks are dropped from the payload.
        store
            .heartbeat_ping(&secret, PingOutcome::Success, "ok\u{7}\u{1b}[31m\n2 GB")
            .await
            .unwrap();
        let m = store.get_monitor(&admin, &monitor.id).await.unwrap();
        assert_eq!(m.state, "paused", "{}", db.label);
        assert!(m.ticket_id.is_none(), "{}", db.label);
        assert_eq!(m.last_payload, "ok[31m\n2 GB", "{}", db.label);
        assert!(m.last_success_at.is_some(), "{}", db.label);
        assert_eq!(
            store.evaluate_heartbeats().await.unwrap(),
            0,
            "{}",
            db.label
        );
    }
}
