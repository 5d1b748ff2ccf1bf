//! The monthly uptime report through the page, the CSV and the API, on both backends:
//! exact figures for October 2026 in Fjordvik (summer time ended on the 25th, so the month
//! is 745 hours), an outage running into November, bad input, and scope.

use crate::support::{STRANGER, TestServer, api_token, client, servers, sign_in, stranger};
use drifta_core::Actor;
use drifta_core::clock::ManualClock;
use drifta_core::monitor::{MonitorKind, MonitorState};
use drifta_store::{HourRow, NewCheck, StateChange};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::sync::Arc;

const MIN: i64 = 60_000;
const H: i64 = 3_600_000;

fn ms(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

/// Fjordvik's monitors with a known October 2026, written through a store whose clock
/// stands in September (so the monitors existed all month): an HTTP check with an hourly
/// history (one half hour down) and a heartbeat, down for the hour the clocks went back
/// (02:30 summer time to 02:30 winter time) and from 23:00 on 31 October to 02:00 on
/// 1 November. Returns the check's and the heartbeat's ids.
pub async fn seed_october(server: &TestServer) -> (String, String) {
    let clock = Arc::new(ManualClock::new(
        "2026-09-15T00:00:00Z".parse::<Timestamp>().unwrap(),
    ));
    let store = server.store.clone().with_clock(clock);
    let scope = store
        .installation_scope(Actor::system("test"))
        .await
        .unwrap();
    let fjordvik = store.find_tenant_by_slug(&scope, "fjordvik").await.unwrap();
    let check = store
        .create_check_monitor(
            &scope,
            NewCheck {
                tenant_id: fjordvik.id.clone(),
                name: "Sakssystem".into(),
                kind: MonitorKind::Http,
                probe: serde_json::json!({ "kind": "http", "url": "https://sak.fjordvik.example/" }),
                interval_secs: 60,
                timeout_secs: 10,
                retries: 2,
                degraded_above_ms: None,
                location_id: None,
            },
        )
        .await
        .unwrap();
    let (_, heartbeat) = store
        .create_heartbeat(
            &scope,
            &fjordvik.id,
            "Lønnskjøring-backup",
            SignedDuration::from_hours(24),
            SignedDuration::from_hours(1),
        )
        .await
        .unwrap();
    // October in Oslo: 22:00 UTC on 30 September to 23:00 UTC on 31 October.
    let (start, end) = (ms("2026-09-30T22:00:00Z"), ms("2026-10-31T23:00:00Z"));
    let rows: Vec<HourRow> = (0..(end - start) / H)
        .map(|i| {
            let hour = start + i * H;
            let half = hour == ms("2026-10-12T10:00:00Z");
            HourRow {
                monitor_id: check.id.clone(),
                hour,
                up_secs: if half { 1800 } else { 3600 },
                degraded_secs: 0,
                down_secs: if half { 1800 } else { 0 },
                maintenance_secs: 0,
                checks: 60,
                latency_p50: Some(100),
                latency_p95: Some(if half { 9000 } else { 200 }),
                minutes: vec![0; 600],
            }
        })
        .collect();
    assert_eq!(rows.len(), 745);
    store.write_monitor_hours(&rows).await.unwrap();
    use MonitorState::{Down, Up};
    for (id, from, to, at) in [
        (&check.id, Up, Down, "2026-10-12T10:00:00Z"),
        (&check.id, Down, Up, "2026-10-12T10:30:00Z"),
        (&heartbeat.id, Up, Down, "2026-10-25T00:30:00Z"),
        (&heartbeat.id, Down, Up, "2026-10-25T01:30:00Z"),
        (&heartbeat.id, Up, Down, "2026-10-31T22:00:00Z"),
        (&heartbeat.id, Down, Up, "2026-11-01T01:00:00Z"),
    ] {
        let change = StateChange {
            monitor_id: id.clone(),
            at: ms(at),
            from,
            to,
            reason: "test".into(),
            announced: false,
        };
        assert_eq!(store.record_state_changes(&[change]).await.unwrap(), 1);
    }
    (check.id, heartbeat.id)
}

async fn get(client: &reqwest::Client, server: &TestServer, path: &str) -> (u16, String) {
    let res = client.get(server.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_uptime_report_through_the_page_the_csv_and_the_api() {
    for server in servers().await {
        let label = server.label;
        let (check, heartbeat) = seed_october(&server).await;
        let (tech, _) = sign_in(&server, "tekniker.nord").await;

        // The monitors page links the report; without a month it shows the current one.
        let (_, monitors) = get(&tech, &server, "/monitors").await;
        assert!(monitors.contains("href=\"/monitors/report\""), "{label}");
        let (status, _) = get(&tech, &server, "/monitors/report").await;
        assert_eq!(status, 200, "{label}");

        let (status, page) = get(
            &tech,
            &server,
            "/monitors/report?month=2026-10&tenant=fjordvik",
        )
        .await;
        assert_eq!(status, 200, "{label}");
        assert!(page.contains("id=\"report-fjordvik\""), "{label}");
        assert!(
            !page.contains("id=\"report-skjaervag\""),
            "{label}: one municipality asked for"
        );
        let row = |id: &str| -> String {
            let start = page
                .find(&format!("id=\"row-{id}\""))
                .expect("the monitor's row");
            page[start..start + page[start..].find("</tr>").unwrap()].to_string()
        };
        let c = row(&check);
        assert!(c.contains("99.932\u{a0}%"), "{label}: {c}");
        assert!(c.contains("<td>30.0</td>"), "{label}: {c}");
        assert!(c.contains("<td>100</td><td>200</td>"), "{label}: {c}");
        let b = row(&heartbeat);
        assert!(b.contains("Lønnskjøring-backup"), "{label}: {b}");
        assert!(b.contains("99.731\u{a0}%"), "{label}: {b}");
        assert!(
            b.contains("<td>120.0</td>"),
            "{label}: 60 min at the DST change + 60 before midnight: {b}"
        );
        assert!(b.contains("<td>2</td><td>60.0</td>"), "{label}: {b}");
        assert!(
            page.contains("99.832\u{a0}%"),
            "{label}: the municipality's summary"
        );
        // Askama writes the links' `&` as `&#38;`.
        assert!(
            page.contains("report?month=2026-09&#38;tenant=fjordvik\" id=\"previous-month\""),
            "{label}: previous month"
        );
        assert!(
            page.contains("report?month=2026-11&#38;tenant=fjordvik\" id=\"next-month\""),
            "{label}: next month"
        );

        // Without a municipality: every one in the technician's view.
        let (_, all) = get(&tech, &server, "/monitors/report?month=2026-10").await;
        assert!(
            all.contains("id=\"report-fjordvik\"") && all.contains("id=\"report-skjaervag\""),
            "{label}"
        );
        assert!(!all.contains("id=\"report-egeholm\""), "{label}");

        // Bad input: a clear message and a 4xx, never a 500.
        for bad in ["2026-13", "abc", "2026-1", "9999-12"] {
            let (status, body) =
                get(&tech, &server, &format!("/monitors/report?month={bad}")).await;
            assert_eq!(status, 400, "{label}: {bad}");
            assert!(body.contains("id=\"month-error\""), "{label}: {bad}");
            assert!(
                body.contains("2026-11"),
                "{label}: the message shows the form of a month"
            );
        }
        for tenant in [
            "egeholm",
            "no-such-place",
            "01936b5e-0000-7000-8000-000000000000",
        ] {
            let (status, _) = get(
                &tech,
                &server,
                &format!("/monitors/report?month=2026-10&tenant={tenant}"),
            )
            .await;
            assert_eq!(status, 404, "{label}: {tenant}");
        }
        let (status, _) = get(&client(), &server, "/monitors/report").await;
        assert_eq!(status / 100, 3, "{label}: a visitor signs in first");

        // The CSV, for Excel: semicolons, a byte-order mark, a row per monitor and a summary.
        let res = tech
            .get(server.url("/monitors/report.csv?month=2026-10&tenant=fjordvik"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{label}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("drifta-uptime-fjordvik-2026-10.csv")
        );
        let csv = res.text().await.unwrap();
        assert!(csv.starts_with('\u{feff}'), "{label}");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4, "{label}: {csv}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("Fjordvik kommune;Sakssystem;")
                    && l.contains(";99.932;30.0;0.0;0.0;1;30.0;100;200")),
            "{label}: {csv}"
        );
        assert!(
            lines.iter().any(|l| l.contains(";Lønnskjøring-backup;")
                && l.contains(";99.731;120.0;0.0;0.0;2;60.0;;")),
            "{label}: {csv}"
        );
        assert!(lines[3].contains(";99.832;150.0;"), "{label}: {csv}");
        for bad in [
            "/monitors/report.csv?month=abc",
            "/monitors/report.csv?month=2026-10&tenant=egeholm",
        ] {
            let (status, _) = get(&tech, &server, bad).await;
            assert!(status == 400 || status == 404, "{label}: {bad}: {status}");
        }

        // The API: the same figures in milliseconds.
        let token = api_token(&server, "tekniker.nord").await;
        let api = |path: String, token: String| {
            let request = client().get(server.url(&path)).bearer_auth(token);
            async move {
                let res = request.send().await.unwrap();
                let status = res.status().as_u16();
                let kind = res.headers()["content-type"].to_str().unwrap().to_string();
                (status, kind, res.json::<Value>().await.unwrap())
            }
        };
        let (status, _, report) = api(
            "/api/v1/monitors/report?month=2026-10&tenant=fjordvik".into(),
            token.clone(),
        )
        .await;
        assert_eq!(status, 200, "{label}: {report}");
        assert_eq!(report["month"], "2026-10");
        let fjordvik = &report["municipalities"][0];
        assert_eq!(fjordvik["slug"], "fjordvik");
        assert_eq!(fjordvik["time_zone"], "Europe/Oslo");
        assert_eq!(
            fjordvik["ends_at"].as_i64().unwrap() - fjordvik["starts_at"].as_i64().unwrap(),
            745 * H
        );
        let monitor = |name: &str| {
            fjordvik["monitors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["name"] == name)
                .cloned()
                .unwrap()
        };
        let b = monitor("Lønnskjøring-backup");
        assert_eq!(b["kind"], "heartbeat");
        assert_eq!(b["uptime_percent"], 99.731, "{label}");
        assert_eq!(b["down_ms"], 120 * MIN);
        assert_eq!(b["up_ms"], 745 * H - 120 * MIN);
        assert_eq!(
            (b["outages"].as_i64(), b["longest_outage_ms"].as_i64()),
            (Some(2), Some(60 * MIN))
        );
        assert!(b["latency_p50_ms"].is_null());
        let c = monitor("Sakssystem");
        assert_eq!(
            (c["uptime_percent"].as_f64(), c["down_ms"].as_i64()),
            (Some(99.932), Some(30 * MIN))
        );
        assert_eq!(
            (c["latency_p50_ms"].as_i64(), c["latency_p95_ms"].as_i64()),
            (Some(100), Some(200)),
            "{label}: one slow hour is no month's p95"
        );
        assert_eq!(fjordvik["summary"]["uptime_percent"], 99.832);
        assert_eq!(fjordvik["summary"]["outages"], 3);

        // November gets the rest of the outage that began on 31 October, but not the outage.
        let (_, _, november) = api(
            format!(
                "/api/v1/monitors/report?month=2026-11&tenant={}",
                fjordvik["tenant_id"].as_str().unwrap()
            ),
            token.clone(),
        )
        .await;
        let b = november["municipalities"][0]["monitors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["monitor_id"] == heartbeat.as_str())
            .cloned()
            .unwrap();
        assert_eq!(
            (
                b["outages"].as_i64(),
                b["down_ms"].as_i64(),
                b["longest_outage_ms"].as_i64()
            ),
            (Some(0), Some(120 * MIN), Some(120 * MIN)),
            "{label}: {b}"
        );

        for (path, status_wanted) in [
            ("/api/v1/monitors/report?month=2026-13", 422),
            ("/api/v1/monitors/report?month=abc", 422),
            ("/api/v1/monitors/report?month=2026-10&tenant=egeholm", 404),
            ("/api/v1/monitors/report?month=2026-10&tenant=nowhere", 404),
        ] {
            let (status, kind, problem) = api(path.into(), token.clone()).await;
            assert_eq!(status, status_wanted, "{label}: {path}: {problem}");
            assert_eq!(kind, "application/problem+json", "{label}: {path}");
            if status == 422 {
                assert_eq!(problem["errors"][0]["field"], "month", "{label}: {problem}");
            }
        }
        let (status, _, _) = api("/api/v1/monitors/report".into(), "drifta_wrong".into()).await;
        assert_eq!(status, 401, "{label}");

        // Another technician of the same provider, and one of another provider, see nothing
        // of Fjordvik and are told it does not exist.
        let dk = api_token(&server, "tekniker.dk").await;
        let (_, _, theirs) = api("/api/v1/monitors/report?month=2026-10".into(), dk.clone()).await;
        let slugs: Vec<&str> = theirs["municipalities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["slug"].as_str().unwrap())
            .collect();
        assert_eq!(slugs, ["egeholm", "vindaa"], "{label}");
        let (status, _, _) = api(
            "/api/v1/monitors/report?month=2026-10&tenant=fjordvik".into(),
            dk,
        )
        .await;
        assert_eq!(status, 404, "{label}");

        stranger(&server).await;
        let other = api_token(&server, STRANGER).await;
        let (_, _, theirs) = api(
            "/api/v1/monitors/report?month=2026-10".into(),
            other.clone(),
        )
        .await;
        let municipalities = theirs["municipalities"].as_array().unwrap();
        assert_eq!(municipalities.len(), 1, "{label}: {theirs}");
        assert_eq!(municipalities[0]["slug"], "fremmedvik");
        assert!(municipalities[0]["monitors"].as_array().unwrap().is_empty());
        let (status, _, _) = api(
            "/api/v1/monitors/report?month=2026-10&tenant=fjordvik".into(),
            other,
        )
        .await;
        assert_eq!(status, 404, "{label}");
        let (web, _) = sign_in(&server, STRANGER).await;
        let (status, page) = get(&web, &server, "/monitors/report?month=2026-10").await;
        assert_eq!(status, 200, "{label}");
        assert!(page.contains("id=\"report-fremmedvik\""), "{label}");
        assert!(
            !page.contains("Sakssystem") && !page.contains("Fjordvik"),
            "{label}"
        );
        let (status, _) = get(
            &web,
            &server,
            "/monitors/report.csv?month=2026-10&tenant=fjordvik",
        )
        .await;
        assert_eq!(status, 404, "{label}");
    }
}
