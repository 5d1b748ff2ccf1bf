//! Alerts end to end on every test backend: routes per municipality, one alert per
//! incident, escalation that waits and is dropped when the ticket is taken, recovery
//! notices, retries with the reason kept, against a real SMTP conversation and real HTTP
//! receivers on loopback.

use super::municipality;
use drifta_core::alert::{AlertEvent, Rendered, RouteInput};
use drifta_core::clock::ManualClock;
use drifta_core::monitor::{MonitorKind, MonitorState};
use drifta_core::{Language, Scope, TenantId};
use drifta_monitor::alerts::{self, AlertConfig, SmsGateway, SmtpConfig};
use drifta_store::testing::backends;
use drifta_store::{NewCheck, StateChange, Store};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

type Inbox = Arc<Mutex<Vec<String>>>;

/// An SMTP server that accepts everything and keeps each message's data. `fail` makes it
/// refuse every message with a temporary error, as a full or restarting relay does.
async fn smtp_sink(fail: bool) -> (String, Inbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inbox: Inbox = Arc::default();
    let kept = inbox.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read);
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "MAIL" if fail => b"451 4.3.0 try again later\r\n",
                        "DATA" => {
                            let _ = write.write_all(b"354 go on\r\n").await;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                                data.push_str(&line);
                            }
                            kept.lock().unwrap().push(data);
                            b"250 kept\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (format!("smtp://{addr}"), inbox)
}

/// An HTTP receiver that answers `status` and keeps each request's first line and body.
async fn http_sink(status: u16) -> (String, Inbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inbox: Inbox = Arc::default();
    let kept = inbox.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head, then as much body as content-length says.
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        break;
                    }
                    raw.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&raw).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            let first = head.lines().next().unwrap_or("").to_string();
                            let auth = head
                                .lines()
                                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                                .unwrap_or("")
                                .to_string();
                            kept.lock()
                                .unwrap()
                                .push(format!("{first}\n{auth}\n{body}"));
                            break;
                        }
                    }
                }
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), inbox)
}

fn route(
    store: &Store,
    scope: &Scope,
    tenant: &TenantId,
    input: [&str; 4],
) -> impl std::future::Future<Output = String> {
    let [channel, target, threshold, delay] = input;
    let route = RouteInput {
        channel: channel.into(),
        target: target.into(),
        format: if channel == "webhook" {
            "slack".into()
        } else {
            String::new()
        },
        threshold: threshold.into(),
        delay_minutes: delay.into(),
    }
    .validate()
    .unwrap();
    let (store, scope, tenant) = (store.clone(), scope.clone(), tenant.clone());
    async move {
        store
            .create_alert_route(&scope, &tenant, &route, Language::Nb)
            .await
            .unwrap()
            .id
    }
}

/// A check nobody runs here: the tests write its state changes themselves.
async fn check(
    store: &Store,
    scope: &Scope,
    tenant: &TenantId,
    name: &str,
) -> drifta_store::Monitor {
    store
        .create_check_monitor(
            scope,
            NewCheck {
                tenant_id: tenant.clone(),
                name: name.into(),
                kind: MonitorKind::Tcp,
                probe: serde_json::json!({ "kind": "tcp", "host": "127.0.0.1", "port": 9 }),
                interval_secs: 20,
                timeout_secs: 5,
                retries: 0,
                degraded_above_ms: None,
                location_id: None,
            },
        )
        .await
        .unwrap()
}

fn render() -> alerts::Renderer {
    Arc::new(|event: &AlertEvent, lang: Language| Rendered {
        subject: format!(
            "[{}] {:?} {} {}",
            lang.code(),
            event.kind,
            event.state,
            event.monitor
        ),
        text: format!(
            "{} i {}: {}",
            event.monitor, event.municipality, event.reason
        ),
    })
}

fn change(monitor: &str, at: i64, from: MonitorState, to: MonitorState) -> StateChange {
    StateChange {
        monitor_id: monitor.into(),
        at,
        from,
        to,
        reason: "HTTP 503".into(),
        announced: true,
    }
}

async fn statuses(store: &Store, scope: &Scope) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = store
        .list_outbox(scope, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.channel, d.kind, d.status))
        .collect();
    rows.sort();
    rows
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while tokio::time::Instant::now() < deadline {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("timed out waiting for: {what}");
}

fn strings(items: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    items
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[tokio::test]
async fn one_alert_per_incident_with_escalation_and_recovery() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new("2026-11-30T08:00:00Z".parse().unwrap()));
        let store = db.store.clone().with_clock(clock.clone());
        let (tenant, scope) = municipality(&store).await;
        let (smtp_url, mail) = smtp_sink(false).await;
        let (hook_url, hooks) = http_sink(200).await;
        let (sms_url, texts) = http_sink(200).await;
        route(
            &store,
            &scope,
            &tenant,
            ["email", "drift@fjordvik.no", "down", "0"],
        )
        .await;
        route(
            &store,
            &scope,
            &tenant,
            ["webhook", &format!("{hook_url}/hook"), "degraded", "0"],
        )
        .await;
        route(
            &store,
            &scope,
            &tenant,
            ["sms", "+47 912 34 567", "down", "15"],
        )
        .await;
        let monitor = check(&store, &scope, &tenant, "Fagsystem").await;
        let mut config = AlertConfig::new("node-a", render());
        config.smtp = Some(SmtpConfig {
            url: smtp_url,
            from: "Drifta <drift@provider.no>".into(),
            extra_roots: Vec::new(),
        });
        config.sms = Some(SmsGateway {
            url: format!("{sms_url}/send"),
            token: Some("gateway-secret".into()),
        });
        config.poll_every = Duration::from_millis(30);
        let sender = alerts::spawn(store.clone(), config).unwrap();
        let t0 = store.now_ms();

        // Degraded first: only the route that wants degraded hears.
        store
            .record_state_changes(&[change(
                &monitor.id,
                t0,
                MonitorState::Up,
                MonitorState::Degraded,
            )])
            .await
            .unwrap();
        wait_for("the degraded webhook", async || {
            hooks.lock().unwrap().len() == 1
        })
        .await;
        let hook = hooks.lock().unwrap()[0].clone();
        assert!(hook.starts_with("POST /hook"), "{}: {hook}", db.label);
        let body: serde_json::Value =
            serde_json::from_str(hook.splitn(3, '\n').nth(2).unwrap()).unwrap();
        assert_eq!(
            body["text"],
            "*[nb] Problem degraded Fagsystem*\nFagsystem i Fjordvik: HTTP 503"
        );

        // Worse in the same incident: e-mail (down only) hears now, the webhook not again,
        // and the SMS escalation waits for its 15 minutes.
        store
            .record_state_changes(&[change(
                &monitor.id,
                t0 + 1000,
                MonitorState::Degraded,
                MonitorState::Down,
            )])
            .await
            .unwrap();
        wait_for("the down e-mail", async || mail.lock().unwrap().len() == 1).await;
        let message = mail.lock().unwrap()[0].clone();
        assert!(
            message.contains("Subject: [nb] Problem down Fagsystem"),
            "{message}"
        );
        assert!(
            message.contains("Auto-Submitted: auto-generated"),
            "{message}"
        );
        assert!(message.contains("To: drift@fjordvik.no"), "{message}");
        assert!(message.contains("MIME-Version: 1.0"), "{message}");
        assert!(message.contains("Message-ID: <"), "{message}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            hooks.lock().unwrap().len(),
            1,
            "{}: one alert per incident",
            db.label
        );
        assert!(
            texts.lock().unwrap().is_empty(),
            "the escalation is not due yet"
        );

        // The same change written twice (two nodes) or repeated adds nothing.
        store
            .record_state_changes(&[change(
                &monitor.id,
                t0 + 2000,
                MonitorState::Degraded,
                MonitorState::Down,
            )])
            .await
            .unwrap();
        assert_eq!(
            statuses(&store, &scope).await,
            strings(&[
                ("email", "problem", "sent"),
                ("sms", "problem", "queued"),
                ("webhook", "problem", "sent"),
            ]),
            "{}",
            db.label
        );

        // Fifteen minutes on, nobody has taken the ticket: the SMS goes out.
        clock.advance(jiff::SignedDuration::from_mins(16));
        wait_for("the SMS escalation", async || {
            texts.lock().unwrap().len() == 1
        })
        .await;
        let sms = texts.lock().unwrap()[0].clone();
        assert!(sms.starts_with("POST /send"), "{sms}");
        assert!(sms.contains("Bearer gateway-secret"), "{sms}");
        assert!(sms.contains("\"to\":\"+4791234567\""), "{sms}");

        // Recovery: every route that heard of the problem hears it is over, once.
        store
            .record_state_changes(&[change(
                &monitor.id,
                store.now_ms(),
                MonitorState::Down,
                MonitorState::Up,
            )])
            .await
            .unwrap();
        wait_for("recovery notices", async || {
            mail.lock().unwrap().len() == 2
                && hooks.lock().unwrap().len() == 2
                && texts.lock().unwrap().len() == 2
        })
        .await;
        assert!(mail.lock().unwrap()[1].contains("Subject: [nb] Recovery up Fagsystem"));

        // A new outage is a new incident; its escalation is dropped once the ticket is taken.
        let t1 = store.now_ms();
        store
            .record_state_changes(&[change(
                &monitor.id,
                t1,
                MonitorState::Up,
                MonitorState::Down,
            )])
            .await
            .unwrap();
        wait_for("the second outage's e-mail", async || {
            mail.lock().unwrap().len() == 3
        })
        .await;
        let ticket = store
            .get_monitor(&scope, &monitor.id)
            .await
            .unwrap()
            .ticket_id
            .unwrap();
        let technician = store
            .create_user(
                &scope,
                drifta_store::NewUser {
                    tenant_id: tenant.clone(),
                    username: format!("tekniker{}", &t1.to_string()[8..]),
                    email: "tekniker@fjordvik.no".into(),
                    display_name: "Tekniker".into(),
                    phone: String::new(),
                    language: None,
                    password_hash: None,
                },
            )
            .await
            .unwrap();
        store
            .set_grants(
                &scope,
                &technician.id,
                &[(tenant.clone(), drifta_core::Role::Technician)],
            )
            .await
            .unwrap();
        store
            .assign_ticket(&scope, &ticket, Some(&technician.id))
            .await
            .unwrap();
        clock.advance(jiff::SignedDuration::from_mins(16));
        wait_for("the escalation dropped", async || {
            store
                .list_outbox(&scope, None, 100)
                .await
                .unwrap()
                .iter()
                .any(|d| d.channel == "sms" && d.status == "cancelled")
        })
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            texts.lock().unwrap().len(),
            2,
            "{}: no SMS for a taken outage",
            db.label
        );
        sender.shutdown().await;
    }
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_reason_kept() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new("2026-11-30T08:00:00Z".parse().unwrap()));
        let store = db.store.clone().with_clock(clock.clone());
        let (tenant, scope) = municipality(&store).await;
        let (smtp_url, mail) = smtp_sink(true).await;
        let (gone_url, _) = http_sink(404).await;
        let (busy_url, busy) = http_sink(503).await;
        route(
            &store,
            &scope,
            &tenant,
            ["email", "drift@fjordvik.no", "down", "0"],
        )
        .await;
        route(
            &store,
            &scope,
            &tenant,
            ["webhook", &format!("{gone_url}/gone"), "down", "0"],
        )
        .await;
        route(
            &store,
            &scope,
            &tenant,
            ["webhook", &format!("{busy_url}/busy"), "down", "0"],
        )
        .await;
        let sms = route(&store, &scope, &tenant, ["sms", "+4591234567", "down", "0"]).await;
        let monitor = check(&store, &scope, &tenant, "Lønn").await;
        let mut config = AlertConfig::new("node-b", render());
        config.smtp = Some(SmtpConfig {
            url: smtp_url,
            from: "drift@provider.no".into(),
            extra_roots: Vec::new(),
        });
        // No SMS gateway configured.
        config.poll_every = Duration::from_millis(30);
        let sender = alerts::spawn(store.clone(), config).unwrap();
        store
            .record_state_changes(&[change(
                &monitor.id,
                store.now_ms(),
                MonitorState::Up,
                MonitorState::Down,
            )])
            .await
            .unwrap();
        let settled = async || {
            let rows = store.list_outbox(&scope, None, 100).await.unwrap();
            rows.len() == 4
                && rows
                    .iter()
                    .all(|d| d.status != "sending" && (d.status != "queued" || d.attempts == 1))
        };
        wait_for("first attempts", settled).await;
        let rows = store.list_outbox(&scope, None, 100).await.unwrap();
        let find = |channel: &str, target: &str| {
            rows.iter()
                .find(|d| d.channel == channel && d.target.contains(target))
                .unwrap_or_else(|| panic!("{channel} {target}: {rows:?}"))
                .clone()
        };
        let email = find("email", "fjordvik");
        assert_eq!(
            (email.status.as_str(), email.attempts),
            ("queued", 1),
            "{email:?}"
        );
        assert!(email.last_error.contains("451"), "{email:?}");
        assert_eq!(
            email.not_before,
            store.now_ms() + 30_000,
            "first retry after 30 s"
        );
        let gone = find("webhook", "/gone");
        assert_eq!(
            gone.status, "failed",
            "a 404 will not heal by waiting: {gone:?}"
        );
        assert!(gone.last_error.contains("404"), "{gone:?}");
        let busy_row = find("webhook", "/busy");
        assert_eq!(busy_row.status, "queued", "{busy_row:?}");
        assert!(busy_row.last_error.contains("503"), "{busy_row:?}");
        let sms_row = find("sms", "+4591234567");
        assert_eq!(sms_row.status, "failed");
        assert!(
            sms_row.last_error.contains("sms_gateway_url"),
            "{sms_row:?}"
        );
        assert!(mail.lock().unwrap().is_empty());

        // Time passes: the retries run, with growing waits, until the attempts run out.
        for _ in 0..12 {
            clock.advance(jiff::SignedDuration::from_hours(1));
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
        wait_for("retries exhausted", async || {
            let rows = store.list_outbox(&scope, None, 100).await.unwrap();
            rows.iter().all(|d| d.status == "failed")
        })
        .await;
        let rows = store.list_outbox(&scope, None, 100).await.unwrap();
        let busy_row = rows.iter().find(|d| d.target.contains("/busy")).unwrap();
        assert_eq!(
            busy_row.attempts,
            drifta_core::alert::MAX_ATTEMPTS,
            "{busy_row:?}"
        );
        assert_eq!(
            busy.lock().unwrap().len() as i64,
            drifta_core::alert::MAX_ATTEMPTS
        );
        let _ = sms;
        sender.shutdown().await;
    }
}

#[tokio::test]
async fn routes_are_scoped_validated_and_audited() {
    let db = drifta_store::testing::sqlite().await;
    let store = db.store.clone();
    let (tenant, scope) = municipality(&store).await;
    let (other, _) = municipality(&store).await;
    let id = route(
        &store,
        &scope,
        &tenant,
        ["email", "drift@fjordvik.no", "down", "0"],
    )
    .await;
    // A technician of another municipality sees none of it and cannot delete it.
    let outsider = drifta_core::Scope::new(
        drifta_core::Actor::system("outsider"),
        [(other, drifta_core::Role::Technician)],
    );
    assert!(store.list_alert_routes(&outsider).await.unwrap().is_empty());
    assert!(store.delete_alert_route(&outsider, &id).await.is_err());
    assert!(store.send_test_alert(&outsider, &id).await.is_err());
    assert_eq!(store.list_alert_routes(&scope).await.unwrap().len(), 1);
    // A test message is queued for the route and shows in the log.
    store.send_test_alert(&scope, &id).await.unwrap();
    let log = store.list_outbox(&scope, None, 10).await.unwrap();
    assert_eq!(
        (log[0].kind.as_str(), log[0].status.as_str()),
        ("test", "queued")
    );
    assert!(
        store
            .list_outbox(&outsider, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    store.delete_alert_route(&scope, &id).await.unwrap();
    assert!(store.list_alert_routes(&scope).await.unwrap().is_empty());
    let audit = store
        .list_audit(
            &scope,
            &drifta_store::AuditFilter {
                object_type: Some("alert_route".into()),
                limit: 50,
                ..drifta_store::AuditFilter::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<_> = audit
        .entries
        .iter()
        .filter(|r| r.object_type == "alert_route")
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(actions, ["delete", "test", "create"]);
}

#[tokio::test]
async fn heartbeats_alert_once_and_maintenance_silences_them() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new("2026-11-30T08:00:00Z".parse().unwrap()));
        let store = db.store.clone().with_clock(clock.clone());
        let (tenant, scope) = municipality(&store).await;
        route(
            &store,
            &scope,
            &tenant,
            ["email", "backup@fjordvik.no", "down", "0"],
        )
        .await;
        let (secret, monitor) = store
            .create_heartbeat(
                &scope,
                &tenant,
                "Nattlig backup",
                jiff::SignedDuration::from_hours(24),
                jiff::SignedDuration::from_hours(1),
            )
            .await
            .unwrap();
        let state = async || store.get_monitor(&scope, &monitor.id).await.unwrap().state;
        let alerts = async || {
            let mut rows: Vec<_> = store
                .list_outbox(&scope, Some(&monitor.id), 100)
                .await
                .unwrap()
                .into_iter()
                .map(|d| d.kind)
                .collect();
            rows.sort();
            rows
        };
        store
            .heartbeat_ping(&secret, drifta_store::PingOutcome::Success, "412 GB")
            .await
            .unwrap();

        // A maintenance window covers the night the backup fails to report: silence.
        let now = store.now_ms();
        store
            .create_maintenance(
                &scope,
                drifta_store::NewMaintenance {
                    tenant_id: tenant.clone(),
                    title: "Flytting av backupserver".into(),
                    target: drifta_store::MaintenanceTarget::Tenant,
                    schedule: drifta_store::MaintenanceSchedule::Once {
                        starts_at: now + 24 * 3_600_000,
                        ends_at: now + 27 * 3_600_000,
                    },
                },
            )
            .await
            .unwrap();
        clock.advance(jiff::SignedDuration::from_hours(25) + jiff::SignedDuration::from_mins(5));
        store.evaluate_heartbeats().await.unwrap();
        assert_eq!(state().await, "maintenance", "{}", db.label);
        assert!(alerts().await.is_empty(), "{}: silenced", db.label);
        let ticket = store
            .get_monitor(&scope, &monitor.id)
            .await
            .unwrap()
            .ticket_id;
        assert!(
            ticket.is_none(),
            "{}: no ticket during maintenance",
            db.label
        );

        // The window ends and the backup is still missing: now it is an outage, alerted once.
        clock.advance(jiff::SignedDuration::from_hours(2));
        store.evaluate_heartbeats().await.unwrap();
        store.evaluate_heartbeats().await.unwrap();
        assert_eq!(state().await, "down", "{}", db.label);
        assert_eq!(alerts().await, ["problem"], "{}", db.label);
        // A failure ping during the outage is the same incident.
        store
            .heartbeat_ping(&secret, drifta_store::PingOutcome::Fail, "exit 2")
            .await
            .unwrap();
        assert_eq!(alerts().await, ["problem"], "{}", db.label);
        // It reports again: one recovery (the problem alert was claimed by nobody yet,
        // so it is dropped instead of sending "down" after "up").
        store
            .heartbeat_ping(&secret, drifta_store::PingOutcome::Success, "398 GB")
            .await
            .unwrap();
        assert_eq!(state().await, "up", "{}", db.label);
        let statuses: Vec<_> = store
            .list_outbox(&scope, Some(&monitor.id), 100)
            .await
            .unwrap()
            .into_iter()
            .map(|d| (d.kind, d.status))
            .collect();
        assert_eq!(
            statuses,
            [("problem".to_string(), "cancelled".to_string())],
            "{}",
            db.label
        );
    }
}

async fn person(
    store: &Store,
    scope: &Scope,
    tenant: &TenantId,
    name: &str,
    role: drifta_core::Role,
) -> drifta_store::User {
    let user = store
        .create_user(
            scope,
            drifta_store::NewUser {
                tenant_id: tenant.clone(),
                username: format!("{name}{}", &TenantId::generate().as_str()[24..]),
                email: format!("{name}@fjordvik.no"),
                display_name: name.into(),
                phone: String::new(),
                language: Some(Language::Da),
                password_hash: None,
            },
        )
        .await
        .unwrap();
    store
        .set_grants(scope, &user.id, &[(tenant.clone(), role)])
        .await
        .unwrap();
    user
}

#[tokio::test]
async fn ticket_mail_threads_and_shows_its_delivery() {
    use drifta_core::ticket::{Level, TicketKind};
    for db in backends().await {
        let store = db.store.clone();
        let (tenant, admin) = municipality(&store).await;
        let (smtp_url, mail) = smtp_sink(false).await;
        let tech = person(
            &store,
            &admin,
            &tenant,
            "tekniker",
            drifta_core::Role::Technician,
        )
        .await;
        let teacher = person(
            &store,
            &admin,
            &tenant,
            "laerer",
            drifta_core::Role::Requester,
        )
        .await;
        let tech_scope = store.scope_for(&tech, "").await.unwrap();
        let ticket = store
            .create_ticket(
                &tech_scope,
                drifta_store::NewTicket {
                    tenant_id: tenant.clone(),
                    kind: TicketKind::Incident,
                    title: "Skriveren på lærerrommet".into(),
                    description: "Papirstopp".into(),
                    requester_id: Some(teacher.id.clone()),
                    location_id: None,
                    category: String::new(),
                    impact: Level::Low,
                    urgency: Level::Medium,
                    channel: "phone".into(),
                },
            )
            .await
            .unwrap();
        // Assigning to oneself tells nobody; the administrator assigning tells the technician.
        store
            .assign_ticket(&tech_scope, &ticket.id, Some(&tech.id))
            .await
            .unwrap();
        assert!(
            store
                .ticket_outbox(&admin, &ticket.id)
                .await
                .unwrap()
                .is_empty()
        );
        store.assign_ticket(&admin, &ticket.id, None).await.unwrap();
        store
            .assign_ticket(&admin, &ticket.id, Some(&tech.id))
            .await
            .unwrap();
        // An internal note tells nobody; a public reply tells the requester.
        store
            .add_comment(&tech_scope, &ticket.id, "Intern: bestill toner", false)
            .await
            .unwrap();
        store
            .add_comment(&tech_scope, &ticket.id, "Ny toner er på vei.", true)
            .await
            .unwrap();
        let queued = store.ticket_outbox(&admin, &ticket.id).await.unwrap();
        let summary: Vec<_> = queued
            .iter()
            .map(|m| (m.kind.as_str(), m.target.as_str(), m.status.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("ticket_assigned", tech.email.as_str(), "queued"),
                ("ticket_reply", teacher.email.as_str(), "queued"),
            ],
            "{}",
            db.label
        );
        assert!(
            queued[0]
                .monitor
                .starts_with(&format!("[#{}]", ticket.number))
        );

        let mut config = AlertConfig::new("node-mail", render());
        config.render_ticket = Some(Arc::new(
            |m: &drifta_core::notify::TicketMail, lang: Language| Rendered {
                subject: format!("[#{}] {} ({})", m.number, m.title, lang.code()),
                text: format!("{}: {}", m.actor, m.body),
            },
        ));
        config.smtp = Some(SmtpConfig {
            url: smtp_url,
            from: "Drifta <drift@nordkyst.no>".into(),
            extra_roots: Vec::new(),
        });
        config.poll_every = Duration::from_millis(30);
        let sender = alerts::spawn(store.clone(), config).unwrap();
        wait_for("both mails", async || mail.lock().unwrap().len() == 2).await;
        let root = format!("<ticket.{}@nordkyst.no>", ticket.id);
        for message in mail.lock().unwrap().iter() {
            assert!(
                message.contains(&format!("Subject: [#{}]", ticket.number)),
                "{message}"
            );
            assert!(
                message.contains(&format!("In-Reply-To: {root}")),
                "{message}"
            );
            assert!(
                message.contains(&format!("References: {root}")),
                "{message}"
            );
            assert!(message.contains("@nordkyst.no>"), "{message}");
            assert!(
                message.contains("(da)"),
                "the recipient's language: {message}"
            );
        }
        let reply = mail
            .lock()
            .unwrap()
            .iter()
            .find(|m| m.contains("laerer@"))
            .cloned()
            .unwrap();
        assert!(reply.contains("Ny toner er p"), "{reply}");
        wait_for("both marked sent", async || {
            store
                .ticket_outbox(&admin, &ticket.id)
                .await
                .unwrap()
                .iter()
                .all(|m| m.status == "sent")
        })
        .await;
        // The requester's own view carries no delivery log (it is staff-only).
        let teacher_scope = store.scope_for(&teacher, "").await.unwrap();
        assert!(
            store
                .ticket_outbox(&teacher_scope, &ticket.id)
                .await
                .unwrap()
                .is_empty()
        );
        sender.shutdown().await;
    }
}

#[tokio::test]
async fn the_sender_sweeps_for_sla_warnings_and_mails_them() {
    use drifta_core::ticket::{Level, TicketKind};
    for db in backends().await {
        // Tuesday 09:00 in Oslo: inside business hours.
        let clock = Arc::new(ManualClock::new("2026-11-24T08:00:00Z".parse().unwrap()));
        let store = db.store.clone().with_clock(clock.clone());
        let (tenant, admin) = municipality(&store).await;
        let (smtp_url, mail) = smtp_sink(false).await;
        // The only technician: the one who hears.
        person(
            &store,
            &admin,
            &tenant,
            "tekniker",
            drifta_core::Role::Technician,
        )
        .await;
        // P2: first response within one business hour. Nobody is assigned, so the
        // municipality's technician hears of the new ticket and, later, of the warning.
        let ticket = store
            .create_ticket(
                &admin,
                drifta_store::NewTicket {
                    tenant_id: tenant.clone(),
                    kind: TicketKind::Incident,
                    title: "Lønnssystemet".into(),
                    description: "Svarer ikke".into(),
                    requester_id: None,
                    location_id: None,
                    category: String::new(),
                    impact: Level::Medium,
                    urgency: Level::High,
                    channel: "phone".into(),
                },
            )
            .await
            .unwrap();
        clock.advance(jiff::SignedDuration::from_mins(50));
        let mut config = AlertConfig::new("node-sla", render());
        config.render_ticket = Some(Arc::new(
            |m: &drifta_core::notify::TicketMail, _: Language| Rendered {
                subject: format!("[#{}] {}", m.number, m.kind.as_str()),
                text: format!("{:?} {:?}", m.target, m.due_at),
            },
        ));
        config.smtp = Some(SmtpConfig {
            url: smtp_url,
            from: "Drifta <drift@nordkyst.no>".into(),
            extra_roots: Vec::new(),
        });
        config.poll_every = Duration::from_millis(30);
        let sender = alerts::spawn(store.clone(), config).unwrap();
        wait_for("the new-ticket mail and the warning", async || {
            mail.lock().unwrap().len() == 2
        })
        .await;
        let warning = mail
            .lock()
            .unwrap()
            .iter()
            .find(|m| m.contains("ticket_sla_warning"))
            .cloned()
            .unwrap_or_else(|| panic!("{}: no warning sent", db.label));
        assert!(
            warning.contains(&format!("Subject: [#{}]", ticket.number)),
            "{warning}"
        );
        assert!(warning.contains("tekniker@fjordvik.no"), "{warning}");
        assert!(
            warning.contains(&format!(
                "Some(Response) Some({})",
                ticket.response_due_at.unwrap()
            )),
            "{warning}"
        );
        // Both queued in the same (manual) instant, so in no set order.
        let mut kinds: Vec<_> = store
            .ticket_outbox(&admin, &ticket.id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.kind)
            .collect();
        kinds.sort();
        assert_eq!(kinds, ["ticket_new", "ticket_sla_warning"], "{}", db.label);
        sender.shutdown().await;
    }
}
