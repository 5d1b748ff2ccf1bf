use crate::support::{provider_with, user_with};
use drifta_core::Role;
use drifta_core::clock::ManualClock;
use drifta_core::monitor::{MonitorKind, MonitorState};
use drifta_store::testing::backends;
use drifta_store::{
    HourRow, MaintenanceSchedule, MaintenanceTarget, NewCheck, NewMaintenance, QueueFilter,
    StateChange, StoreError,
};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

fn http_check(tenant: &drifta_core::TenantId, name: &str) -> NewCheck {
    NewCheck {
        tenant_id: tenant.clone(),
        name: name.into(),
        kind: MonitorKind::Http,
        probe: serde_json::json!({ "kind": "http", "url": "https://intranett.example/" }),
        interval_secs: 60,
        timeout_secs: 10,
        retries: 2,
        degraded_above_ms: Some(2000),
        location_id: None,
    }
}

fn field_of(result: Result<impl std::fmt::Debug, StoreError>) -> &'static str {
    match result {
        Err(StoreError::Invalid(e)) => e.field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[tokio::test]
async fn checks_are_created_validated_paused_and_scoped() {
    for db in backends().await {
        let store = db.store.clone();
        let (_, munis, admin) = provider_with(&store, 2).await;
        let tech = user_with(
            &store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech = store.scope_for(&tech, "").await.unwrap();
        let m = store
            .create_check_monitor(&tech, http_check(&munis[0], "Intranett"))
            .await
            .unwrap();
        assert_eq!((m.kind.as_str(), m.state.as_str()), ("http", "up"));
        assert_eq!(m.period_secs, 60);
        assert_eq!(m.degraded_above_ms, Some(2000));
        assert!(m.probe.contains("intranett.example"), "{}", m.probe);

        // Bad settings name their field and write nothing.
        let mut short = http_check(&munis[0], "Too often");
        short.interval_secs = 5;
        assert_eq!(
            field_of(store.create_check_monitor(&tech, short).await),
            "interval"
        );
        let mut slow = http_check(&munis[0], "Timeout above interval");
        slow.timeout_secs = 120;
        assert_eq!(
            field_of(store.create_check_monitor(&tech, slow).await),
            "timeout"
        );
        let mut heartbeat = http_check(&munis[0], "Not active");
        heartbeat.kind = MonitorKind::Heartbeat;
        assert_eq!(
            field_of(store.create_check_monitor(&tech, heartbeat).await),
            "kind"
        );
        let mut empty = http_check(&munis[0], "  ");
        empty.name = "  ".into();
        assert_eq!(
            field_of(store.create_check_monitor(&tech, empty).await),
            "name"
        );
        let mut elsewhere = http_check(&munis[0], "Wrong location");
        elsewhere.location_id = Some("no-such-location".into());
        assert_eq!(
            field_of(store.create_check_monitor(&tech, elsewhere).await),
            "location"
        );
        // Another municipality's monitor cannot be made here.
        assert!(matches!(
            store
                .create_check_monitor(&tech, http_check(&munis[1], "Not mine"))
                .await,
            Err(StoreError::Denied(_))
        ));
        assert_eq!(
            store.list_monitors(&tech).await.unwrap().len(),
            1,
            "{}",
            db.label
        );

        // Pausing is recorded, idempotent, and reversible.
        let paused = store.set_monitor_paused(&tech, &m.id, true).await.unwrap();
        assert_eq!(paused.state, "paused");
        let again = store.set_monitor_paused(&tech, &m.id, true).await.unwrap();
        assert_eq!(again.state, "paused");
        let resumed = store.set_monitor_paused(&tech, &m.id, false).await.unwrap();
        assert_eq!(resumed.state, "up");
        let other_tech = user_with(
            &store,
            &admin,
            &munis[1],
            &[(munis[1].clone(), Role::Technician)],
        )
        .await;
        let other_tech = store.scope_for(&other_tech, "").await.unwrap();
        assert!(matches!(
            store.set_monitor_paused(&other_tech, &m.id, true).await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn leases_split_the_buckets_and_pass_from_a_dead_node() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(
            "2026-11-24T08:00:00Z".parse::<Timestamp>().unwrap(),
        ));
        let store = db.store.clone().with_clock(clock.clone());
        let lease = SignedDuration::from_secs(60);
        let a = store.claim_buckets("node-a", lease).await.unwrap();
        assert_eq!(a.len(), 64, "{}: a lone node takes everything", db.label);
        // A second node arrives: it gets nothing until node-a gives up its surplus.
        let b = store.claim_buckets("node-b", lease).await.unwrap();
        assert!(b.is_empty(), "{}", db.label);
        let a = store.claim_buckets("node-a", lease).await.unwrap();
        assert_eq!(a.len(), 32);
        let b = store.claim_buckets("node-b", lease).await.unwrap();
        assert_eq!(b.len(), 32);
        assert!(a.iter().all(|x| !b.contains(x)), "no bucket held twice");

        // node-a dies: after the lease its buckets go to node-b.
        clock.advance(SignedDuration::from_secs(30));
        let b = store.claim_buckets("node-b", lease).await.unwrap();
        assert_eq!(b.len(), 32, "{}: node-a's lease has not expired", db.label);
        clock.advance(SignedDuration::from_secs(61));
        let b = store.claim_buckets("node-b", lease).await.unwrap();
        assert_eq!(b.len(), 64, "{}: node-b took over", db.label);

        // A clean shutdown hands everything back at once.
        store.release_buckets("node-b").await.unwrap();
        let c = store.claim_buckets("node-c", lease).await.unwrap();
        assert_eq!(c.len(), 64, "{}", db.label);
    }
}

#[tokio::test]
async fn state_changes_open_one_ticket_and_history_is_kept_per_hour() {
    for db in backends().await {
        let store = db.store.clone();
        let (_, munis, admin) = provider_with(&store, 1).await;
        let m = store
            .create_check_monitor(&admin, http_check(&munis[0], "Sak-arkiv"))
            .await
            .unwrap();
        let version = store.checks_version().await.unwrap();
        assert_eq!(version.0, 1);
        let all: Vec<i64> = (0..64).collect();
        let loaded = store.engine_monitors(&all).await.unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].id, m.id);
        let bucket = drifta_store::bucket_of(&m.id);
        let none: Vec<i64> = (0..64).filter(|b| *b != bucket).collect();
        assert!(store.engine_monitors(&none).await.unwrap().is_empty());

        let down = StateChange {
            monitor_id: m.id.clone(),
            at: store.now_ms(),
            from: MonitorState::Up,
            to: MonitorState::Down,
            reason: "HTTP 503".into(),
            announced: true,
        };
        assert_eq!(
            store
                .record_state_changes(std::slice::from_ref(&down))
                .await
                .unwrap(),
            1
        );
        // The same change from a second node is skipped, so no second ticket.
        assert_eq!(store.record_state_changes(&[down]).await.unwrap(), 0);
        let now = store.get_monitor(&admin, &m.id).await.unwrap();
        assert_eq!(now.state, "down");
        let ticket = now
            .ticket_id
            .clone()
            .expect("a confirmed outage opens a ticket");
        let up = StateChange {
            monitor_id: m.id.clone(),
            at: store.now_ms(),
            from: MonitorState::Down,
            to: MonitorState::Up,
            reason: "HTTP 200".into(),
            announced: true,
        };
        store.record_state_changes(&[up]).await.unwrap();
        let now = store.get_monitor(&admin, &m.id).await.unwrap();
        assert_eq!((now.state.as_str(), now.ticket_id.as_deref()), ("up", None));
        let t = store.get_ticket(&admin, &ticket).await.unwrap();
        let events = store.ticket_events(&admin, &t).await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.kind == "note" && e.body.contains("outage-recovered monitor=")),
            "{}",
            db.label
        );
        // Maintenance changes are written but open nothing.
        let silent = StateChange {
            monitor_id: m.id.clone(),
            at: store.now_ms(),
            from: MonitorState::Up,
            to: MonitorState::Maintenance,
            reason: String::new(),
            announced: false,
        };
        store.record_state_changes(&[silent]).await.unwrap();
        let tickets = store
            .list_tickets(
                &admin,
                &QueueFilter {
                    limit: 50,
                    ..QueueFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(tickets.iter().filter(|t| t.channel == "monitor").count(), 1);

        // History: a second write of the same hour replaces the first.
        let mut row = HourRow {
            monitor_id: m.id.clone(),
            hour: 3_600_000 * 500_000,
            up_secs: 600,
            degraded_secs: 0,
            down_secs: 0,
            maintenance_secs: 0,
            checks: 10,
            latency_p50: Some(40),
            latency_p95: Some(90),
            minutes: vec![1; 600],
        };
        store
            .write_monitor_hours(std::slice::from_ref(&row))
            .await
            .unwrap();
        row.up_secs = 1200;
        row.checks = 20;
        store
            .write_monitor_hours(std::slice::from_ref(&row))
            .await
            .unwrap();
        let hours = store.monitor_hours(&admin, &m.id, 0).await.unwrap();
        assert_eq!(hours, vec![row.clone()], "{}", db.label);
        let resumed = store
            .engine_hours(std::slice::from_ref(&m.id), row.hour)
            .await
            .unwrap();
        assert_eq!(resumed.len(), 1);
        assert_eq!(resumed[0].minutes, vec![1; 600]);
    }
}

#[tokio::test]
async fn maintenance_windows_are_checked_and_scoped() {
    for db in backends().await {
        let store = db.store.clone();
        let (_, munis, admin) = provider_with(&store, 2).await;
        let m = store
            .create_check_monitor(&admin, http_check(&munis[0], "Skole-wifi"))
            .await
            .unwrap();
        let weekly = store
            .create_maintenance(
                &admin,
                NewMaintenance {
                    tenant_id: munis[0].clone(),
                    title: "Patch night".into(),
                    target: MaintenanceTarget::Tenant,
                    schedule: MaintenanceSchedule::Weekly {
                        weekdays: 2,
                        start_minute: 22 * 60,
                        duration_mins: 240,
                    },
                },
            )
            .await
            .unwrap();
        assert_eq!(weekly.title, "Patch night");
        let once = store
            .create_maintenance(
                &admin,
                NewMaintenance {
                    tenant_id: munis[0].clone(),
                    title: "Switch replacement".into(),
                    target: MaintenanceTarget::Monitor(m.id.clone()),
                    schedule: MaintenanceSchedule::Once {
                        starts_at: 1_000,
                        ends_at: 2_000,
                    },
                },
            )
            .await
            .unwrap();
        assert_eq!(once.target_name, "Skole-wifi", "{}", db.label);

        let bad = |target, schedule| NewMaintenance {
            tenant_id: munis[0].clone(),
            title: "x".into(),
            target,
            schedule,
        };
        let once_ok = MaintenanceSchedule::Once {
            starts_at: 1,
            ends_at: 2,
        };
        assert_eq!(
            field_of(
                store
                    .create_maintenance(
                        &admin,
                        bad(
                            MaintenanceTarget::Tenant,
                            MaintenanceSchedule::Once {
                                starts_at: 5,
                                ends_at: 5
                            }
                        )
                    )
                    .await
            ),
            "ends_at"
        );
        for (schedule, field) in [
            (
                MaintenanceSchedule::Weekly {
                    weekdays: 0,
                    start_minute: 0,
                    duration_mins: 10,
                },
                "weekdays",
            ),
            (
                MaintenanceSchedule::Weekly {
                    weekdays: 1,
                    start_minute: 1440,
                    duration_mins: 10,
                },
                "start",
            ),
            (
                MaintenanceSchedule::Weekly {
                    weekdays: 1,
                    start_minute: 0,
                    duration_mins: 0,
                },
                "duration",
            ),
        ] {
            assert_eq!(
                field_of(
                    store
                        .create_maintenance(&admin, bad(MaintenanceTarget::Tenant, schedule))
                        .await
                ),
                field
            );
        }
        assert_eq!(
            field_of(
                store
                    .create_maintenance(
                        &admin,
                        bad(
                            MaintenanceTarget::Location("nowhere".into()),
                            once_ok.clone()
                        )
                    )
                    .await
            ),
            "location"
        );
        // A monitor of another municipality is not a target here.
        let mut foreign = bad(MaintenanceTarget::Monitor(m.id.clone()), once_ok);
        foreign.tenant_id = munis[1].clone();
        assert_eq!(
            field_of(store.create_maintenance(&admin, foreign).await),
            "monitor"
        );

        assert_eq!(store.list_maintenance(&admin).await.unwrap().len(), 2);
        assert_eq!(store.all_maintenance().await.unwrap().len(), 2);
        let other = user_with(
            &store,
            &admin,
            &munis[1],
            &[(munis[1].clone(), Role::Technician)],
        )
        .await;
        let other = store.scope_for(&other, "").await.unwrap();
        assert!(store.list_maintenance(&other).await.unwrap().is_empty());
        assert!(matches!(
            store.delete_maintenance(&other, &weekly.id).await,
            Err(StoreError::NotFound)
        ));
        store.delete_maintenance(&admin, &weekly.id).await.unwrap();
        assert_eq!(
            store.list_maintenance(&admin).await.unwrap().len(),
            1,
            "{}",
            db.label
        );
    }
}
