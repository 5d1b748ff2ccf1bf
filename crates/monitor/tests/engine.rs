//! The engine end to end against a real loopback HTTP server, on every test backend: an
//! outage is confirmed and opens one ticket, recovery notes it, maintenance silences,
//! pausing stops the checks, and history reaches the database.

use drifta_core::Scope;
use drifta_core::monitor::{LinkRole, MonitorKind};
use drifta_monitor::engine::{self, EngineConfig, EngineHandle};
use drifta_monitor::probe::Prober;
use drifta_store::testing::backends;
use drifta_store::{
    MaintenanceSchedule, MaintenanceTarget, NewCheck, NewMaintenance, QueueFilter, Store,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "engine/alerts.rs"]
mod alerts;
mod support;
use support::municipality;

/// A web server whose answer the test switches.
async fn target(status: Arc<AtomicU16>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let status = status.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = socket.read(&mut buf).await;
                let body = "Velkommen";
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}/")
}

fn fast(node: &str) -> EngineConfig {
    EngineConfig {
        reload_every: Duration::from_millis(100),
        history_every: Duration::from_millis(300),
        interval_override: Some(Duration::from_millis(150)),
        ..EngineConfig::new(node)
    }
}

/// Polls until `check` holds, or fails the test after 15 s with `what`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn state_of(store: &Store, scope: &Scope, id: &str) -> (String, Option<String>) {
    let m = store.get_monitor(scope, id).await.unwrap();
    (m.state, m.ticket_id)
}

#[tokio::test]
async fn outages_are_confirmed_ticketed_silenced_and_recorded() {
    for db in backends().await {
        let store = db.store.clone();
        let (tenant, scope) = municipality(&store).await;
        let status = Arc::new(AtomicU16::new(200));
        let url = target(status.clone()).await;
        let monitor = store
            .create_check_monitor(
                &scope,
                NewCheck {
                    tenant_id: tenant.clone(),
                    name: "Intranett".into(),
                    kind: MonitorKind::Http,
                    probe: serde_json::json!({ "kind": "http", "url": url, "keyword": "Velkommen" }),
                    interval_secs: 20,
                    timeout_secs: 5,
                    retries: 1,
                    degraded_above_ms: None,
                    location_id: None,
                },
            )
            .await
            .unwrap();
        let handle: EngineHandle =
            engine::spawn(store.clone(), Prober::new().unwrap(), fast("node-test"));
        eventually("first checks", || async { handle.stats().checks_done >= 2 }).await;
        assert!(handle.stats().all_checked_after.is_some());
        assert_eq!(state_of(&store, &scope, &monitor.id).await.0, "up");

        // The service fails: confirmed after the retry, then one ticket.
        status.store(503, Ordering::SeqCst);
        eventually("down with a ticket", || async {
            let (state, ticket) = state_of(&store, &scope, &monitor.id).await;
            state == "down" && ticket.is_some()
        })
        .await;
        let m = store.get_monitor(&scope, &monitor.id).await.unwrap();
        assert!(m.reason.contains("503"), "{}: {}", db.label, m.reason);
        let ticket = m.ticket_id.clone().unwrap();
        // It stays down for many more checks without a second ticket.
        let done = handle.stats().checks_done;
        eventually("more failed checks", || async {
            handle.stats().checks_done >= done + 5
        })
        .await;
        let tickets = store
            .list_tickets(
                &scope,
                &QueueFilter {
                    limit: 50,
                    ..QueueFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            tickets.iter().filter(|t| t.channel == "monitor").count(),
            1,
            "{}: one ticket per outage",
            db.label
        );

        // Recovery: up, noted on the ticket, which is let go.
        status.store(200, Ordering::SeqCst);
        eventually("up again", || async {
            state_of(&store, &scope, &monitor.id).await == ("up".to_string(), None)
        })
        .await;
        let t = store.get_ticket(&scope, &ticket).await.unwrap();
        let events = store.ticket_events(&scope, &t).await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.body.contains("outage-recovered monitor=")),
            "{}",
            db.label
        );

        // Maintenance now: a failure shows as maintenance and opens nothing.
        let now = store.now_ms();
        store
            .create_maintenance(
                &scope,
                NewMaintenance {
                    tenant_id: tenant.clone(),
                    title: "Bytte av svitsj".into(),
                    target: MaintenanceTarget::Monitor(monitor.id.clone()),
                    schedule: MaintenanceSchedule::Once {
                        starts_at: now - 1000,
                        ends_at: now + 600_000,
                    },
                },
            )
            .await
            .unwrap();
        eventually("maintenance shown", || async {
            state_of(&store, &scope, &monitor.id).await.0 == "maintenance"
        })
        .await;
        status.store(500, Ordering::SeqCst);
        let done = handle.stats().checks_done;
        eventually("checks during maintenance", || async {
            handle.stats().checks_done >= done + 5
        })
        .await;
        assert_eq!(
            state_of(&store, &scope, &monitor.id).await,
            ("maintenance".to_string(), None),
            "{}: silenced",
            db.label
        );

        // Paused: the engine lets go of it.
        store
            .set_monitor_paused(&scope, &monitor.id, true)
            .await
            .unwrap();
        eventually("unloaded", || async { handle.stats().monitors == 0 }).await;
        let done = handle.stats().checks_done;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(handle.stats().checks_done <= done + 1, "{}", db.label);

        handle.shutdown().await;
        let hours = store.monitor_hours(&scope, &monitor.id, 0).await.unwrap();
        assert_eq!(hours.len(), 1, "{}: this hour's row", db.label);
        assert!(hours[0].checks >= 10, "{}: {:?}", db.label, hours[0]);
        assert!(hours[0].down_secs + hours[0].up_secs + hours[0].maintenance_secs > 0);
        assert_eq!(hours[0].minutes.len(), 600);
        // Shutdown handed the leases back.
        let taken = store
            .claim_buckets("another-node", jiff::SignedDuration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(taken.len(), 64, "{}", db.label);
    }
}

#[tokio::test]
async fn a_site_on_its_backup_link_is_degraded_until_the_backup_fails_too() {
    use drifta_core::cmdb::{ItemType, Lifecycle};
    use drifta_core::tenant::LocationKind;
    use drifta_store::{ItemInput, NewItem, NewLocation};
    for db in backends().await {
        let store = db.store.clone();
        let (tenant, scope) = municipality(&store).await;
        let school = store
            .create_location(
                &scope,
                &tenant,
                NewLocation {
                    name: "Fjordvik skole".into(),
                    kind: LocationKind::School,
                    address: String::new(),
                },
            )
            .await
            .unwrap();
        let mut monitors = Vec::new();
        let mut targets = Vec::new();
        let mut items = Vec::new();
        for (name, primary) in [("Fiber skolen", "true"), ("4G skolen", "false")] {
            let item = store
                .create_item(
                    &scope,
                    NewItem {
                        tenant_id: tenant.clone(),
                        item_type: ItemType::NetworkLink,
                        lifecycle: Lifecycle::Deployed,
                        input: ItemInput {
                            name: name.into(),
                            location_id: Some(school.id.to_string()),
                            attributes: [("primary".to_string(), primary.to_string())].into(),
                            ..ItemInput::default()
                        },
                    },
                )
                .await
                .unwrap();
            let status = Arc::new(AtomicU16::new(200));
            let url = target(status.clone()).await;
            let monitor = store
                .create_check_monitor(
                    &scope,
                    NewCheck {
                        tenant_id: tenant.clone(),
                        name: name.into(),
                        kind: MonitorKind::Http,
                        probe: serde_json::json!({ "kind": "http", "url": url }),
                        interval_secs: 20,
                        timeout_secs: 5,
                        retries: 0,
                        degraded_above_ms: None,
                        location_id: None,
                    },
                )
                .await
                .unwrap();
            store
                .set_monitor_item(&scope, &monitor.id, Some(&item.summary.id))
                .await
                .unwrap();
            monitors.push(monitor.id);
            targets.push(status);
            items.push(item.summary.id.clone());
        }
        // Both links land in the location's bucket, so one node sees the whole site.
        let bucket = drifta_store::bucket_of(school.id.as_str());
        let in_bucket = store.engine_monitors(&[bucket]).await.unwrap();
        assert_eq!(
            in_bucket
                .iter()
                .filter(|m| monitors.contains(&m.id))
                .count(),
            2,
            "{}",
            db.label
        );
        let (fibre, backup) = (&monitors[0], &monitors[1]);
        let handle = engine::spawn(store.clone(), Prober::new().unwrap(), fast("node-link"));
        eventually("both links up", || async {
            handle.stats().checks_done >= 4
        })
        .await;

        // The fibre is dug up: the school runs on 4G, degraded, no outage ticket.
        targets[0].store(503, Ordering::SeqCst);
        eventually("fibre degraded", || async {
            state_of(&store, &scope, fibre).await.0 == "degraded"
        })
        .await;
        let m = store.get_monitor(&scope, fibre).await.unwrap();
        assert!(m.reason.contains("4G skolen"), "{}: {}", db.label, m.reason);
        assert!(m.ticket_id.is_none(), "{}", db.label);

        // Then the 4G link fails too: the school is cut off, the fibre's outage is real.
        targets[1].store(503, Ordering::SeqCst);
        eventually("fibre down with a ticket", || async {
            let (state, ticket) = state_of(&store, &scope, fibre).await;
            state == "down" && ticket.is_some()
        })
        .await;
        assert_eq!(state_of(&store, &scope, backup).await.0, "down");

        // The 4G link comes back first: degraded again; then the fibre: up.
        targets[1].store(200, Ordering::SeqCst);
        eventually("back on 4G", || async {
            state_of(&store, &scope, fibre).await.0 == "degraded"
        })
        .await;
        targets[0].store(200, Ordering::SeqCst);
        eventually("fibre up", || async {
            state_of(&store, &scope, fibre).await.0 == "up"
        })
        .await;

        // The fibre is recorded as a backup link from now on: the engine's fingerprint
        // moves, so its next reload takes the new role.
        let before = store.checks_version().await.unwrap();
        store
            .update_item(
                &scope,
                &items[0],
                ItemInput {
                    name: "Fiber skolen".into(),
                    location_id: Some(school.id.to_string()),
                    attributes: [("primary".to_string(), "false".to_string())].into(),
                    ..ItemInput::default()
                },
            )
            .await
            .unwrap();
        assert_ne!(
            store.checks_version().await.unwrap(),
            before,
            "{}",
            db.label
        );
        let reloaded = store.engine_monitors(&[bucket]).await.unwrap();
        let role = reloaded.iter().find(|m| &m.id == fibre).unwrap().link;
        assert_eq!(role, Some(LinkRole::Backup), "{}", db.label);
        handle.shutdown().await;
    }
}
