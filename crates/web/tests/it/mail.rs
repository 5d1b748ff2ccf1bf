//! The e-mail intake's pages and API on both backends: provider administrators add, change
//! and remove mailboxes (the password goes in and never comes out), bad input is named
//! beside its field and writes nothing, and the intake log shows each person the messages of
//! their municipalities, with the raw message of mail that was not taken as a download.

use crate::kb::tenant_id;
use crate::support::{TestServer, api_token, client, page, servers, sign_in, stranger};
use drifta_core::{Actor, Language, Scope, TenantId};
use drifta_store::{Ingested, MailSecurity, MailboxJob, NewMailbox};
use drifta_web::Tr;
use serde_json::{Value, json};

const SECRET: &str = "Imap-Passord-7731";

async fn installation(server: &TestServer) -> Scope {
    server
        .store
        .installation_scope(Actor::system("test"))
        .await
        .unwrap()
}

/// What a poller would get for the mailbox (without opening its password).
pub async fn job(server: &TestServer, id: &str) -> MailboxJob {
    let m = server
        .store
        .mailbox(&installation(server).await, id)
        .await
        .unwrap();
    MailboxJob {
        id: m.id,
        tenant_id: m.tenant_id,
        shared: m.shared,
        name: m.name,
        address: m.address,
        host: m.host,
        port: u16::try_from(m.port).unwrap(),
        security: m.security,
        username: m.username,
        password: String::new(),
        folder: m.folder,
        poll_seconds: m.poll_seconds,
        created_at: 0,
    }
}

/// Takes one raw message in through `mailbox`, as the poller would.
pub async fn ingest(server: &TestServer, mailbox: &str, raw: &str) -> Ingested {
    // Each message a second after the one before, so the log's order is the order here.
    server.clock.advance(jiff::SignedDuration::from_secs(1));
    let job = job(server, mailbox).await;
    let bytes = raw.replace('\n', "\r\n").into_bytes();
    server
        .store
        .ingest_mail(
            &job,
            &bytes,
            drifta_core::mail::parse(&bytes, &Default::default()),
        )
        .await
        .unwrap()
}

/// The log row id of the newest message through `mailbox`.
pub async fn inbound_id(server: &TestServer, mailbox: &str) -> String {
    server
        .store
        .list_inbound_mail(&installation(server).await, false, 500)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.mailbox_id == mailbox)
        .map(|e| e.id)
        .unwrap_or_else(|| panic!("no log row of mailbox {mailbox}"))
}

/// A mailbox made through the store, as a provider administrator would.
pub async fn mailbox_via_store(
    server: &TestServer,
    tenant: &str,
    name: &str,
    routes: &[(&str, &str)],
) -> String {
    let new = NewMailbox {
        tenant_id: TenantId::parse(tenant).unwrap(),
        name: name.into(),
        address: String::new(),
        host: "imap.example.no".into(),
        port: 993,
        security: Some(MailSecurity::Tls),
        username: "intake".into(),
        password: SECRET.into(),
        folder: "INBOX".into(),
        poll_seconds: 60,
        enabled: true,
        routes: routes
            .iter()
            .map(|(p, t)| (p.to_string(), TenantId::parse(t).unwrap()))
            .collect(),
    };
    server
        .store
        .create_mailbox(&installation(server).await, &new)
        .await
        .unwrap()
        .id
}

async fn mailbox_count(server: &TestServer) -> usize {
    server
        .store
        .list_mailboxes(&installation(server).await)
        .await
        .unwrap()
        .len()
}

/// The password the store holds for a mailbox, opened as the poller opens it.
async fn stored_password(server: &TestServer, id: &str) -> String {
    let job = server
        .store
        .claim_mailbox("test-node", 60_000)
        .await
        .unwrap()
        .expect("the mailbox is due");
    assert_eq!(job.id, id);
    server
        .store
        .finish_mailbox_poll(&job.id, "test-node", job.poll_seconds, Ok(0))
        .await
        .unwrap();
    job.password
}

#[tokio::test(flavor = "multi_thread")]
async fn mailboxes_through_the_page() {
    for server in servers().await {
        let label = server.label;
        let provider = tenant_id(&server, "nordkyst").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        stranger(&server).await;
        let (admin, csrf) = sign_in(&server, "admin").await;
        let mut seen = Vec::new();

        let res = admin.get(server.url("/mail")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{label}");
        assert!(
            res.text().await.unwrap().contains("id=\"no-mailboxes\""),
            "{label}"
        );
        let form_html = page(&admin, &server, "/mail/new").await;
        assert!(
            form_html.contains(&provider),
            "{label}: the provider is a choice"
        );
        assert!(form_html.contains("type=\"password\""), "{label}");
        assert!(
            !form_html.contains("fremmedvik"),
            "{label}: only tenants the admin manages"
        );

        let good: Vec<(&str, &str)> = vec![
            ("csrf", csrf.as_str()),
            ("tenant", provider.as_str()),
            ("name", "Felles support"),
            ("address", "support@nordkyst.example"),
            ("host", "imap.nordkyst.example"),
            ("port", "993"),
            ("security", "tls"),
            ("username", "support@nordkyst.example"),
            ("password", SECRET),
            ("folder", "INBOX"),
            ("poll_seconds", "60"),
            ("enabled", "1"),
            (
                "routes",
                "fjordvik.kommune.no fjordvik\nlysberg.kommune.no Lysberg kommune\n",
            ),
        ];
        let with = |changes: &[(&'static str, &'static str)]| {
            let mut form = good.clone();
            for &(k, v) in changes {
                match form.iter_mut().find(|(key, _)| *key == k) {
                    Some(pair) => pair.1 = v,
                    None => form.push((k, v)),
                }
            }
            form
        };
        // Each bad field is named beside itself; nothing is written.
        for (changes, field) in [
            (vec![("port", "99999")], "port"),
            (vec![("port", "nine")], "port"),
            (vec![("security", "none")], "security"),
            (vec![("password", "")], "password"),
            (vec![("host", "https://imap.example.no/")], "host"),
            (vec![("poll_seconds", "5")], "poll_seconds"),
            (vec![("routes", "fremmedvik.no fremmedvik")], "routes"),
            (vec![("routes", "fjordvik.kommune.no")], "routes"),
            (vec![("routes", "not-a-domain fjordvik")], "routes"),
        ] {
            let res = admin
                .post(server.url("/mail"))
                .form(&with(&changes))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 422, "{label}: {changes:?}");
            let body = res.text().await.unwrap();
            assert!(
                body.contains(&format!("id=\"{field}-error\"")),
                "{label}: {changes:?}: {body}"
            );
            assert!(
                !body.contains(SECRET),
                "{label}: the password is not sent back"
            );
            seen.push(body);
        }
        // A municipality's own mailbox has no routes.
        let mut municipal = with(&[]);
        municipal[1] = ("tenant", fjordvik.as_str());
        let res = admin
            .post(server.url("/mail"))
            .form(&municipal)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{label}");
        let body = res.text().await.unwrap();
        assert!(body.contains("id=\"routes-error\""), "{label}");
        assert!(
            body.contains(&Tr::new(Language::Nb).t("err-routes-municipal-mailbox")),
            "{label}: translated: {body}"
        );
        // Without the CSRF token nothing happens.
        let mut forged = with(&[]);
        forged[0] = ("csrf", "forged");
        let res = admin
            .post(server.url("/mail"))
            .form(&forged)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{label}");
        let res = admin
            .post(server.url("/mail"))
            .form(&with(&[])[1..])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{label}: no token at all");
        assert_eq!(mailbox_count(&server).await, 0, "{label}: nothing written");

        let res = admin
            .post(server.url("/mail"))
            .form(&with(&[]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");
        let list = page(&admin, &server, "/mail?saved=1").await;
        assert!(list.contains("Felles support"), "{label}");
        assert!(list.contains("imap.nordkyst.example:993"), "{label}");
        assert!(
            list.contains("fjordvik.kommune.no → Fjordvik kommune"),
            "{label}"
        );
        assert!(
            list.contains("lysberg.kommune.no → Lysberg kommune"),
            "{label}"
        );
        seen.push(list);
        let id = server
            .store
            .list_mailboxes(&installation(&server).await)
            .await
            .unwrap()[0]
            .id
            .clone();
        assert_eq!(stored_password(&server, &id).await, SECRET, "{label}");

        // The edit form: the routes as they can be written again, never the password.
        let edit = page(&admin, &server, &format!("/mail/{id}")).await;
        assert!(edit.contains("id=\"password-keep\""), "{label}");
        assert!(edit.contains("fjordvik.kommune.no fjordvik"), "{label}");
        seen.push(edit);
        let mut changed = with(&[("name", "Felles brukerstøtte"), ("password", "")]);
        changed.retain(|(k, _)| *k != "tenant");
        let res = admin
            .post(server.url(&format!("/mail/{id}")))
            .form(&changed)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");
        assert_eq!(
            stored_password(&server, &id).await,
            SECRET,
            "{label}: an empty password keeps the stored one"
        );
        let mut bad = changed.clone();
        bad.retain(|(k, _)| *k != "port");
        bad.push(("port", "0"));
        let res = admin
            .post(server.url(&format!("/mail/{id}")))
            .form(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{label}");
        let body = res.text().await.unwrap();
        assert!(body.contains("id=\"port-error\""), "{label}");
        seen.push(body);

        // A failed read stands out on the list.
        server
            .store
            .finish_mailbox_poll(
                &id,
                "test-node",
                60,
                Err("login refused: AUTHENTICATIONFAILED".into()),
            )
            .await
            .unwrap();
        let list = page(&admin, &server, "/mail").await;
        assert!(list.contains("Felles brukerstøtte"), "{label}");
        assert!(list.contains("mailbox-error"), "{label}");
        assert!(list.contains("AUTHENTICATIONFAILED"), "{label}");
        seen.push(list);

        // A technician neither manages mailboxes nor reads them.
        let (tech, tech_csrf) = sign_in(&server, "tekniker.nord").await;
        for path in ["/mail", "/mail/new", &format!("/mail/{id}")] {
            let res = tech.get(server.url(path)).send().await.unwrap();
            assert_eq!(res.status(), 403, "{label}: {path}");
            let body = res.text().await.unwrap();
            assert!(!body.contains("Felles"), "{label}: {path}");
        }
        let mut theirs = with(&[]);
        theirs[0] = ("csrf", tech_csrf.as_str());
        let res = tech
            .post(server.url("/mail"))
            .form(&theirs)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{label}");
        let res = tech
            .post(server.url(&format!("/mail/{id}/delete")))
            .form(&[("csrf", tech_csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{label}");
        let monitors = page(&tech, &server, "/monitors").await;
        assert!(!monitors.contains("id=\"open-mail\""), "{label}");
        assert!(monitors.contains("href=\"/mail/log\""), "{label}");
        let monitors = page(&admin, &server, "/monitors").await;
        assert!(monitors.contains("id=\"open-mail\""), "{label}");

        // A municipality's own mailbox has no routes to edit, and keeps its password too.
        let own = mailbox_via_store(&server, &fjordvik, "Fjordvik IT", &[]).await;
        let edit = page(&admin, &server, &format!("/mail/{own}")).await;
        assert!(!edit.contains("id=\"mb-routes\""), "{label}");
        assert!(edit.contains("Fjordvik kommune"), "{label}");
        let res = admin
            .post(server.url(&format!("/mail/{own}")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("name", "Fjordvik IT-hjelp"),
                ("host", "imap.fjordvik.example"),
                ("port", "143"),
                ("security", "starttls"),
                ("username", "it"),
                ("folder", "Support"),
                ("poll_seconds", "300"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");
        let saved = server
            .store
            .mailbox(&installation(&server).await, &own)
            .await
            .unwrap();
        assert_eq!(saved.name, "Fjordvik IT-hjelp", "{label}");
        assert_eq!(saved.security, MailSecurity::Starttls, "{label}");
        assert!(!saved.enabled, "{label}: an unticked box disables it");
        server
            .store
            .delete_mailbox(&installation(&server).await, &own)
            .await
            .unwrap();

        // Delete: a confirm step, the token, then it is gone.
        let confirm = page(&admin, &server, &format!("/mail/{id}/delete")).await;
        assert!(confirm.contains("id=\"confirm-delete\""), "{label}");
        assert!(confirm.contains("Felles brukerstøtte"), "{label}");
        let res = admin
            .post(server.url(&format!("/mail/{id}/delete")))
            .form(&[("csrf", "forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{label}");
        assert_eq!(mailbox_count(&server).await, 1, "{label}");
        let res = admin
            .post(server.url(&format!("/mail/{id}/delete")))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");
        assert_eq!(mailbox_count(&server).await, 0, "{label}");
        let res = admin
            .get(server.url(&format!("/mail/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{label}");

        for body in seen {
            assert!(!body.contains(SECRET), "{label}: the password leaked");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mailboxes_through_the_api() {
    for server in servers().await {
        let label = server.label;
        let provider = tenant_id(&server, "nordkyst").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let (other_provider, fremmedvik) = stranger(&server).await;
        let token = api_token(&server, "admin").await;
        let api = client();
        let call = |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
            let mut request = api
                .request(method, server.url(&format!("/api/v1{path}")))
                .bearer_auth(token);
            if let Some(b) = body {
                request = request.json(&b);
            }
            async move { request.send().await.unwrap() }
        };
        let good = json!({
            "tenant_id": provider,
            "name": "Felles support",
            "address": "support@nordkyst.example",
            "host": "imap.nordkyst.example",
            "port": 993,
            "security": "starttls",
            "username": "support",
            "password": SECRET,
            "poll_seconds": 120,
            "routes": [{"pattern": "fjordvik.kommune.no", "tenant_id": fjordvik}],
        });
        let with = |changes: Value| {
            let mut body = good.clone();
            for (k, v) in changes.as_object().unwrap() {
                if v.is_null() {
                    body.as_object_mut().unwrap().remove(k);
                } else {
                    body[k] = v.clone();
                }
            }
            body
        };
        for (changes, field) in [
            (json!({"port": 70000}), "port"),
            (json!({"security": "none"}), "security"),
            (json!({"password": null}), "password"),
            (json!({"password": ""}), "password"),
            (
                json!({"routes": [{"pattern": "fremmedvik.no", "tenant_id": fremmedvik}]}),
                "routes",
            ),
            (json!({"tenant_id": fjordvik}), "routes"),
            (json!({"tenant_id": null}), "tenant_id"),
        ] {
            let res = call(
                reqwest::Method::POST,
                "/mailboxes",
                &token,
                Some(with(changes.clone())),
            )
            .await;
            assert_eq!(res.status(), 422, "{label}: {changes}");
            let problem: Value = res.json().await.unwrap();
            assert_eq!(
                problem["errors"][0]["field"], field,
                "{label}: {changes}: {problem}"
            );
        }
        // Another provider's tenant is not the admin's to add to.
        let res = call(
            reqwest::Method::POST,
            "/mailboxes",
            &token,
            Some(with(json!({"tenant_id": other_provider, "routes": []}))),
        )
        .await;
        assert!(res.status().is_client_error(), "{label}: {}", res.status());
        let res = call(
            reqwest::Method::POST,
            "/mailboxes",
            &token,
            Some(with(json!({"pasword": "typo"}))),
        )
        .await;
        assert_eq!(res.status(), 400, "{label}: unknown fields are refused");
        assert_eq!(mailbox_count(&server).await, 0, "{label}: nothing written");

        let res = call(
            reqwest::Method::POST,
            "/mailboxes",
            &token,
            Some(good.clone()),
        )
        .await;
        assert_eq!(res.status(), 201, "{label}");
        let text = res.text().await.unwrap();
        assert!(!text.contains(SECRET), "{label}: {text}");
        let created: Value = serde_json::from_str(&text).unwrap();
        assert!(created.get("password").is_none(), "{label}");
        assert_eq!(created["shared"], true, "{label}");
        assert_eq!(created["security"], "starttls", "{label}");
        assert_eq!(created["folder"], "INBOX", "{label}: the default folder");
        assert_eq!(
            created["routes"][0]["tenant_name"], "Fjordvik kommune",
            "{label}"
        );
        let id = created["id"].as_str().unwrap().to_string();

        for path in ["/mailboxes".to_string(), format!("/mailboxes/{id}")] {
            let res = call(reqwest::Method::GET, &path, &token, None).await;
            assert_eq!(res.status(), 200, "{label}: {path}");
            let text = res.text().await.unwrap();
            assert!(text.contains("Felles support"), "{label}: {path}");
            assert!(!text.contains(SECRET), "{label}: {path}");
        }
        let res = call(
            reqwest::Method::PUT,
            &format!("/mailboxes/{id}"),
            &token,
            Some(with(
                json!({"tenant_id": null, "password": null, "name": "Brukerstøtte", "routes": []}),
            )),
        )
        .await;
        assert_eq!(res.status(), 200, "{label}");
        let updated: Value = res.json().await.unwrap();
        assert_eq!(updated["name"], "Brukerstøtte", "{label}");
        assert_eq!(updated["routes"], json!([]), "{label}");
        assert_eq!(stored_password(&server, &id).await, SECRET, "{label}");
        let res = call(
            reqwest::Method::PUT,
            &format!("/mailboxes/{id}"),
            &token,
            Some(with(json!({"tenant_id": fjordvik}))),
        )
        .await;
        assert_eq!(res.status(), 422, "{label}: a mailbox cannot move");
        let res = call(
            reqwest::Method::PUT,
            &format!("/mailboxes/{id}"),
            &token,
            Some(with(json!({"port": 0}))),
        )
        .await;
        assert_eq!(res.status(), 422, "{label}");
        let unchanged: Value = call(
            reqwest::Method::GET,
            &format!("/mailboxes/{id}"),
            &token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(unchanged["port"], 993, "{label}: bad input changes nothing");
        assert_eq!(unchanged["name"], "Brukerstøtte", "{label}");

        // Outside the scope: 404 like nothing, and nothing listed.
        let foreign = mailbox_via_store(&server, &fremmedvik, "Fremmedvik", &[]).await;
        let tech = api_token(&server, "tekniker.nord").await;
        for (who, path) in [
            (&tech, format!("/mailboxes/{id}")),
            (&token, format!("/mailboxes/{foreign}")),
        ] {
            for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
                let res = call(method.clone(), &path, who, None).await;
                assert_eq!(res.status(), 404, "{label}: {method} {path}");
            }
            let res = call(
                reqwest::Method::PUT,
                &path,
                who,
                Some(with(json!({"tenant_id": null}))),
            )
            .await;
            assert_eq!(res.status(), 404, "{label}: PUT {path}");
        }
        let listed: Value = call(reqwest::Method::GET, "/mailboxes", &tech, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"], json!([]), "{label}");
        let listed: Value = call(reqwest::Method::GET, "/mailboxes", &token, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{label}");

        let res = call(
            reqwest::Method::DELETE,
            &format!("/mailboxes/{id}"),
            &token,
            None,
        )
        .await;
        assert_eq!(res.status(), 204, "{label}");
        assert_eq!(
            mailbox_count(&server).await,
            1,
            "{label}: only the foreign one"
        );
    }
}

const TICKET_MAIL: &str = "From: Kari Nordmann <kari@fjordvik.kommune.no>
To: support@nordkyst.example
Subject: Skriveren virker ikke
Message-ID: <m1@fjordvik.kommune.no>
Content-Type: text/plain; charset=utf-8

Skriveren på rådhuset skriver ikke ut.
";

const UNROUTED_MAIL: &str = "From: ukjent@et-annet-sted.example
To: support@nordkyst.example
Subject: Hvem er dere
Message-ID: <m2@et-annet-sted.example>
Content-Type: text/plain; charset=utf-8

Hei.
";

const BULK_MAIL: &str = "From: nyhetsbrev@leverandor.example
To: it@fjordvik.kommune.no
Subject: Nyhetsbrev mars
Message-ID: <m3@leverandor.example>
Precedence: bulk
List-Id: <nyheter.leverandor.example>
Content-Type: text/plain; charset=utf-8

Tilbud.
";

const NO_SENDER_MAIL: &str = "To: it@lysberg.kommune.no
Subject: Uten avsender
Message-ID: <m4@nowhere.example>
Content-Type: text/plain; charset=utf-8

Hvem sendte dette?
";

const FOREIGN_MAIL: &str = "From: someone@nowhere.example
Subject: Fremmed post
Message-ID: <m5@nowhere.example>
Content-Type: text/plain; charset=utf-8

x
";

#[tokio::test(flavor = "multi_thread")]
async fn the_intake_log_and_raw_downloads() {
    for server in servers().await {
        let label = server.label;
        let provider = tenant_id(&server, "nordkyst").await;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let lysberg = tenant_id(&server, "lysberg").await;
        let (other_provider, _) = stranger(&server).await;
        let shared = mailbox_via_store(
            &server,
            &provider,
            "Felles",
            &[("fjordvik.kommune.no", &fjordvik)],
        )
        .await;
        let fjordvik_box = mailbox_via_store(&server, &fjordvik, "Fjordvik IT", &[]).await;
        let lysberg_box = mailbox_via_store(&server, &lysberg, "Lysberg IT", &[]).await;
        let foreign_box = mailbox_via_store(&server, &other_provider, "Annen", &[]).await;

        let Ingested::Ticket { number, .. } = ingest(&server, &shared, TICKET_MAIL).await else {
            panic!("{label}: the routed mail opens a ticket");
        };
        let ticket_row = inbound_id(&server, &shared).await;
        assert_eq!(
            ingest(&server, &shared, UNROUTED_MAIL).await,
            Ingested::KeptAside {
                reason: "unrouted".into()
            },
            "{label}"
        );
        let unrouted = inbound_id(&server, &shared).await;
        assert_ne!(unrouted, ticket_row);
        assert_eq!(
            ingest(&server, &fjordvik_box, BULK_MAIL).await,
            Ingested::Ignored {
                reason: "bulk".into()
            },
            "{label}"
        );
        let bulk = inbound_id(&server, &fjordvik_box).await;
        assert_eq!(
            ingest(&server, &lysberg_box, NO_SENDER_MAIL).await,
            Ingested::KeptAside {
                reason: "no-sender".into()
            },
            "{label}"
        );
        let lysberg_row = inbound_id(&server, &lysberg_box).await;
        // The other provider's shared mailbox has no routes: its mail is kept aside there.
        assert_eq!(
            ingest(&server, &foreign_box, FOREIGN_MAIL).await,
            Ingested::KeptAside {
                reason: "unrouted".into()
            },
            "{label}"
        );
        let foreign_kept = inbound_id(&server, &foreign_box).await;

        // A technician of Fjordvik and Skjærvåg: Fjordvik's rows, nothing else.
        let (tech, _) = sign_in(&server, "tekniker.nord").await;
        let log = page(&tech, &server, "/mail/log").await;
        assert!(log.contains("Skriveren virker ikke"), "{label}");
        assert!(
            log.contains(&format!("href=\"/tickets/{number}\"")),
            "{label}"
        );
        assert!(log.contains(&format!("#{number}")), "{label}");
        assert!(log.contains("Nyhetsbrev mars"), "{label}");
        assert!(
            log.contains("Bulk mail or mailing list"),
            "{label}: English, the tech's language"
        );
        assert!(
            log.contains(&format!("/mail/inbound/{bulk}.eml")),
            "{label}"
        );
        assert!(
            !log.contains(&format!("/mail/inbound/{ticket_row}.eml")),
            "{label}: no raw kept for tickets"
        );
        for hidden in ["Hvem er dere", "Fremmed post"] {
            assert!(!log.contains(hidden), "{label}: {hidden}");
        }
        assert!(!log.contains(&format!("inbound-{lysberg_row}")), "{label}");
        assert!(!log.contains("id=\"open-mailboxes\""), "{label}");
        let problems = page(&tech, &server, "/mail/log?problems=1").await;
        assert!(problems.contains("Nyhetsbrev mars"), "{label}");
        assert!(!problems.contains("Skriveren virker ikke"), "{label}");

        let res = tech
            .get(server.url(&format!("/mail/inbound/{bulk}.eml")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{label}");
        assert_eq!(res.headers()["content-type"], "message/rfc822", "{label}");
        let disposition = res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            disposition.starts_with("attachment;"),
            "{label}: {disposition}"
        );
        assert!(disposition.contains(".eml"), "{label}: {disposition}");
        assert_eq!(
            res.bytes().await.unwrap().as_ref(),
            BULK_MAIL.replace('\n', "\r\n").as_bytes(),
            "{label}: the message as it came"
        );
        for (row, why) in [
            (&lysberg_row, "another municipality"),
            (&unrouted, "the provider's, for administrators"),
            (&foreign_kept, "another provider"),
            (&ticket_row, "no raw kept"),
        ] {
            let res = tech
                .get(server.url(&format!("/mail/inbound/{row}.eml")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404, "{label}: {why}");
        }
        let res = tech
            .get(server.url(&format!("/mail/inbound/{bulk}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{label}: only .eml");

        // The provider's administrator: every problem of the provider, in Norwegian.
        let nb = Tr::new(Language::Nb);
        let (admin, _) = sign_in(&server, "admin").await;
        let log = page(&admin, &server, "/mail/log?problems=1").await;
        for (row, reason) in [
            (&unrouted, "mail-reason-unrouted"),
            (&bulk, "mail-reason-bulk"),
            (&lysberg_row, "mail-reason-no-sender"),
        ] {
            assert!(log.contains(&format!("inbound-{row}")), "{label}: {reason}");
            assert!(log.contains(&nb.t(reason)), "{label}: {reason}");
        }
        assert!(log.contains("Hvem er dere"), "{label}");
        assert!(log.contains(&nb.t("mail-outcome-kept-aside")), "{label}");
        assert!(!log.contains("Fremmed post"), "{label}");
        assert!(log.contains("id=\"open-mailboxes\""), "{label}");
        let res = admin
            .get(server.url(&format!("/mail/inbound/{unrouted}.eml")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{label}");
        let res = admin
            .get(server.url(&format!("/mail/inbound/{foreign_kept}.eml")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{label}: another provider's row");

        // The same through the API.
        let api = client();
        let get = |path: String, token: String| {
            let request = api
                .get(server.url(&format!("/api/v1{path}")))
                .bearer_auth(token);
            async move { request.send().await.unwrap() }
        };
        let tech_token = api_token(&server, "tekniker.nord").await;
        let admin_token = api_token(&server, "admin").await;
        let items: Value = get(
            "/inbound-mail?problems=true&limit=50".into(),
            tech_token.clone(),
        )
        .await
        .json()
        .await
        .unwrap();
        let ids: Vec<&str> = items["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![bulk.as_str()], "{label}: {items}");
        let items: Value = get("/inbound-mail".into(), admin_token.clone())
            .await
            .json()
            .await
            .unwrap();
        let all = items["items"].as_array().unwrap();
        assert_eq!(all.len(), 4, "{label}: {items}");
        assert!(
            all.iter().all(|i| i["id"] != foreign_kept.as_str()),
            "{label}"
        );
        let ticket = all.iter().find(|i| i["id"] == ticket_row.as_str()).unwrap();
        assert_eq!(ticket["ticket_number"], number, "{label}");
        assert_eq!(ticket["outcome"], "ticket", "{label}");
        let res = get(format!("/inbound-mail/{unrouted}/raw"), admin_token.clone()).await;
        assert_eq!(res.status(), 200, "{label}");
        assert_eq!(res.headers()["content-type"], "message/rfc822", "{label}");
        assert!(
            res.text().await.unwrap().contains("Hvem er dere"),
            "{label}"
        );
        for (row, token) in [
            (&foreign_kept, &admin_token),
            (&unrouted, &tech_token),
            (&lysberg_row, &tech_token),
        ] {
            let res = get(format!("/inbound-mail/{row}/raw"), token.clone()).await;
            assert_eq!(res.status(), 404, "{label}: {row}");
        }
    }
}
