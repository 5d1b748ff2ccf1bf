use crate::kb::tenant_id;
use crate::support::{api_token, client, servers, start_on};
use drifta_store::testing::sqlite;
use drifta_web::WebConfig;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn tokens_authenticate_and_answer_within_scope() {
    for server in servers().await {
        let token = api_token(&server, "tekniker.dk").await;
        let c = client();
        let res = c
            .get(server.url("/api/v1/tenants"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        let names: Vec<&str> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{}: {names:?}", server.label);
        assert!(names.contains(&"Egeholm Kommune") && names.contains(&"Vindå Kommune"));

        let me: Value = c
            .get(server.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["username"], "tekniker.dk");

        let res = c.get(server.url("/api/v1/tenants")).send().await.unwrap();
        assert_eq!(res.status(), 401);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let res = c
            .get(server.url("/api/v1/tenants"))
            .bearer_auth("drifta_not_a_token")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn problems_for_bad_input_never_a_500() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let token = api_token(&server, "admin").await;
    let c = client();
    let get = |path: &str| c.get(server.url(path)).bearer_auth(&token).send();
    let res = get("/api/v1/tenants/not-a-uuid").await.unwrap();
    assert_eq!(res.status(), 400);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["status"], 400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not a valid id")
    );
    assert_eq!(
        get("/api/v1/tenants/01900000-0000-7000-8000-000000000000")
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(get("/api/v1/audit?before=abc").await.unwrap().status(), 422);
    assert_eq!(get("/api/v1/nothing-here").await.unwrap().status(), 404);

    let post = |body: &'static str| {
        c.post(server.url("/api/v1/users"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let res = post("{not json").await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["title"],
        "Malformed JSON"
    );
    let res = post(
        r#"{"tenant_id":"x","username":"a","email":"a@b.no","display_name":"A","colour":"red"}"#,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400, "unknown fields are refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn create_user_through_the_api() {
    for server in servers().await {
        let token = api_token(&server, "admin").await;
        let c = client();
        let tenants: Value = c
            .get(server.url("/api/v1/tenants"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let lysberg = tenants["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["slug"] == "lysberg")
            .unwrap()["id"]
            .clone();
        let body = json!({
            "tenant_id": lysberg, "username": "ola.api", "email": "ola@lysberg.example",
            "display_name": "Ola Api", "password": "lang nok passord",
            "grants": [{"tenant_id": lysberg, "role": "coordinator"}]
        });
        let res = c
            .post(server.url("/api/v1/users"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", server.label);
        let user: Value = res.json().await.unwrap();
        let fetched: Value = c
            .get(server.url(&format!("/api/v1/users/{}", user["id"].as_str().unwrap())))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(fetched["grants"][0]["role"], "coordinator");

        let mut same_name = body.clone();
        same_name["email"] = json!("other@lysberg.example");
        let res = c
            .post(server.url("/api/v1/users"))
            .bearer_auth(&token)
            .json(&same_name)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 409);
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "username");

        let mut weak = body.clone();
        weak["username"] = json!("ola.two");
        weak["email"] = json!("two@lysberg.example");
        weak["password"] = json!("short");
        let res = c
            .post(server.url("/api/v1/users"))
            .bearer_auth(&token)
            .json(&weak)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);

        // A technician may not create users.
        let tech = api_token(&server, "tekniker").await;
        let res = c
            .post(server.url("/api/v1/users"))
            .bearer_auth(&tech)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert_eq!(
            c.get(server.url("/api/v1/users"))
                .bearer_auth(&tech)
                .send()
                .await
                .unwrap()
                .status(),
            403
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_path_is_served() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let token = api_token(&server, "admin").await;
    let c = client();
    let doc: Value = c
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let tenants: Value = c
        .get(server.url("/api/v1/tenants"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let some_tenant = tenants["items"][1]["id"].as_str().unwrap().to_string();
    let me: Value = c
        .get(server.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ticket: Value = c
        .get(server.url("/api/v1/tickets?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let some_number = ticket["items"][0]["number"].to_string();
    // An article of our own, so /kb/{id} has something real to answer with.
    let res = c
        .post(server.url("/api/v1/kb"))
        .bearer_auth(&token)
        .json(&json!({"tenant_id": some_tenant, "title": "Dokumentert", "body_markdown": "*ja*"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let article: Value = res.json().await.unwrap();
    let res = c
        .post(server.url(&format!(
            "/api/v1/tickets/{some_number}/attachments?filename=logg.txt"
        )))
        .bearer_auth(&token)
        .body("feil i loggen")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let attachment: Value = res.json().await.unwrap();
    let res = c
        .post(server.url("/api/v1/monitors"))
        .bearer_auth(&token)
        .json(&json!({"tenant_id": some_tenant, "name": "Dokumentert sjekk", "probe": {"kind": "icmp", "host": "192.0.2.1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let monitor: Value = res.json().await.unwrap();
    let res = c
        .post(server.url("/api/v1/items"))
        .bearer_auth(&token)
        .json(&json!({"tenant_id": some_tenant, "item_type": "laptop", "name": "Dokumentert PC"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let item: Value = res.json().await.unwrap();
    // A shared mailbox and a message it kept aside, for the mailbox and its raw message.
    let provider = crate::kb::tenant_id(&server, "nordkyst").await;
    let mailbox = crate::mail::mailbox_via_store(&server, &provider, "Dokumentert", &[]).await;
    crate::mail::ingest(&server, &mailbox, "From: x@y.example\nSubject: s\n\nx\n").await;
    let inbound = crate::mail::inbound_id(&server, &mailbox).await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10);
    for (path, ops) in paths {
        let concrete = path
            .replace("/tenants/{id}", &format!("/tenants/{some_tenant}"))
            .replace(
                "/users/{id}",
                &format!("/users/{}", me["id"].as_str().unwrap()),
            )
            .replace("{number}", &some_number)
            .replace(
                "/reports/time",
                &format!("/reports/time?tenant={some_tenant}&month=2026-11"),
            )
            .replace(
                "/kb/{id}",
                &format!("/kb/{}", article["id"].as_str().unwrap()),
            )
            .replace(
                "/attachments/{id}",
                &format!("/attachments/{}", attachment["id"].as_str().unwrap()),
            )
            .replace(
                "/monitors/{id}",
                &format!("/monitors/{}", monitor["id"].as_str().unwrap()),
            )
            .replace(
                "/items/{id}",
                &format!("/items/{}", item["id"].as_str().unwrap()),
            )
            .replace(
                "/item-fields",
                &format!("/item-fields?tenant={some_tenant}"),
            )
            .replace("/mailboxes/{id}", &format!("/mailboxes/{mailbox}"))
            .replace("/inbound-mail/{id}", &format!("/inbound-mail/{inbound}"));
        if ops.get("get").is_some() {
            let res = c
                .get(server.url(&format!("/api/v1{concrete}")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "GET {path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tickets_through_the_api() {
    for server in servers().await {
        let tech = api_token(&server, "tekniker.nord").await;
        let teacher = api_token(&server, "laerer.fjordvik").await;
        let c = client();
        let tenants: Value = c
            .get(server.url("/api/v1/tenants"))
            .bearer_auth(&tech)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let fjordvik = tenants["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["slug"] == "fjordvik")
            .unwrap()["id"]
            .clone();
        let callers: Value = c
            .get(server.url("/api/v1/callers?q=sletta"))
            .bearer_auth(&tech)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let even = callers["items"][0]["id"].clone();

        let body = json!({"tenant_id": fjordvik, "title": "Nettet er nede på skolen", "impact": "high", "urgency": "high", "requester_id": even});
        let res = c
            .post(server.url("/api/v1/tickets"))
            .bearer_auth(&tech)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", server.label);
        let t: Value = res.json().await.unwrap();
        assert_eq!(t["priority"], "P1");
        assert_eq!(t["channel"], "api");
        assert!(t["resolution_due_at"].is_i64());
        let n = t["number"].as_i64().unwrap();

        let post = |path: String, token: String, body: Value| {
            let c = c.clone();
            let url = server.url(&path);
            async move {
                c.post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let res = post(
            format!("/api/v1/tickets/{n}/status"),
            tech.clone(),
            json!({"status": "closed"}),
        )
        .await;
        assert_eq!(
            res.status(),
            200,
            "a new ticket may be closed at once (spam, duplicates)"
        );
        let res = post(
            format!("/api/v1/tickets/{n}/status"),
            tech.clone(),
            json!({"status": "open"}),
        )
        .await;
        assert_eq!(res.status(), 422, "closed is final");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["code"], "status-transition");
        let res = post(
            format!("/api/v1/tickets/{n}/status"),
            tech.clone(),
            json!({"status": "sideways"}),
        )
        .await;
        assert_eq!(res.status(), 422);

        // The requester sees the ticket filed for them; a technician elsewhere does not.
        let mine: Value = c
            .get(server.url("/api/v1/tickets?status=any"))
            .bearer_auth(&teacher)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            mine["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["number"] == n)
        );
        let dk = api_token(&server, "tekniker.dk").await;
        assert_eq!(
            c.get(server.url(&format!("/api/v1/tickets/{n}")))
                .bearer_auth(&dk)
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(
            c.get(server.url("/api/v1/tickets/abc"))
                .bearer_auth(&dk)
                .send()
                .await
                .unwrap()
                .status(),
            400
        );

        // A requester files for themselves and may not act as staff.
        let res = post(
            "/api/v1/tickets".into(),
            teacher.clone(),
            json!({"tenant_id": fjordvik, "title": "Glemt passord til Visma"}),
        )
        .await;
        assert_eq!(res.status(), 201);
        let own: Value = res.json().await.unwrap();
        assert_eq!(own["requester_name"], "Even Sletta");
        let res = post(
            format!("/api/v1/tickets/{}/status", own["number"]),
            teacher.clone(),
            json!({"status": "resolved"}),
        )
        .await;
        assert_eq!(res.status(), 403);
        let res = post(
            format!("/api/v1/tickets/{}/comments", own["number"]),
            teacher.clone(),
            json!({"body": "Haster litt"}),
        )
        .await;
        assert_eq!(res.status(), 200);
        let res = post(
            format!("/api/v1/tickets/{}/time", own["number"]),
            tech.clone(),
            json!({"minutes": 5000}),
        )
        .await;
        assert_eq!(res.status(), 422);
        let res = post(
            format!("/api/v1/tickets/{}/time", own["number"]),
            tech.clone(),
            json!({"minutes": 12, "note": "reset"}),
        )
        .await;
        assert_eq!(res.status(), 204);
        let res = post(
            "/api/v1/tickets".into(),
            tech.clone(),
            json!({"tenant_id": fjordvik, "title": ""}),
        )
        .await;
        assert_eq!(res.status(), 422);
        let res = post(
            "/api/v1/tickets".into(),
            tech.clone(),
            json!({"tenant_id": fjordvik, "title": "x", "impact": "enormous"}),
        )
        .await;
        assert_eq!(res.status(), 422);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_lists_reads_and_creates_articles_within_scope() {
    for server in servers().await {
        let label = server.label;
        let c = client();
        let teacher = api_token(&server, "laerer.fjordvik").await;
        let tech = api_token(&server, "tekniker.dk").await;
        let egeholm = tenant_id(&server, "egeholm").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;

        let titles = |token: String, query: &'static str| {
            let c = c.clone();
            let url = server.url(&format!("/api/v1/kb{query}"));
            async move {
                let res = c.get(url).bearer_auth(token).send().await.unwrap();
                assert_eq!(res.status(), 200);
                let body: Value = res.json().await.unwrap();
                body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["title"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            titles(teacher.clone(), "").await,
            ["Slik kobler du til skolens Wi-Fi"],
            "{label}"
        );
        let dk = titles(tech.clone(), "?q=mitid").await;
        assert_eq!(dk, ["Sådan logger du på rådhusets pc'er med MitID"]);

        let res = c
            .post(server.url("/api/v1/kb"))
            .bearer_auth(&tech)
            .json(&json!({"tenant_id": egeholm, "title": "Kopimaskinen", "body_markdown": "Tryk **start**"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{label}");
        let created: Value = res.json().await.unwrap();
        assert_eq!(created["published"], false);
        assert_eq!(created["shared"], false);
        let id = created["id"].as_str().unwrap();
        let res = c
            .get(server.url(&format!("/api/v1/kb/{id}")))
            .bearer_auth(&tech)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.json::<Value>().await.unwrap()["body_markdown"],
            "Tryk **start**"
        );
        assert!(
            !titles(tech.clone(), "?published=true")
                .await
                .contains(&"Kopimaskinen".to_string())
        );
        // Out of scope and drafts answer 404 like missing ones.
        let res = c
            .get(server.url(&format!("/api/v1/kb/{id}")))
            .bearer_auth(&teacher)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        assert_eq!(res.headers()["content-type"], "application/problem+json");

        // Problems: a requester writing, a technician outside their municipalities, bad input.
        let res = c
            .post(server.url("/api/v1/kb"))
            .bearer_auth(&teacher)
            .json(&json!({"tenant_id": fjordvik, "title": "Tips"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        let res = c
            .post(server.url("/api/v1/kb"))
            .bearer_auth(&tech)
            .json(&json!({"tenant_id": fjordvik, "title": "Ikke min kommune"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        let res = c
            .post(server.url("/api/v1/kb"))
            .bearer_auth(&tech)
            .json(&json!({"tenant_id": egeholm, "title": "  "}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        assert_eq!(
            res.json::<Value>().await.unwrap()["errors"][0]["field"],
            "title"
        );
        let res = c
            .post(server.url("/api/v1/kb"))
            .bearer_auth(&tech)
            .json(&json!({"tenant_id": egeholm, "title": "X", "html": "<script>"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "unknown fields are refused");
        let res = c
            .get(server.url("/api/v1/kb?published=maybe"))
            .bearer_auth(&tech)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_changes_and_desk_settings_through_the_api() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let tech = api_token(&server, "tekniker").await;
    let admin = api_token(&server, "admin").await;
    let c = client();
    let list: Value = c
        .get(server.url("/api/v1/tickets"))
        .bearer_auth(&tech)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let numbers: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_i64().unwrap())
        .collect();
    let res = c
        .post(server.url("/api/v1/tickets/bulk"))
        .bearer_auth(&tech)
        .json(&json!({"numbers": [numbers[0], numbers[1], 999999], "assign_to_me": true, "tag": "uke-48"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["changed"].as_array().unwrap().len(), 2);
    assert_eq!(body["refused"][0]["number"], 999999);
    let tagged: Value = c
        .get(server.url("/api/v1/tickets?tag=uke-48&view=mine"))
        .bearer_auth(&tech)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tagged["items"].as_array().unwrap().len(), 2);

    let tenants: Value = c
        .get(server.url("/api/v1/tenants"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fjordvik = tenants["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "fjordvik")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut desk: Value = c
        .get(server.url(&format!("/api/v1/tenants/{fjordvik}/desk")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    desk["settings"]["closures"] = json!("2026-12-28\nnot a date");
    let res = c
        .put(server.url(&format!("/api/v1/tenants/{fjordvik}/desk")))
        .bearer_auth(&admin)
        .json(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "closures");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 2")
    );
    desk["settings"]["closures"] = json!("2026-12-28");
    let res = c
        .put(server.url(&format!("/api/v1/tenants/{fjordvik}/desk")))
        .bearer_auth(&admin)
        .json(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = c
        .put(server.url(&format!("/api/v1/tenants/{fjordvik}/desk")))
        .bearer_auth(&tech)
        .json(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ticket_list_filters_by_team_status_and_priority() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let tech = api_token(&server, "tekniker").await;
    let c = client();
    let list = |query: &'static str| {
        c.get(server.url(&format!("/api/v1/tickets?{query}")))
            .bearer_auth(&tech)
            .send()
    };
    let titles = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect()
    };
    let waiting: Value = list("status=waiting_supplier")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        titles(&waiting),
        ["Ny medarbejder skal have adgang til NemID/MitID-administration"]
    );
    let critical: Value = list("priority=P1").await.unwrap().json().await.unwrap();
    let items = critical["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|t| t["priority"] == "P1"), "{critical}");
    // The demo technician is in no team yet, so "my team" is empty rather than refused.
    let team = list("view=team").await.unwrap();
    assert_eq!(team.status(), 200);
    assert!(titles(&team.json().await.unwrap()).is_empty());
    for (query, field) in [
        ("priority=p9", "priority"),
        ("status=sideways", "status"),
        ("view=everyone", "view"),
    ] {
        let res = list(query).await.unwrap();
        assert_eq!(res.status(), 422, "{query}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
}
