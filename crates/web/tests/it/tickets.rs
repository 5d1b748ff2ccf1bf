use crate::support::{servers, sign_in, start_on};
use drifta_core::Actor;
use drifta_store::testing::sqlite;
use drifta_web::WebConfig;
use serde_json::Value;

async fn tenant_id(server: &crate::support::TestServer, slug: &str) -> String {
    let scope = server
        .store
        .installation_scope(Actor::system("t"))
        .await
        .unwrap();
    server
        .store
        .find_tenant_by_slug(&scope, slug)
        .await
        .unwrap()
        .id
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_technician_logs_a_call_and_works_the_ticket() {
    for server in servers().await {
        let (c, csrf) = sign_in(&server, "tekniker.nord").await;
        // Caller lookup by name letters and by phone digits, only in the technician's municipalities.
        let found: Value = c
            .get(server.url("/tickets/callers?q=even"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let caller = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "Even Sletta")
            .expect("caller found")
            .clone();
        assert_eq!(caller["location_name"], "Fjordvik skole");
        let by_phone: Value = c
            .get(server.url("/tickets/callers?q=400%2020%20002"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            by_phone["items"][0]["name"], "Even Sletta",
            "{}",
            server.label
        );
        let foreign: Value = c
            .get(server.url("/tickets/callers?q=lone"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            foreign["items"].as_array().unwrap().is_empty(),
            "a Vindå nurse is not this technician's caller"
        );

        let recent: Value = c
            .get(server.url(&format!(
                "/tickets/callers/{}/recent",
                caller["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            recent["items"].as_array().unwrap().len(),
            2,
            "the demo teacher has two tickets"
        );

        let res = c
            .post(server.url("/tickets"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("requester", caller["id"].as_str().unwrap()),
                ("tenant", caller["tenant_id"].as_str().unwrap()),
                ("location", caller["location_id"].as_str().unwrap()),
                ("title", "Smartboard i klasserom 2 er svart"),
                ("description", ""),
                ("kind", "incident"),
                ("impact", "medium"),
                ("urgency", "high"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{}", server.label);
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let page = c
            .get(server.url(&location))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Smartboard i klasserom 2 er svart") && page.contains("Even Sletta"));
        assert!(page.contains("P2"), "medium impact × high urgency is P2");
        let number = location
            .trim_start_matches("/tickets/")
            .split('?')
            .next()
            .unwrap()
            .to_string();

        // Work it: reply, an impossible status change, resolve.
        let post = |path: String, form: Vec<(&'static str, String)>| {
            let c = c.clone();
            let url = server.url(&path);
            async move { c.post(url).form(&form).send().await.unwrap() }
        };
        let res = post(
            format!("/tickets/{number}/comment"),
            vec![("csrf", csrf.clone()), ("body", "Vi ser på det nå.".into())],
        )
        .await;
        assert_eq!(res.status(), 303);
        let res = post(
            format!("/tickets/{number}/status"),
            vec![("csrf", csrf.clone()), ("status", "closed".into())],
        )
        .await;
        assert_eq!(
            res.status(),
            422,
            "the reply took the ticket up (open), and open tickets are resolved before closing"
        );
        let res = post(
            format!("/tickets/{number}/status"),
            vec![("csrf", csrf.clone()), ("status", "bogus".into())],
        )
        .await;
        assert_eq!(res.status(), 400);
        let res = post(
            format!("/tickets/{number}/time"),
            vec![
                ("csrf", csrf.clone()),
                ("minutes", "15".into()),
                ("billable", "1".into()),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        let res = post(
            format!("/tickets/{number}/status"),
            vec![("csrf", csrf.clone()), ("status", "resolved".into())],
        )
        .await;
        assert_eq!(res.status(), 303);
        let page = c
            .get(server.url(&format!("/tickets/{number}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Resolved") && page.contains("15 min (15 billable)"),
            "{}",
            server.label
        );

        let queue = c
            .get(server.url("/tickets?view=done"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(queue.contains("Smartboard"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_files_and_follows_only_their_own_requests() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let (c, csrf) = sign_in(&server, "laerer.fjordvik").await;
    let form = c
        .get(server.url("/tickets/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !form.contains("caller-search"),
        "requesters get the short form"
    );
    let fjordvik = tenant_id(&server, "fjordvik").await;
    let res = c
        .post(server.url("/tickets"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("tenant", fjordvik.as_str()),
            ("title", "Får ikke logget på Teams"),
            ("description", "Fra i morges"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let queue = c
        .get(server.url("/tickets"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(queue.contains("Får ikke logget på Teams"));
    assert!(queue.contains("Prosjektoren"), "their earlier demo ticket");
    assert!(
        !queue.contains("Skriveren i ekspedisjonen"),
        "the coordinator's ticket is not theirs"
    );

    // Another person's ticket number answers 404, as if it did not exist.
    let (admin, _) = sign_in(&server, "admin").await;
    let all = admin
        .get(server.url("/tickets"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let printer = crate::support::ticket_number_titled(&all, "Skriveren");
    let printer = printer.expect("printer ticket in the admin's queue");
    assert_eq!(
        c.get(server.url(&format!("/tickets/{printer}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.get(server.url("/tickets/abc"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // Requesters cannot change status; an empty title is refused with a message.
    let own = queue
        .split("<a href=\"/tickets/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let res = c
        .post(server.url(&format!("/tickets/{own}/status")))
        .form(&[("csrf", csrf.as_str()), ("status", "resolved")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = c
        .post(server.url("/tickets"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("tenant", fjordvik.as_str()),
            ("title", "  "),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"title-error\""));
    // And they never see caller lookup.
    let res = c
        .get(server.url("/tickets/callers?q=even"))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(body["items"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_marks_breached_slas() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let (c, _) = sign_in(&server, "tekniker").await;
    let before = c
        .get(server.url("/tickets"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!before.contains("sla sla-breached"));
    // Two weeks later every open demo ticket is overdue.
    server
        .clock
        .advance(jiff::SignedDuration::from_hours(24 * 14));
    let (c, _) = sign_in(&server, "tekniker").await;
    let after = c
        .get(server.url("/tickets"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        after.contains("sla sla-breached"),
        "breach marks in the queue: {after}"
    );
    assert!(
        after.contains("sla sla-paused"),
        "the waiting ticket shows as paused, not breached"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn search_finds_partial_words_and_respects_scope() {
    for server in servers().await {
        let (c, _) = sign_in(&server, "tekniker.nord").await;
        let page = c
            .get(server.url("/search?q=prosjektor"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Prosjektoren i klasserom 3"),
            "{}",
            server.label
        );
        let page = c
            .get(server.url("/search?q=trygghedsalarm"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("id=\"no-results\""),
            "Vindå's ticket is outside this technician's scope"
        );
        let res = c
            .get(server.url("/search?q=%22OR*%20(NEAR"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "operators are plain text, never a 500");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn monthly_time_report_and_csv_for_the_municipality() {
    for server in servers().await {
        let (tech, csrf) = sign_in(&server, "tekniker.nord").await;
        let queue = tech
            .get(server.url("/tickets"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let number =
            crate::support::ticket_number_titled(&queue, "Prosjektoren").expect("demo ticket");
        for (minutes, billable) in [("45", "1"), ("15", "")] {
            let mut form = vec![
                ("csrf", csrf.as_str()),
                ("minutes", minutes),
                ("note", "Fjernhjelp; \"byttet\" kabel"),
            ];
            if !billable.is_empty() {
                form.push(("billable", billable));
            }
            let res = tech
                .post(server.url(&format!("/tickets/{number}/time")))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 303);
        }
        let (coord, _) = sign_in(&server, "koordinator.fjordvik").await;
        let page = coord
            .get(server.url("/reports/time"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("1.00 timer, av dette 0.75 fakturerbare"),
            "{}: {page}",
            server.label
        );
        let csv_res = coord
            .get(server.url("/reports/time.csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(csv_res.status(), 200);
        assert!(
            csv_res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("drifta-time-fjordvik-")
        );
        let csv = csv_res.text().await.unwrap();
        assert!(
            csv.contains("\"Fjernhjelp; \"\"byttet\"\" kabel\""),
            "{csv}"
        );
        assert_eq!(csv.lines().count(), 3, "header and two entries");

        let egeholm = {
            let scope = server
                .store
                .installation_scope(drifta_core::Actor::system("t"))
                .await
                .unwrap();
            server
                .store
                .find_tenant_by_slug(&scope, "egeholm")
                .await
                .unwrap()
                .id
        };
        let res = coord
            .get(server.url(&format!("/reports/time?tenant={egeholm}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            404,
            "another municipality's hours are not theirs to see"
        );
        assert_eq!(
            coord
                .get(server.url("/reports/time?month=2026-13"))
                .send()
                .await
                .unwrap()
                .status(),
            400
        );
        let (teacher, _) = sign_in(&server, "laerer.fjordvik").await;
        assert_eq!(
            teacher
                .get(server.url("/reports/time"))
                .send()
                .await
                .unwrap()
                .status(),
            403
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn desk_settings_page_saves_and_names_the_bad_line() {
    let server = start_on(drifta_store::testing::sqlite().await, WebConfig::default()).await;
    let scope = server
        .store
        .installation_scope(drifta_core::Actor::system("t"))
        .await
        .unwrap();
    let fjordvik = server
        .store
        .find_tenant_by_slug(&scope, "fjordvik")
        .await
        .unwrap()
        .id;
    let (admin, csrf) = sign_in(&server, "admin").await;
    let page = admin
        .get(server.url(&format!("/tenants/{fjordvik}/desk")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"08:00-15:30\""), "defaults are shown");
    let mut form = vec![
        ("csrf", csrf.clone()),
        ("hours_mon", "08:00-15:30".to_string()),
        ("hours_tue", "08:00-15:30".into()),
        ("hours_wed", "08:00-15:30".into()),
        ("hours_thu", "08:00-15:30".into()),
        ("hours_fri", "08:00-14:00".into()),
        ("hours_sat", String::new()),
        ("hours_sun", String::new()),
        ("half_days", "12-24 12:00\n12-31 12:00".into()),
        ("closures", "2026-08-14 # personaldag\n2026-13-01".into()),
        ("response_p1", "30".into()),
        ("resolution_p1", "240".into()),
    ];
    let res = admin
        .post(server.url(&format!("/tenants/{fjordvik}/desk")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Lokale stengedager, linje 2"),
        "the message names the field and line"
    );
    form[9].1 = "2026-08-14 # personaldag".into();
    let res = admin
        .post(server.url(&format!("/tenants/{fjordvik}/desk")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = admin
        .get(server.url(&format!("/tenants/{fjordvik}/desk")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"08:00-14:00\"") && page.contains("2026-08-14 # personaldag"));

    let (tech, tech_csrf) = sign_in(&server, "tekniker").await;
    form[0].1 = tech_csrf;
    let res = tech
        .post(server.url(&format!("/tenants/{fjordvik}/desk")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (coord, _) = sign_in(&server, "koordinator.fjordvik").await;
    let page = coord
        .get(server.url(&format!("/tenants/{fjordvik}/desk")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("readonly") && !page.contains("id=\"save-desk\""),
        "coordinators read, not edit"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn live_stream_says_when_a_ticket_changes() {
    let config = WebConfig {
        live_poll: std::time::Duration::from_millis(100),
        ..WebConfig::default()
    };
    let server = start_on(drifta_store::testing::sqlite().await, config).await;
    let (watcher, _) = sign_in(&server, "tekniker.nord").await;
    let (worker, csrf) = sign_in(&server, "tekniker").await;
    let mut stream = watcher
        .get(server.url("/live/tickets"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // Let the stream take its first fingerprint, then change a ticket it shows.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let queue = worker
        .get(server.url("/tickets"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let number = crate::support::ticket_number_titled(&queue, "Prosjektoren").unwrap();
    let res = worker
        .post(server.url(&format!("/tickets/{number}/comment")))
        .form(&[("csrf", csrf.as_str()), ("body", "Vi kommer innom")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
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
    assert_eq!(got, Ok(true), "no change event: {seen}");

    // A change in a municipality the watcher does not serve says nothing.
    let (dk, dk_csrf) = sign_in(&server, "tekniker.dk").await;
    let mut quiet = watcher
        .get(server.url("/live/tickets"))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let dk_queue = dk
        .get(server.url("/tickets"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dk_number = dk_queue
        .split("<a href=\"/tickets/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    dk.post(server.url(&format!("/tickets/{dk_number}/comment")))
        .form(&[("csrf", dk_csrf.as_str()), ("body", "Hej")])
        .send()
        .await
        .unwrap();
    let heard = tokio::time::timeout(std::time::Duration::from_millis(800), async {
        let mut text = String::new();
        while let Some(chunk) = quiet.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains("event: changed") {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        heard.is_err() || heard == Ok(false),
        "changes outside the scope must not be announced"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_actions_tags_and_attachments_from_the_pages() {
    for server in servers().await {
        let (c, csrf) = sign_in(&server, "tekniker").await;
        let queue = c
            .get(server.url("/tickets"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let numbers: Vec<String> = queue
            .split("name=\"ticket\" value=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect();
        assert!(numbers.len() >= 5, "{}", server.label);
        let mut form = vec![
            ("csrf".to_string(), csrf.clone()),
            ("action".into(), "tag".into()),
            ("tag".into(), "Etterarbeid helg".into()),
            ("back".into(), "/tickets".into()),
        ];
        for n in &numbers[..3] {
            form.push(("ticket".into(), n.clone()));
        }
        let res = c
            .post(server.url("/tickets/bulk"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str().unwrap().to_string();
        assert!(location.contains("changed=3"), "{location}");
        let tagged = c
            .get(server.url("/tickets?tag=etterarbeid-helg"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            tagged.matches("name=\"ticket\"").count(),
            3,
            "{}",
            server.label
        );

        // Closing open tickets in bulk is refused per ticket, with the numbers listed.
        let mut close = vec![
            ("csrf".to_string(), csrf.clone()),
            ("action".into(), "status".into()),
            ("status".into(), "closed".into()),
        ];
        for n in &numbers[..3] {
            close.push(("ticket".into(), n.clone()));
        }
        let res = c
            .post(server.url("/tickets/bulk"))
            .form(&close)
            .send()
            .await
            .unwrap();
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let page = c
            .get(server.url(&location))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"notice\""), "{}", server.label);

        // Upload: needs the CSRF token, refuses executables, serves downloads as attachments.
        let n = &numbers[0];
        let upload = |token: &str, name: &str, bytes: Vec<u8>| {
            let form = reqwest::multipart::Form::new()
                .text("csrf", token.to_string())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
                );
            c.post(server.url(&format!("/tickets/{n}/attachments")))
                .multipart(form)
                .send()
        };
        let log = "Feil 0x80070005: tilgang nektet på C:\\Programfiler"
            .as_bytes()
            .to_vec();
        assert_eq!(
            upload("forged", "logg.txt", log.clone())
                .await
                .unwrap()
                .status(),
            403
        );
        assert_eq!(
            upload(&csrf, "app.exe", b"MZ\x90\x00\x03\x00\x00\x00".to_vec())
                .await
                .unwrap()
                .status(),
            422
        );
        assert_eq!(
            upload(&csrf, "logg.txt", log.clone())
                .await
                .unwrap()
                .status(),
            303
        );
        let page = c
            .get(server.url(&format!("/tickets/{n}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let href = page
            .split("<a href=\"/attachments/")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let res = c
            .get(server.url(&format!("/attachments/{href}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment; filename=\"logg.txt\"")
        );
        assert_eq!(res.bytes().await.unwrap().to_vec(), log);
        let (teacher, _) = sign_in(&server, "laerer.fjordvik").await;
        let status = teacher
            .get(server.url(&format!("/attachments/{href}")))
            .send()
            .await
            .unwrap()
            .status();
        assert!(
            status == 404,
            "{}: a requester who does not own the ticket cannot download",
            server.label
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn teams_watching_and_saved_views() {
    for server in servers().await {
        let (admin, csrf) = sign_in(&server, "admin").await;
        let scope = server
            .store
            .installation_scope(drifta_core::Actor::system("t"))
            .await
            .unwrap();
        let provider = server
            .store
            .find_tenant_by_slug(&scope, "nordkyst")
            .await
            .unwrap()
            .id;
        let res = admin
            .post(server.url("/admin/teams"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("provider", provider.as_str()),
                ("name", "Skole-team"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{}", server.label);
        let page = admin
            .get(server.url("/admin/teams"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let team_id = page
            .split("action=\"/admin/teams/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let (nord, _) = server
            .store
            .find_login("tekniker.nord")
            .await
            .unwrap()
            .unwrap();
        let res = admin
            .post(server.url(&format!("/admin/teams/{team_id}/members")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("user", nord.id.as_str()),
                ("add", "1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);

        let (tech, tcsrf) = sign_in(&server, "tekniker.nord").await;
        let queue = tech
            .get(server.url("/tickets"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(queue.contains("view=team"), "members get a 'my teams' view");
        let number = queue
            .split("name=\"ticket\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let res = tech
            .post(server.url(&format!("/tickets/{number}/team")))
            .form(&[("csrf", tcsrf.as_str()), ("team", team_id.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let res = tech
            .post(server.url(&format!("/tickets/{number}/watch")))
            .form(&[("csrf", tcsrf.as_str()), ("watch", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let page = tech
            .get(server.url(&format!("/tickets/{number}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("id=\"team\">Skole-team") && page.contains("id=\"watchers\">Mari Holtan"),
            "{}",
            server.label
        );
        let team_queue = tech
            .get(server.url("/tickets?view=team"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(team_queue.matches("name=\"ticket\"").count(), 1);

        let res = tech
            .post(server.url("/tickets/filters"))
            .form(&[
                ("csrf", tcsrf.as_str()),
                ("name", "Teamets saker"),
                ("query", "view=team&x=<b>"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/tickets?view=team");
        let queue = tech
            .get(server.url("/tickets"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(queue.contains(">Teamets saker</a>"));
        assert!(!queue.contains("<b>"));
        // Another person does not see it.
        let other = admin
            .get(server.url("/tickets"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!other.contains("Teamets saker"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_sets_its_own_priority_matrix() {
    let server = start_on(drifta_store::testing::sqlite().await, WebConfig::default()).await;
    let scope = server
        .store
        .installation_scope(drifta_core::Actor::system("t"))
        .await
        .unwrap();
    let provider = server
        .store
        .find_tenant_by_slug(&scope, "nordkyst")
        .await
        .unwrap()
        .id;
    let fjordvik = server
        .store
        .find_tenant_by_slug(&scope, "fjordvik")
        .await
        .unwrap()
        .id;
    let (admin, csrf) = sign_in(&server, "admin").await;
    let page = admin
        .get(server.url(&format!("/tenants/{provider}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"matrix-form\""));
    let mut form = vec![("csrf".to_string(), csrf.clone())];
    for impact in ["high", "medium", "low"] {
        for urgency in ["high", "medium", "low"] {
            form.push((format!("{impact}_{urgency}"), "p2".to_string()));
        }
    }
    let res = admin
        .post(server.url(&format!("/tenants/{provider}/matrix")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = admin
        .post(server.url("/tickets"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("tenant", fjordvik.as_str()),
            ("title", "Lav og lav"),
            ("impact", "low"),
            ("urgency", "low"),
        ])
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let page = admin
        .get(server.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("P2 høy"), "the provider's matrix decides");
    form[1].1 = "p9".into();
    let res = admin
        .post(server.url(&format!("/tenants/{provider}/matrix")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let (tech, tcsrf) = sign_in(&server, "tekniker").await;
    form[0].1 = tcsrf;
    form[1].1 = "p1".into();
    let res = tech
        .post(server.url(&format!("/tenants/{provider}/matrix")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn heartbeats_from_the_page_and_the_ping_url() {
    for server in servers().await {
        let (tech, csrf) = sign_in(&server, "tekniker.nord").await;
        let scope = server
            .store
            .installation_scope(drifta_core::Actor::system("t"))
            .await
            .unwrap();
        let fjordvik = server
            .store
            .find_tenant_by_slug(&scope, "fjordvik")
            .await
            .unwrap()
            .id;
        let bad = tech
            .post(server.url("/monitors"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("tenant", fjordvik.as_str()),
                ("name", "Backup"),
                ("period_minutes", "0"),
                ("grace_minutes", "5"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 422);
        let page = tech
            .post(server.url("/monitors"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("tenant", fjordvik.as_str()),
                ("name", "Nattlig backup"),
                ("period_minutes", "1440"),
                ("grace_minutes", "60"),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let url = page
            .split("<code id=\"heartbeat-url\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string();
        assert!(url.contains("/ping/hb_"), "{}", server.label);
        let path = url.split_once("/ping/").unwrap().1.to_string();

        let c = crate::support::client();
        assert_eq!(
            c.get(server.url(&format!("/ping/{path}")))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "OK\n"
        );
        assert_eq!(
            c.post(server.url(&format!("/ping/{path}/start")))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(
            c.get(server.url("/ping/hb_unknown"))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(
            c.get(server.url(&format!("/ping/{path}/sideways")))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        server.clock.advance(jiff::SignedDuration::from_mins(1));
        let res = c
            .post(server.url(&format!("/ping/{path}/fail")))
            .body("exit 2: disk full")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let huge = c
            .post(server.url(&format!("/ping/{path}")))
            .body(vec![b'x'; 64 * 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(huge.status(), 413, "payloads are small");

        let list = tech
            .get(server.url("/monitors"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            list.contains("monitor-down") && list.contains("disk full"),
            "{}",
            server.label
        );
        let queue = tech
            .get(server.url("/tickets"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            queue.contains("Nattlig backup: reported failure"),
            "the outage is in the queue"
        );
        // Another municipality's coordinator does not see it.
        let (dk, _) = sign_in(&server, "koordinator.egeholm").await;
        let theirs = dk
            .get(server.url("/monitors"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!theirs.contains("Nattlig backup"));
    }
}

/// The number of the queue row whose link text is `title`.
fn number_of(page: &str, title: &str) -> String {
    let before = &page[..page
        .find(&format!("\">{title}</a>"))
        .unwrap_or_else(|| panic!("{title} not in the queue"))];
    let href = before.rfind("/tickets/").unwrap();
    before[href + "/tickets/".len()..]
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_filters_by_status_and_priority_and_assigns_to_a_colleague() {
    for server in servers().await {
        let (c, csrf) = sign_in(&server, "tekniker").await;
        let page = |path: &'static str| {
            let c = c.clone();
            let url = server.url(path);
            async move { c.get(url).send().await.unwrap() }
        };
        let waiting = page("/tickets?status=waiting_requester")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            waiting.contains("Skriveren i ekspedisjonen skriver ut blanke ark"),
            "{}",
            server.label
        );
        assert!(!waiting.contains("Kan ikke logge inn i sak/arkiv"));
        assert!(waiting.contains("<option value=\"waiting_requester\" selected>"));

        let critical = page("/tickets?priority=p1").await.text().await.unwrap();
        let shown = critical.matches("class=\"prio prio-").count();
        assert!(shown > 0, "{}", server.label);
        assert_eq!(critical.matches("class=\"prio prio-p1\"").count(), shown);
        assert!(critical.contains("Kan ikke logge inn i sak/arkiv etter migreringen"));
        // Saving the view keeps the filter.
        let saved_query = critical
            .split("name=\"query\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        assert!(saved_query.ends_with("priority=p1"), "{saved_query}");

        for bad in ["/tickets?status=sideways", "/tickets?priority=p9"] {
            assert_eq!(page(bad).await.status(), 400, "{bad}");
        }

        // Bulk "assign to": Mari Holtan works Fjordvik and Skjærvåg, not Egeholm.
        let queue = page("/tickets").await.text().await.unwrap();
        let mari = queue
            .split("<option value=\"")
            .find(|o| o.contains("\">Mari Holtan</option>"))
            .and_then(|o| o.split('"').next())
            .expect("Mari Holtan offered for bulk assignment")
            .to_string();
        let fjordvik = number_of(&queue, "Skriveren i ekspedisjonen skriver ut blanke ark");
        let egeholm = number_of(
            &queue,
            "Ny medarbejder skal have adgang til NemID/MitID-administration",
        );
        let bulk = |assignee: String| {
            c.post(server.url("/tickets/bulk"))
                .form(&[
                    ("csrf", csrf.clone()),
                    ("action", "assign".into()),
                    ("assignee", assignee),
                    ("ticket", fjordvik.clone()),
                    ("ticket", egeholm.clone()),
                    ("back", "/tickets?view=all&priority=p4".into()),
                ])
                .send()
        };
        let res = bulk(mari).await.unwrap();
        assert_eq!(res.status(), 303, "{}", server.label);
        let location = res.headers()["location"].to_str().unwrap();
        assert_eq!(
            location,
            format!("/tickets?view=all&priority=p4&changed=1&refused={egeholm}")
        );
        let ticket = c
            .get(server.url(&format!("/tickets/{fjordvik}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            ticket.contains("selected>Mari Holtan</option>"),
            "{}",
            server.label
        );
        assert_eq!(bulk("not-an-id".into()).await.unwrap().status(), 400);
    }
}
