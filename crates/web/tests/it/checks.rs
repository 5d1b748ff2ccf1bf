//! Active checks and maintenance windows through the pages and the API, on both backends:
//! bad input answers with the field, nothing is written; scope hides other municipalities.

use crate::kb::tenant_id;
use crate::support::{api_token, client, servers, sign_in};
use drifta_core::Actor;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn checks_and_maintenance_through_the_pages() {
    for server in servers().await {
        let label = server.label;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let (tech, csrf) = sign_in(&server, "tekniker.nord").await;
        let post = |path: &str, form: Vec<(&str, &str)>| {
            let request = tech.post(server.url(path)).form(&form);
            async move { request.send().await.unwrap() }
        };
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("tenant", fjordvik.as_str()),
            ("name", "Intranett"),
            ("kind", "http"),
            ("url", "https://intranett.fjordvik.example/"),
            ("keyword", "Velkommen"),
            ("interval_secs", "60"),
            ("timeout_secs", "10"),
            ("retries", "2"),
        ];
        let res = post("/monitors/checks", form.clone()).await;
        assert_eq!(res.status(), 303, "{label}");
        let page = tech
            .get(server.url("/monitors"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Intranett"), "{label}");
        assert!(page.contains("intranett.fjordvik.example"), "{label}");

        // Bad input: the page says which field, and nothing is created.
        form[4] = ("url", "ftp://intranett");
        let res = post("/monitors/checks", form.clone()).await;
        assert_eq!(res.status(), 422, "{label}");
        let body = res.text().await.unwrap();
        assert!(body.contains("http:"), "{label}: {body}");
        form[4] = ("url", "https://intranett.fjordvik.example/");
        form[6] = ("interval_secs", "5");
        let res = post("/monitors/checks", form.clone()).await;
        assert_eq!(res.status(), 422, "{label}");
        assert!(res.text().await.unwrap().contains("20 seconds"), "{label}");

        let scope = server
            .store
            .installation_scope(Actor::system("t"))
            .await
            .unwrap();
        let checks: Vec<_> = server
            .store
            .list_monitors(&scope)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.kind == "http")
            .collect();
        assert_eq!(checks.len(), 1, "{label}: only the valid check exists");
        let id = checks[0].id.clone();

        // Pause and resume.
        let res = post(
            &format!("/monitors/{id}/pause"),
            vec![("csrf", csrf.as_str()), ("paused", "1")],
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            server.store.get_monitor(&scope, &id).await.unwrap().state,
            "paused"
        );
        post(
            &format!("/monitors/{id}/pause"),
            vec![("csrf", csrf.as_str()), ("paused", "0")],
        )
        .await;
        assert_eq!(
            server.store.get_monitor(&scope, &id).await.unwrap().state,
            "up"
        );

        // A weekly maintenance window for the municipality, then one with no weekday.
        let res = post(
            "/monitors/maintenance",
            vec![
                ("csrf", csrf.as_str()),
                ("tenant", fjordvik.as_str()),
                ("title", "Patch-tirsdag"),
                ("target", "tenant"),
                ("schedule", "weekly"),
                ("wd2", "1"),
                ("start_time", "22:00"),
                ("duration_minutes", "120"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303, "{label}");
        let res = post(
            "/monitors/maintenance",
            vec![
                ("csrf", csrf.as_str()),
                ("tenant", fjordvik.as_str()),
                ("title", "Uten dag"),
                ("target", "tenant"),
                ("schedule", "weekly"),
                ("start_time", "22:00"),
                ("duration_minutes", "120"),
            ],
        )
        .await;
        assert_eq!(res.status(), 422, "{label}");
        let windows = server.store.list_maintenance(&scope).await.unwrap();
        assert_eq!(windows.len(), 1, "{label}");
        let page = tech
            .get(server.url("/monitors"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Patch-tirsdag"), "{label}");
        assert!(page.contains("22:00"), "{label}");

        // Without a CSRF token nothing happens.
        let res = tech
            .post(server.url(&format!("/maintenance/{}/delete", windows[0].id)))
            .form(&[("csrf", "wrong")])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{label}");
        let res = post(
            &format!("/monitors/maintenance/{}/delete", windows[0].id),
            vec![("csrf", "wrong")],
        )
        .await;
        assert!(res.status().is_client_error(), "{label}");
        assert_eq!(
            server.store.list_maintenance(&scope).await.unwrap().len(),
            1
        );
        post(
            &format!("/monitors/maintenance/{}/delete", windows[0].id),
            vec![("csrf", csrf.as_str())],
        )
        .await;
        assert!(
            server
                .store
                .list_maintenance(&scope)
                .await
                .unwrap()
                .is_empty()
        );

        // The monitor's own page, and another municipality's technician cannot see it.
        let res = tech
            .get(server.url(&format!("/monitors/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains("Intranett"));
        let (dk, _) = sign_in(&server, "tekniker.dk").await;
        let res = dk
            .get(server.url(&format!("/monitors/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{label}");
        assert_eq!(
            client()
                .get(server.url(&format!("/monitors/{id}")))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
                / 100,
            3,
            "{label}: a visitor is sent to sign in"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn checks_and_maintenance_through_the_api() {
    for server in servers().await {
        let label = server.label;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let token = api_token(&server, "tekniker.nord").await;
        let api = client();
        let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
            let mut request = api
                .request(method, server.url(&format!("/api/v1{path}")))
                .bearer_auth(&token);
            if let Some(b) = body {
                request = request.json(&b);
            }
            async move { request.send().await.unwrap() }
        };
        let res = call(
            reqwest::Method::POST,
            "/monitors",
            Some(json!({
                "tenant_id": fjordvik, "name": "Sakssystem DB",
                "probe": { "kind": "tcp", "host": "db1.fjordvik.example", "port": 5432 },
                "interval_secs": 30, "retries": 1
            })),
        )
        .await;
        assert_eq!(res.status(), 201, "{label}");
        let monitor: Value = res.json().await.unwrap();
        let id = monitor["id"].as_str().unwrap().to_string();
        assert_eq!(monitor["kind"], "tcp");
        assert_eq!(monitor["period_secs"], 30);

        for (body, field) in [
            (
                json!({ "tenant_id": fjordvik, "name": "x", "probe": { "kind": "tcp", "host": "db1", "port": 0 } }),
                "probe.port",
            ),
            (
                json!({ "tenant_id": fjordvik, "name": "x", "probe": { "kind": "gopher" } }),
                "probe",
            ),
            (
                json!({ "tenant_id": fjordvik, "name": "x", "probe": { "kind": "icmp", "host": "db1" }, "interval_secs": 1 }),
                "interval",
            ),
            (
                json!({ "tenant_id": fjordvik, "name": "x", "probe": { "kind": "dns", "name": "x.no", "record": "A", "expected": "not-an-ip" } }),
                "probe.expected",
            ),
        ] {
            let res = call(reqwest::Method::POST, "/monitors", Some(body)).await;
            assert_eq!(res.status(), 422, "{label}: {field}");
            let problem: Value = res.json().await.unwrap();
            assert_eq!(problem["errors"][0]["field"], field, "{label}: {problem}");
        }
        let res = call(
            reqwest::Method::POST,
            "/monitors",
            Some(json!({ "name": 1 })),
        )
        .await;
        assert_eq!(res.status(), 400, "{label}: malformed body");

        let res = call(
            reqwest::Method::POST,
            &format!("/monitors/{id}/pause"),
            None,
        )
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["state"], "paused");
        let res = call(
            reqwest::Method::POST,
            &format!("/monitors/{id}/resume"),
            None,
        )
        .await;
        assert_eq!(res.json::<Value>().await.unwrap()["state"], "up");
        let res = call(
            reqwest::Method::GET,
            &format!("/monitors/{id}/history?hours=48"),
            None,
        )
        .await;
        assert_eq!(res.status(), 200);
        assert!(res.json::<Value>().await.unwrap()["items"].is_array());
        let res = call(
            reqwest::Method::GET,
            &format!("/monitors/{id}/history?hours=-1"),
            None,
        )
        .await;
        assert_eq!(res.status(), 422);

        let res = call(
            reqwest::Method::POST,
            "/maintenance",
            Some(json!({
                "tenant_id": fjordvik, "title": "Bytte av kjernesvitsj",
                "applies_to": "monitor", "target_id": id, "schedule": "once",
                "starts_at": "2026-12-01T22:00:00+01:00", "ends_at": "2026-12-02T02:00:00+01:00"
            })),
        )
        .await;
        assert_eq!(res.status(), 201, "{label}");
        let window: Value = res.json().await.unwrap();
        assert_eq!(window["target_name"], "Sakssystem DB");
        for (body, field) in [
            (
                json!({ "tenant_id": fjordvik, "title": "x", "schedule": "once", "starts_at": "tomorrow", "ends_at": "2026-12-02T02:00:00Z" }),
                "starts_at",
            ),
            (
                json!({ "tenant_id": fjordvik, "title": "x", "schedule": "once", "starts_at": "2026-12-02T02:00:00Z", "ends_at": "2026-12-01T02:00:00Z" }),
                "ends_at",
            ),
            (
                json!({ "tenant_id": fjordvik, "title": "x", "schedule": "weekly", "weekdays": [9], "start_time": "22:00", "duration_mins": 60 }),
                "weekdays",
            ),
            (
                json!({ "tenant_id": fjordvik, "title": "x", "applies_to": "location", "schedule": "weekly", "weekdays": [1], "start_time": "22:00", "duration_mins": 60 }),
                "target_id",
            ),
        ] {
            let res = call(reqwest::Method::POST, "/maintenance", Some(body)).await;
            assert_eq!(res.status(), 422, "{label}: {field}");
            let problem: Value = res.json().await.unwrap();
            assert_eq!(problem["errors"][0]["field"], field, "{label}: {problem}");
        }
        let list: Value = call(reqwest::Method::GET, "/maintenance", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{label}");

        // Another municipality's technician sees neither.
        let dk_token = api_token(&server, "tekniker.dk").await;
        let res = api
            .get(server.url(&format!("/api/v1/monitors/{id}")))
            .bearer_auth(&dk_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{label}");
        let res = api
            .delete(server.url(&format!(
                "/api/v1/maintenance/{}",
                window["id"].as_str().unwrap()
            )))
            .bearer_auth(&dk_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{label}");
        let res = call(
            reqwest::Method::DELETE,
            &format!("/maintenance/{}", window["id"].as_str().unwrap()),
            None,
        )
        .await;
        assert_eq!(res.status(), 204, "{label}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wall_puts_problems_first_and_streams_changes() {
    let config = drifta_web::WebConfig {
        live_poll: std::time::Duration::from_millis(100),
        ..drifta_web::WebConfig::default()
    };
    let server = crate::support::start_on(drifta_store::testing::sqlite().await, config).await;
    let fjordvik = tenant_id(&server, "fjordvik").await;
    let scope = server
        .store
        .installation_scope(Actor::system("t"))
        .await
        .unwrap();
    let tenant = drifta_core::TenantId::parse(&fjordvik).unwrap();
    let mut ids = Vec::new();
    for name in ["Aaa skole-wifi", "Zzz sakssystem"] {
        let m = server
            .store
            .create_check_monitor(
                &scope,
                drifta_store::NewCheck {
                    tenant_id: tenant.clone(),
                    name: name.into(),
                    kind: drifta_core::monitor::MonitorKind::Tcp,
                    probe: json!({ "kind": "tcp", "host": "192.0.2.1", "port": 443 }),
                    interval_secs: 60,
                    timeout_secs: 10,
                    retries: 2,
                    degraded_above_ms: None,
                    location_id: None,
                },
            )
            .await
            .unwrap();
        ids.push(m.id);
    }
    let (tech, _) = sign_in(&server, "tekniker.nord").await;
    let mut stream = tech.get(server.url("/live/monitors")).send().await.unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The engine finds the second one down.
    server
        .store
        .record_state_changes(&[drifta_store::StateChange {
            monitor_id: ids[1].clone(),
            at: server.store.now_ms(),
            from: drifta_core::monitor::MonitorState::Up,
            to: drifta_core::monitor::MonitorState::Down,
            reason: "connection refused".into(),
            announced: false,
        }])
        .await
        .unwrap();
    let mut seen = String::new();
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("event: changed") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        got,
        Ok(true),
        "no change event: {seen}; version now {:?}",
        server.store.monitors_version(&scope).await
    );

    let wall = tech
        .get(server.url("/wall"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let down = wall
        .find("Zzz sakssystem")
        .expect("the down monitor is on the wall");
    let up = wall
        .find("Aaa skole-wifi")
        .expect("the up monitor is on the wall");
    assert!(down < up, "problems first");
    assert!(wall.contains("connection refused"));
    // A technician of another municipality sees neither.
    let (dk, _) = sign_in(&server, "tekniker.dk").await;
    let wall = dk
        .get(server.url("/wall"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!wall.contains("Zzz sakssystem"));
}
