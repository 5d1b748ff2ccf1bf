//! Alert routes through the page and the API on both backends: each bad field is named and
//! nothing is written; a test alert shows in the delivery log; another municipality's
//! technician sees none of it.

use crate::kb::tenant_id;
use crate::support::{api_token, client, page, servers, sign_in};
use serde_json::{Value, json};

async fn installation(server: &crate::support::TestServer) -> drifta_core::Scope {
    server
        .store
        .installation_scope(drifta_core::Actor::system("test"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_routes_through_the_page() {
    for server in servers().await {
        let label = server.label;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let (tech, csrf) = sign_in(&server, "tekniker.nord").await;
        let post = |path: &str, form: Vec<(&str, &str)>| {
            let request = tech.post(server.url(path)).form(&form);
            async move { request.send().await.unwrap() }
        };
        let html = tech
            .get(server.url("/monitors/alerts"))
            .send()
            .await
            .unwrap();
        assert_eq!(html.status(), 200, "{label}");
        assert!(
            html.text().await.unwrap().contains("id=\"no-routes\""),
            "{label}"
        );

        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("tenant", fjordvik.as_str()),
            ("channel", "sms"),
            ("target", "912 34 567"),
            ("format", "generic"),
            ("threshold", "down"),
            ("delay_minutes", "30"),
            ("lang", "nb"),
        ];
        // A number without country code is refused with the reason.
        let res = post("/monitors/alerts", form.clone()).await;
        assert_eq!(res.status(), 422, "{label}");
        let body = res.text().await.unwrap();
        assert!(body.contains("country code"), "{label}: {body}");
        form[6] = ("delay_minutes", "9999");
        form[3] = ("target", "+47 912 34 567");
        let res = post("/monitors/alerts", form.clone()).await;
        assert_eq!(res.status(), 422, "{label}");
        assert!(res.text().await.unwrap().contains("1440"), "{label}");
        // Without the CSRF token nothing happens.
        let mut forged = form.clone();
        forged[0] = ("csrf", "forged");
        forged[6] = ("delay_minutes", "30");
        let res = post("/monitors/alerts", forged).await;
        assert_eq!(res.status(), 403, "{label}");
        assert!(
            server
                .store
                .list_alert_routes(&installation(&server).await)
                .await
                .unwrap()
                .is_empty(),
            "{label}: nothing written by bad input"
        );

        form[6] = ("delay_minutes", "30");
        let res = post("/monitors/alerts", form.clone()).await;
        assert_eq!(res.status(), 303, "{label}");
        let html = page(&tech, &server, "/monitors/alerts").await;
        assert!(html.contains("+4791234567"), "{label}");
        assert!(
            html.contains("after 30 min"),
            "{label}: the escalation delay is shown"
        );
        let routes = server
            .store
            .list_alert_routes(&installation(&server).await)
            .await
            .unwrap();
        let id = routes[0].id.clone();

        let res = post(
            &format!("/monitors/alerts/{id}/test"),
            vec![("csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(res.status(), 303, "{label}");
        let html = page(&tech, &server, "/monitors/alerts").await;
        assert!(
            html.contains("Test alert"),
            "{label}: the test shows in the log"
        );
        assert!(html.contains("delivery-queued"), "{label}");

        // Another municipality's technician cannot delete it, and sees nothing of it.
        let (dk, dk_csrf) = sign_in(&server, "tekniker.dk").await;
        let res = dk
            .post(server.url(&format!("/monitors/alerts/{id}/delete")))
            .form(&[("csrf", dk_csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{label}");
        let html = page(&dk, &server, "/monitors/alerts").await;
        assert!(!html.contains("+4791234567"), "{label}");

        let res = post(
            &format!("/monitors/alerts/{id}/delete"),
            vec![("csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(res.status(), 303, "{label}");
        assert!(
            server
                .store
                .list_alert_routes(&installation(&server).await)
                .await
                .unwrap()
                .is_empty(),
            "{label}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_routes_through_the_api() {
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
        for (body, field) in [
            (
                json!({ "tenant_id": fjordvik, "channel": "pigeon", "target": "x" }),
                "channel",
            ),
            (
                json!({ "tenant_id": fjordvik, "channel": "webhook", "target": "javascript:alert(1)" }),
                "target",
            ),
            (
                json!({ "tenant_id": fjordvik, "channel": "email", "target": "drift@fjordvik.no", "threshold": "up" }),
                "threshold",
            ),
            (
                json!({ "tenant_id": fjordvik, "channel": "email", "target": "drift@fjordvik.no", "lang": "sv" }),
                "lang",
            ),
        ] {
            let res = call(reqwest::Method::POST, "/alert-routes", Some(body)).await;
            assert_eq!(res.status(), 422, "{label}");
            let problem: Value = res.json().await.unwrap();
            assert_eq!(problem["errors"][0]["field"], field, "{label}: {problem}");
        }
        let res = call(
            reqwest::Method::POST,
            "/alert-routes",
            Some(json!({ "tenant_id": fjordvik, "channel": "webhook", "target": "https://chat.fjordvik.example/hooks/drift", "format": "teams", "threshold": "degraded" })),
        )
        .await;
        assert_eq!(res.status(), 201, "{label}");
        let created: Value = res.json().await.unwrap();
        assert_eq!(created["format"], "teams", "{label}");
        assert_eq!(
            created["lang"], "nb",
            "{label}: the municipality's language by default"
        );
        let id = created["id"].as_str().unwrap().to_string();
        let res = call(
            reqwest::Method::POST,
            &format!("/alert-routes/{id}/test"),
            None,
        )
        .await;
        assert_eq!(res.status(), 202, "{label}");
        let log: Value = call(reqwest::Method::GET, "/alerts", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(log["items"][0]["kind"], "test", "{label}: {log}");

        // Outside the scope: 404 like nothing, and nothing listed.
        let dk_token = api_token(&server, "tekniker.dk").await;
        let res = api
            .delete(server.url(&format!("/api/v1/alert-routes/{id}")))
            .bearer_auth(&dk_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{label}");
        let listed: Value = api
            .get(server.url("/api/v1/alert-routes"))
            .bearer_auth(&dk_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"], json!([]), "{label}");
        let res = call(
            reqwest::Method::DELETE,
            &format!("/alert-routes/{id}"),
            None,
        )
        .await;
        assert_eq!(res.status(), 204, "{label}");
    }
}

/// A public reply on the ticket page queues mail to the requester, and the ticket shows it
/// to staff with its state; an internal note sends nothing (the new ticket's mail to the
/// technicians is there from the start).
#[tokio::test(flavor = "multi_thread")]
async fn a_public_reply_is_mailed_and_its_state_shown_on_the_ticket() {
    for server in servers().await {
        let label = server.label;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let scope = installation(&server).await;
        let (teacher, _) = server
            .store
            .find_login("laerer.fjordvik")
            .await
            .unwrap()
            .unwrap();
        let ticket = server
            .store
            .create_ticket(
                &scope,
                drifta_store::NewTicket {
                    tenant_id: drifta_core::TenantId::parse(&fjordvik).unwrap(),
                    kind: drifta_core::ticket::TicketKind::Incident,
                    title: "Projektoren i 7B".into(),
                    description: "Ingen lyd".into(),
                    requester_id: Some(teacher.id.clone()),
                    location_id: None,
                    category: String::new(),
                    impact: drifta_core::ticket::Level::Low,
                    urgency: drifta_core::ticket::Level::Low,
                    channel: "phone".into(),
                },
            )
            .await
            .unwrap();
        let (tech, csrf) = sign_in(&server, "tekniker.nord").await;
        let path = format!("/tickets/{}", ticket.number);
        let res = tech
            .post(server.url(&format!("{path}/comment")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("body", "Sjekker kabelen"),
                ("internal", "1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");
        // The new ticket was mailed to the municipality's technicians; the note adds nothing.
        let kinds = async || {
            // As the alert sender does each round: new tickets' mail follows their opening.
            server.store.send_new_ticket_mail(100).await.unwrap();
            let mut kinds: Vec<String> = server
                .store
                .ticket_outbox(&scope, &ticket.id)
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.kind)
                .collect();
            kinds.dedup();
            kinds
        };
        assert_eq!(
            kinds().await,
            ["ticket_new"],
            "{label}: a note mails nobody"
        );
        let res = tech
            .post(server.url(&format!("{path}/comment")))
            .form(&[("csrf", csrf.as_str()), ("body", "Byttet kabel, prøv nå")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");
        assert_eq!(kinds().await, ["ticket_new", "ticket_reply"], "{label}");
        let html = page(&tech, &server, &path).await;
        assert!(html.contains("id=\"ticket-mail\""), "{label}");
        assert!(html.contains(&teacher.email), "{label}");
        assert!(html.contains("delivery-queued"), "{label}");
        // The teacher sees the reply, not the delivery log.
        let (portal, _) = sign_in(&server, "laerer.fjordvik").await;
        let html = page(&portal, &server, &path).await;
        assert!(html.contains("Byttet kabel"), "{label}");
        assert!(!html.contains("id=\"ticket-mail\""), "{label}");
    }
}
