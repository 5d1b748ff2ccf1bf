//! The mail intake's store side: a message becomes a ticket or a reply exactly once, noise
//! and our own mail open nothing, a shared mailbox routes by sender, bad mail is kept aside.

use crate::support::{provider_with, unique, user_with};
use drifta_core::mail::{self, MailLimits};
use drifta_core::seal::SecretKey;
use drifta_core::{Role, Scope, TenantId};
use drifta_store::testing::backends;
use drifta_store::{Ingested, MailSecurity, MailboxJob, NewMailbox, Store, StoreError};

fn keyed(store: &Store) -> Store {
    store
        .clone()
        .with_secret_key(SecretKey::from_hex(&SecretKey::generate_hex()).unwrap())
}

fn mailbox_input(tenant: &TenantId) -> NewMailbox {
    NewMailbox {
        tenant_id: tenant.clone(),
        name: "Support".into(),
        address: "support@drift.example.no".into(),
        host: "imap.example.no".into(),
        port: 993,
        security: Some(MailSecurity::Tls),
        username: "support".into(),
        password: "imap-secret".into(),
        folder: "INBOX".into(),
        poll_seconds: 60,
        enabled: true,
        routes: Vec::new(),
    }
}

/// Creates a mailbox and claims it, as a poller would.
async fn job_for(store: &Store, scope: &Scope, new: NewMailbox) -> MailboxJob {
    let created = store.create_mailbox(scope, &new).await.unwrap();
    let job = store
        .claim_mailbox("node-a", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id, created.id);
    // Done with the lease: the next mailbox a test makes is the one claimed next.
    store
        .finish_mailbox_poll(&job.id, "node-a", 60, Ok(0))
        .await
        .unwrap();
    assert_eq!(
        job.password, "imap-secret",
        "the password is opened for the poller"
    );
    job
}

fn message(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Kari Nordmann <{from}>\r\nTo: support@drift.example.no\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Thu, 03 Dec 2026 08:00:00 +0100\r\n{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn ingest(store: &Store, job: &MailboxJob, raw: &[u8]) -> Ingested {
    store
        .ingest_mail(job, raw, mail::parse(raw, &MailLimits::default()))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_mail_becomes_one_ticket_with_a_new_contact_and_replies_thread_onto_it() {
    for db in backends().await {
        let store = keyed(&db.store);
        let (_, munis, scope) = provider_with(&store, 1).await;
        let job = job_for(&store, &scope, mailbox_input(&munis[0])).await;
        let tech = user_with(
            &store,
            &scope,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let sender = format!("{}@fjordvik.kommune.no", unique("kari"));
        let first = message(
            &sender,
            "Skriveren på rådhuset virker ikke",
            &format!("{}@mail.fjordvik.no", unique("m")),
            "",
            "Den blinker rødt.",
        );
        let Ingested::Ticket { ticket_id, number } = ingest(&store, &job, &first).await else {
            panic!("{}: expected a ticket", db.label);
        };
        let ticket = store.get_ticket(&scope, &ticket_id).await.unwrap();
        assert_eq!(ticket.number, number);
        assert_eq!(
            ticket.title, "Skriveren på rådhuset virker ikke",
            "{}",
            db.label
        );
        assert_eq!(ticket.description, "Den blinker rødt.");
        assert_eq!(ticket.channel, "email");
        let requester = ticket
            .requester_id
            .clone()
            .expect("a contact was made for the sender");
        let user = store.get_user(&scope, &requester).await.unwrap();
        assert_eq!(user.email, sender);
        assert_eq!(user.display_name, "Kari Nordmann");

        // The municipality's technician hears of the new ticket; the sender does not.
        store.send_new_ticket_mail(100).await.unwrap();
        let told = store.ticket_outbox(&scope, &ticket_id).await.unwrap();
        assert!(
            told.iter()
                .any(|m| m.kind == "ticket_new" && m.target == tech.email),
            "{}: {told:?}",
            db.label
        );
        assert!(told.iter().all(|m| m.target != sender));

        // The same message again (a crash before it was marked): nothing new.
        assert_eq!(
            ingest(&store, &job, &first).await,
            Ingested::Duplicate,
            "{}",
            db.label
        );

        // A reply by the ticket reference in the subject.
        let reply = message(
            &sender,
            &format!("SV: [#{number}] Skriveren"),
            &format!("{}@mail.fjordvik.no", unique("r")),
            "",
            "Den virker nå.",
        );
        assert_eq!(
            ingest(&store, &job, &reply).await,
            Ingested::Reply {
                ticket_id: ticket_id.clone(),
                number
            },
            "{}",
            db.label
        );
        // A reply by In-Reply-To naming the ticket's thread root.
        let threaded = message(
            &sender,
            "Re: noe annet",
            &format!("{}@mail.fjordvik.no", unique("t")),
            &format!("In-Reply-To: <ticket.{ticket_id}@drift.example.no>\r\n"),
            "Takk!",
        );
        assert!(matches!(
            ingest(&store, &job, &threaded).await,
            Ingested::Reply { .. }
        ));
        let t = store.get_ticket(&scope, &ticket_id).await.unwrap();
        let events = store.ticket_events(&scope, &t).await.unwrap();
        let replies: Vec<&str> = events
            .iter()
            .filter(|e| e.kind == "reply")
            .map(|e| e.body.as_str())
            .collect();
        assert_eq!(replies, ["Den virker nå.", "Takk!"], "{}", db.label);
        // The second mail reused the contact made for the first.
        let again = store.get_ticket(&scope, &ticket_id).await.unwrap();
        assert_eq!(again.requester_id, Some(requester));

        let log = store.list_inbound_mail(&scope, false, 50).await.unwrap();
        let outcomes: Vec<&str> = log.iter().map(|e| e.outcome.as_str()).collect();
        assert_eq!(outcomes.iter().filter(|o| **o == "ticket").count(), 1);
        assert_eq!(outcomes.iter().filter(|o| **o == "reply").count(), 2);
    }
}

#[tokio::test]
async fn noise_our_own_mail_and_floods_open_nothing_but_are_kept() {
    for db in backends().await {
        let store = keyed(&db.store);
        let (_, munis, scope) = provider_with(&store, 1).await;
        let job = job_for(&store, &scope, mailbox_input(&munis[0])).await;
        let sender = format!("{}@fjordvik.kommune.no", unique("ola"));
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                message(
                    &sender,
                    "Fravær",
                    &unique("a"),
                    "Auto-Submitted: auto-replied\r\n",
                    "Jeg er borte.",
                ),
                "auto-reply",
            ),
            (
                message(
                    &sender,
                    "Nyhetsbrev",
                    &unique("b"),
                    "Precedence: bulk\r\n",
                    "Tilbud",
                ),
                "bulk",
            ),
            (
                message("support@drift.example.no", "Løkke", &unique("c"), "", "x"),
                "own",
            ),
        ];
        for (raw, reason) in &cases {
            assert_eq!(
                ingest(&store, &job, raw).await,
                Ingested::Ignored {
                    reason: reason.to_string()
                },
                "{}",
                db.label
            );
        }
        let ignored = store.list_inbound_mail(&scope, true, 50).await.unwrap();
        assert_eq!(ignored.len(), 3, "{}", db.label);
        let (entry, raw) = store
            .inbound_mail_raw(&scope, &ignored[0].id)
            .await
            .unwrap();
        assert!(entry.has_raw);
        assert!(
            String::from_utf8_lossy(&raw).contains("Subject:"),
            "the raw mail is kept"
        );

        // A flood from one sender: past the hourly limit, mail is set aside.
        let flooder = format!("{}@fjordvik.kommune.no", unique("flom"));
        let mut tickets = 0;
        let mut limited = 0;
        for i in 0..(drifta_store::MAX_MAILS_PER_SENDER_HOUR + 3) {
            match ingest(
                &store,
                &job,
                &message(&flooder, &format!("Melding {i}"), &unique("f"), "", "hei"),
            )
            .await
            {
                Ingested::Ticket { .. } => tickets += 1,
                Ingested::Ignored { reason } if reason == "rate-limited" => limited += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            tickets,
            drifta_store::MAX_MAILS_PER_SENDER_HOUR,
            "{}",
            db.label
        );
        assert_eq!(limited, 3);
    }
}

#[tokio::test]
async fn bad_mail_is_kept_aside_with_its_reason_and_never_twice() {
    for db in backends().await {
        let store = keyed(&db.store);
        let (_, munis, scope) = provider_with(&store, 1).await;
        let job = job_for(&store, &scope, mailbox_input(&munis[0])).await;
        let no_from = b"Subject: hei\r\nMessage-ID: <x1@y>\r\n\r\nbody\r\n".to_vec();
        let outcome = ingest(&store, &job, &no_from).await;
        assert_eq!(
            outcome,
            Ingested::KeptAside {
                reason: "no-sender".into()
            },
            "{}",
            db.label
        );
        assert_eq!(ingest(&store, &job, &no_from).await, Ingested::Duplicate);
        let garbage: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8).collect();
        assert!(matches!(
            ingest(&store, &job, &garbage).await,
            Ingested::KeptAside { .. }
        ));
        let log = store.list_inbound_mail(&scope, true, 50).await.unwrap();
        assert_eq!(log.len(), 2, "{}", db.label);
        assert!(log.iter().all(|e| e.outcome == "kept_aside" && e.has_raw));
        let mut kept = Vec::new();
        for entry in &log {
            kept.push(store.inbound_mail_raw(&scope, &entry.id).await.unwrap().1);
        }
        assert!(
            kept.contains(&no_from) && kept.contains(&garbage),
            "{}: both kept whole",
            db.label
        );
    }
}

#[tokio::test]
async fn a_shared_mailbox_routes_by_sender_and_keeps_the_unknown_aside() {
    for db in backends().await {
        let store = keyed(&db.store);
        let (provider, munis, scope) = provider_with(&store, 2).await;
        let mut input = mailbox_input(&provider);
        input.routes = vec![
            ("fjordvik.kommune.no".into(), munis[0].clone()),
            ("@bergli.kommune.no".into(), munis[1].clone()),
            ("rektor@fjordvik.kommune.no".into(), munis[1].clone()),
        ];
        let job = job_for(&store, &scope, input).await;
        assert!(job.shared);
        let to = |sender: &str| message(sender, "Hjelp", &unique("s"), "", "tekst");
        for (sender, tenant) in [
            (format!("{}@fjordvik.kommune.no", unique("a")), &munis[0]),
            (
                format!("{}@skole.bergli.kommune.no", unique("b")),
                &munis[1],
            ),
            ("rektor@fjordvik.kommune.no".to_string(), &munis[1]),
        ] {
            let Ingested::Ticket { ticket_id, .. } = ingest(&store, &job, &to(&sender)).await
            else {
                panic!("{}: {sender} opened no ticket", db.label);
            };
            assert_eq!(
                &store
                    .get_ticket(&scope, &ticket_id)
                    .await
                    .unwrap()
                    .tenant_id,
                tenant,
                "{sender}"
            );
        }
        // A known user of a municipality is routed there even without a route.
        let known = user_with(
            &store,
            &scope,
            &munis[1],
            &[(munis[1].clone(), Role::Requester)],
        )
        .await;
        let Ingested::Ticket { ticket_id, .. } = ingest(&store, &job, &to(&known.email)).await
        else {
            panic!("known user");
        };
        let ticket = store.get_ticket(&scope, &ticket_id).await.unwrap();
        assert_eq!(ticket.tenant_id, munis[1]);
        assert_eq!(
            ticket.requester_id.as_ref(),
            Some(&known.id),
            "the known user is the requester"
        );
        assert_eq!(
            ingest(&store, &job, &to("someone@elsewhere.example")).await,
            Ingested::KeptAside {
                reason: "unrouted".into()
            },
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn a_reply_to_another_municipalitys_ticket_or_a_closed_one_opens_a_new_ticket() {
    for db in backends().await {
        let store = keyed(&db.store);
        let (_, munis, scope) = provider_with(&store, 2).await;
        let job_a = job_for(&store, &scope, mailbox_input(&munis[0])).await;
        let sender = format!("{}@b.example.no", unique("x"));
        let raw = message(&sender, "Første", &unique("p"), "", "a");
        let Ingested::Ticket { number, ticket_id } = ingest(&store, &job_a, &raw).await else {
            panic!()
        };
        let mut other = mailbox_input(&munis[1]);
        other.name = "Other".into();
        let job_b = job_for(&store, &scope, other).await;
        let guess = message(&sender, &format!("Re: [#{number}]"), &unique("q"), "", "b");
        assert!(
            matches!(
                ingest(&store, &job_b, &guess).await,
                Ingested::Ticket { .. }
            ),
            "{}: a ticket number of another municipality must not be answered",
            db.label
        );
        let technician = Scope::new(
            drifta_core::Actor::system("t"),
            [(munis[0].clone(), Role::Technician)],
        );
        store
            .set_status(
                &technician,
                &ticket_id,
                drifta_core::ticket::TicketStatus::Resolved,
            )
            .await
            .unwrap();
        store
            .set_status(
                &technician,
                &ticket_id,
                drifta_core::ticket::TicketStatus::Closed,
            )
            .await
            .unwrap();
        let late = message(
            &sender,
            &format!("Re: [#{number}]"),
            &unique("c"),
            "",
            "igjen",
        );
        let outcome = ingest(&store, &job_a, &late).await;
        assert!(
            matches!(&outcome, Ingested::Ticket { ticket_id: t, .. } if *t != ticket_id),
            "{}: {outcome:?}",
            db.label
        );
    }
}

#[tokio::test]
async fn mailbox_input_is_checked_and_the_password_never_leaves_sealed() {
    for db in backends().await {
        let store = keyed(&db.store);
        let (provider, munis, scope) = provider_with(&store, 1).await;
        let (_, other_munis, _) = provider_with(&store, 1).await;
        let good = mailbox_input(&munis[0]);
        let cases: Vec<(NewMailbox, &str)> = vec![
            (
                NewMailbox {
                    port: 0,
                    ..good.clone()
                },
                "port",
            ),
            (
                NewMailbox {
                    security: None,
                    ..good.clone()
                },
                "security",
            ),
            (
                NewMailbox {
                    host: "imaps://x.no".into(),
                    ..good.clone()
                },
                "host",
            ),
            (
                NewMailbox {
                    password: String::new(),
                    ..good.clone()
                },
                "password",
            ),
            (
                NewMailbox {
                    poll_seconds: 1,
                    ..good.clone()
                },
                "poll_seconds",
            ),
            (
                NewMailbox {
                    name: " ".into(),
                    ..good.clone()
                },
                "name",
            ),
            (
                NewMailbox {
                    routes: vec![("x.no".into(), munis[0].clone())],
                    ..good.clone()
                },
                "routes",
            ),
            (
                NewMailbox {
                    tenant_id: provider.clone(),
                    routes: vec![("x.no".into(), other_munis[0].clone())],
                    ..good.clone()
                },
                "routes",
            ),
            (
                NewMailbox {
                    tenant_id: provider.clone(),
                    routes: vec![("not a domain".into(), munis[0].clone())],
                    ..good.clone()
                },
                "routes",
            ),
        ];
        for (input, field) in cases {
            match store.create_mailbox(&scope, &input).await {
                Err(StoreError::Invalid(e)) => assert_eq!(e.field, field, "{}", db.label),
                other => panic!("{}: {field}: {other:?}", db.label),
            }
        }
        assert!(
            store.list_mailboxes(&scope).await.unwrap().is_empty(),
            "nothing was stored"
        );
        // Without a key the password cannot be stored at all.
        match db.store.create_mailbox(&scope, &good).await {
            Err(StoreError::Invalid(e)) => assert_eq!(e.code, "no-secret-key"),
            other => panic!("{other:?}"),
        }
        let made = store.create_mailbox(&scope, &good).await.unwrap();
        let json = serde_json::to_string(&made).unwrap();
        assert!(!json.contains("imap-secret"), "{json}");
        let page = store
            .list_audit(
                &scope,
                &drifta_store::AuditFilter {
                    object_type: Some("mailbox".into()),
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(!page.entries.is_empty(), "mailbox changes are audited");
        let audit = format!("{:?}", page.entries);
        assert!(
            !audit.contains("imap-secret"),
            "the audit log never holds the password"
        );
        // An update with an empty password keeps the stored one.
        let mut changed = good.clone();
        changed.password = String::new();
        changed.folder = "Support".into();
        store
            .update_mailbox(&scope, &made.id, &changed)
            .await
            .unwrap();
        let job = store.claim_mailbox("n", 60_000).await.unwrap().unwrap();
        assert_eq!(
            (job.password.as_str(), job.folder.as_str()),
            ("imap-secret", "Support")
        );
        // A technician may not manage mailboxes.
        let tech = Scope::new(
            drifta_core::Actor::system("t"),
            [(munis[0].clone(), Role::Technician)],
        );
        assert!(store.create_mailbox(&tech, &good).await.is_err());
        assert!(matches!(
            store.mailbox(&tech, &made.id).await,
            Err(StoreError::NotFound)
        ));
        store.delete_mailbox(&scope, &made.id).await.unwrap();
        assert!(store.list_mailboxes(&scope).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn one_node_polls_a_mailbox_at_a_time() {
    for db in backends().await {
        let store = keyed(&db.store);
        let (_, munis, scope) = provider_with(&store, 1).await;
        store
            .create_mailbox(&scope, &mailbox_input(&munis[0]))
            .await
            .unwrap();
        let a = store.claim_mailbox("node-a", 60_000).await.unwrap();
        assert!(a.is_some());
        assert!(
            store
                .claim_mailbox("node-b", 60_000)
                .await
                .unwrap()
                .is_none(),
            "{}: leased",
            db.label
        );
        let a = a.unwrap();
        assert!(
            store
                .renew_mailbox_lease(&a.id, "node-a", 60_000)
                .await
                .unwrap()
        );
        assert!(
            !store
                .renew_mailbox_lease(&a.id, "node-b", 60_000)
                .await
                .unwrap()
        );
        store
            .finish_mailbox_poll(&a.id, "node-a", 60, Err("login refused".into()))
            .await
            .unwrap();
        let shown = store.list_mailboxes(&scope).await.unwrap();
        assert_eq!(shown[0].last_error, "login refused");
        assert!(shown[0].last_poll_at.is_some());
        assert!(
            store
                .claim_mailbox("node-b", 60_000)
                .await
                .unwrap()
                .is_none(),
            "not due again yet"
        );
    }
}
