use crate::support::{provider_with, user_with};
use drifta_core::clock::ManualClock;
use drifta_core::tenant::LocationKind;
use drifta_core::ticket::{Level, Priority, TicketKind, TicketStatus};
use drifta_core::{Role, TenantId};
use drifta_store::testing::backends;
use drifta_store::{NewLocation, NewTicket, QueueFilter, QueueView, Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

/// Tuesday 24 November 2026, 09:00 in Oslo (08:00 UTC): inside business hours.
fn tuesday_nine() -> Timestamp {
    "2026-11-24T08:00:00Z".parse().unwrap()
}

fn ticket(tenant: &TenantId, title: &str, impact: Level, urgency: Level) -> NewTicket {
    NewTicket {
        tenant_id: tenant.clone(),
        kind: TicketKind::Incident,
        title: title.into(),
        description: "Beskrivelse".into(),
        requester_id: None,
        location_id: None,
        category: String::new(),
        impact,
        urgency,
        channel: "phone".into(),
    }
}

fn ms(t: &str) -> i64 {
    t.parse::<Timestamp>().unwrap().as_millisecond()
}

#[tokio::test]
async fn sla_due_follows_business_hours_and_pauses() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(tuesday_nine()));
        let store = db.store.clone().with_clock(clock.clone());
        let (_, munis, scope) = provider_with(&store, 1).await;
        // Municipality 0 is Norwegian: 08:00-15:30 on weekdays.
        let t = store
            .create_ticket(
                &scope,
                ticket(&munis[0], "Skriver virker ikke", Level::Medium, Level::High),
            )
            .await
            .unwrap();
        assert_eq!(t.priority, Priority::P2);
        assert_eq!(t.status, TicketStatus::New);
        // P2: 8 business hours. Tue 09:00-15:30 is 6.5 h; 1.5 h more is Wed 09:30 Oslo.
        assert_eq!(
            t.resolution_due_at,
            Some(ms("2026-11-25T08:30:00Z")),
            "{}",
            db.label
        );
        // First response 1 h: Tue 10:00.
        assert_eq!(t.response_due_at, Some(ms("2026-11-24T09:00:00Z")));

        clock.advance(SignedDuration::from_hours(1));
        let t = store
            .set_status(&scope, &t.id, TicketStatus::Open)
            .await
            .unwrap();
        assert!(
            t.first_response_at.is_some(),
            "taking a ticket up is the first response"
        );
        let t = store
            .set_status(&scope, &t.id, TicketStatus::WaitingRequester)
            .await
            .unwrap();
        assert_eq!(t.resolution_due_at, None, "paused clocks have no due time");
        clock.advance(SignedDuration::from_hours(2));
        let t = store
            .set_status(&scope, &t.id, TicketStatus::Open)
            .await
            .unwrap();
        // Two business hours paused push the due time two business hours later.
        assert_eq!(
            t.resolution_due_at,
            Some(ms("2026-11-25T10:30:00Z")),
            "{}",
            db.label
        );

        let err = store
            .set_status(&scope, &t.id, TicketStatus::Closed)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.code == "status-transition"),
            "{err}"
        );
        let t = store
            .set_status(&scope, &t.id, TicketStatus::Resolved)
            .await
            .unwrap();
        assert!(t.resolved_at.is_some());
        let t = store
            .set_status(&scope, &t.id, TicketStatus::Closed)
            .await
            .unwrap();
        assert!(
            store.add_comment(&scope, &t.id, "hei", true).await.is_err(),
            "closed is final"
        );
        let events = store.ticket_events(&scope, &t).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.kind == "status").count(), 5);
    }
}

#[tokio::test]
async fn numbers_are_unique_and_bad_input_is_refused() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, scope) = provider_with(store, 2).await;
        let a = store
            .create_ticket(&scope, ticket(&munis[0], "En", Level::Low, Level::Low))
            .await
            .unwrap();
        let b = store
            .create_ticket(&scope, ticket(&munis[1], "To", Level::High, Level::High))
            .await
            .unwrap();
        assert_eq!(b.number, a.number + 1);
        assert_eq!(b.priority, Priority::P1);

        let err = store
            .create_ticket(&scope, ticket(&munis[0], "   ", Level::Low, Level::Low))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.field == "title"),
            "{err}"
        );
        let elsewhere = store
            .create_location(
                &scope,
                &munis[1],
                NewLocation {
                    name: "Skole".into(),
                    kind: LocationKind::School,
                    address: String::new(),
                },
            )
            .await
            .unwrap();
        let mut wrong = ticket(&munis[0], "Feil sted", Level::Low, Level::Low);
        wrong.location_id = Some(elsewhere.id.clone());
        let err = store.create_ticket(&scope, wrong).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.code == "location-other-municipality"),
            "{err}"
        );
        // A caller from another municipality is refused; with a wrong location as well, the
        // caller is what the message names, every time.
        let outsider = user_with(store, &scope, &munis[1], &[]).await;
        for location in [None, Some(elsewhere.id.clone())] {
            let mut wrong = ticket(&munis[0], "Feil innringer", Level::Low, Level::Low);
            wrong.requester_id = Some(outsider.id.clone());
            wrong.location_id = location;
            let err = store.create_ticket(&scope, wrong).await.unwrap_err();
            assert!(
                matches!(err, StoreError::Invalid(ref f) if f.code == "requester-other-municipality"),
                "{}: {err}",
                db.label
            );
        }
        // Time is recorded by a person, not by the installation.
        assert!(matches!(
            store.add_time(&scope, &a.id, 5, true, "").await,
            Err(StoreError::NotFound)
        ));
        let tech = user_with(
            store,
            &scope,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech = store.scope_for(&tech, "").await.unwrap();
        let err = store.add_time(&tech, &a.id, 0, true, "").await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref f) if f.code == "minutes-range"));
        store
            .add_time(&tech, &a.id, 25, true, "fjernhjelp")
            .await
            .unwrap();
        store.add_time(&tech, &a.id, 10, false, "").await.unwrap();
        assert_eq!(
            store.time_spent(&tech, &a).await.unwrap(),
            (25, 35),
            "{}",
            db.label
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_get_distinct_numbers() {
    for db in backends().await {
        let (_, munis, scope) = provider_with(&db.store, 1).await;
        let tasks: Vec<_> = (0..24)
            .map(|i| {
                let (store, scope, tenant) = (db.store.clone(), scope.clone(), munis[0].clone());
                tokio::spawn(async move {
                    store
                        .create_ticket(
                            &scope,
                            ticket(&tenant, &format!("Samtidig {i}"), Level::Low, Level::Low),
                        )
                        .await
                })
            })
            .collect();
        let mut numbers = Vec::new();
        for task in tasks {
            let created = task.await.unwrap();
            numbers.push(
                created
                    .unwrap_or_else(|e| panic!("{}: {e}", db.label))
                    .number,
            );
        }
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 24, "{}", db.label);
    }
}

/// Before migration 20, PostgreSQL numbered tickets from `ticket_counter`; the upgrade
/// carries on from the counter, so no number is given out twice.
#[tokio::test]
async fn upgrading_postgres_carries_the_ticket_counter_into_the_sequence() {
    let Some(db) = drifta_store::testing::postgres().await else {
        return;
    };
    let (_, munis, scope) = provider_with(&db.store, 1).await;
    let before = db
        .store
        .create_ticket(&scope, ticket(&munis[0], "Før", Level::Low, Level::Low))
        .await
        .unwrap();
    crate::schema::raw(
        &db.url,
        "DROP SEQUENCE ticket_number_seq; \
         INSERT INTO ticket_counter (id, next) VALUES (1, 5000); \
         DELETE FROM schema_migrations WHERE version = 20",
    )
    .await;
    assert_eq!(db.store.migrate().await.unwrap(), vec![20]);
    let after = db
        .store
        .create_ticket(&scope, ticket(&munis[0], "Etter", Level::Low, Level::Low))
        .await
        .unwrap();
    assert!(before.number < 5000, "{}", before.number);
    assert_eq!(after.number, 5000);
}

async fn scope_of(store: &Store, user: &drifta_store::User) -> drifta_core::Scope {
    store.scope_for(user, "").await.unwrap()
}

#[tokio::test]
async fn who_sees_which_tickets() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, admin) = provider_with(store, 2).await;
        let teacher = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Requester)],
        )
        .await;
        let colleague = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Requester)],
        )
        .await;
        let coordinator = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Coordinator)],
        )
        .await;
        let tech_other = user_with(
            store,
            &admin,
            &munis[1],
            &[(munis[1].clone(), Role::Technician)],
        )
        .await;
        let tech = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;

        let teacher_scope = scope_of(store, &teacher).await;
        let mut own = ticket(&munis[0], "Min PC er treg", Level::Low, Level::Medium);
        own.requester_id = Some(teacher.id.clone());
        let mine = store.create_ticket(&teacher_scope, own).await.unwrap();
        // A requester cannot file for someone else.
        let mut theirs = ticket(&munis[0], "For en annen", Level::Low, Level::Medium);
        theirs.requester_id = Some(colleague.id.clone());
        assert!(
            store
                .create_ticket(&teacher_scope, theirs.clone())
                .await
                .is_err()
        );
        let other = store.create_ticket(&admin, theirs).await.unwrap();

        let visible = |scope: drifta_core::Scope| async move {
            store
                .list_tickets(
                    &scope,
                    &QueueFilter {
                        limit: 100,
                        ..QueueFilter::default()
                    },
                )
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            visible(teacher_scope.clone()).await,
            vec![mine.id.clone()],
            "{}",
            db.label
        );
        let coord = visible(scope_of(store, &coordinator).await).await;
        assert!(coord.contains(&mine.id) && coord.contains(&other.id));
        assert!(visible(scope_of(store, &tech_other).await).await.is_empty());
        assert!(matches!(
            store
                .get_ticket(&scope_of(store, &tech_other).await, &mine.id)
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.get_ticket(&teacher_scope, &other.id).await,
            Err(StoreError::NotFound)
        ));
        // Coordinators read but do not work tickets.
        assert!(
            store
                .set_status(
                    &scope_of(store, &coordinator).await,
                    &mine.id,
                    TicketStatus::Open
                )
                .await
                .is_err()
        );

        // The requester's reply to a ticket waiting for them opens it again; notes stay internal.
        let tech_scope = scope_of(store, &tech).await;
        store
            .set_status(&tech_scope, &mine.id, TicketStatus::Open)
            .await
            .unwrap();
        store
            .add_comment(&tech_scope, &mine.id, "Intern: sjekk disken", false)
            .await
            .unwrap();
        store
            .set_status(&tech_scope, &mine.id, TicketStatus::WaitingRequester)
            .await
            .unwrap();
        let after = store
            .add_comment(&teacher_scope, &mine.id, "Det virker nå", true)
            .await
            .unwrap();
        assert_eq!(after.status, TicketStatus::Open, "{}", db.label);
        let seen = store.ticket_events(&teacher_scope, &after).await.unwrap();
        assert!(
            seen.iter().all(|e| e.public),
            "requesters never see internal notes"
        );
        assert!(
            store
                .ticket_events(&tech_scope, &after)
                .await
                .unwrap()
                .iter()
                .any(|e| !e.public)
        );

        // Assignment only to technicians of the municipality; "mine" and "unassigned" queues.
        assert!(
            store
                .assign_ticket(&tech_scope, &mine.id, Some(&tech_other.id))
                .await
                .is_err()
        );
        store
            .assign_ticket(&tech_scope, &mine.id, Some(&tech.id))
            .await
            .unwrap();
        let my_queue = store
            .list_tickets(
                &tech_scope,
                &QueueFilter {
                    view: QueueView::Mine,
                    limit: 10,
                    ..QueueFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(my_queue.len(), 1);
        let unassigned = store
            .list_tickets(
                &tech_scope,
                &QueueFilter {
                    view: QueueView::Unassigned,
                    limit: 10,
                    ..QueueFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            unassigned.iter().map(|t| &t.id).collect::<Vec<_>>(),
            vec![&other.id]
        );
    }
}

#[tokio::test]
async fn queue_is_sorted_by_resolution_due() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(tuesday_nine()));
        let store = db.store.clone().with_clock(clock.clone());
        let (_, munis, scope) = provider_with(&store, 1).await;
        let low = store
            .create_ticket(&scope, ticket(&munis[0], "Lav", Level::Low, Level::Low))
            .await
            .unwrap();
        let critical = store
            .create_ticket(
                &scope,
                ticket(&munis[0], "Kritisk", Level::High, Level::High),
            )
            .await
            .unwrap();
        let paused = store
            .create_ticket(
                &scope,
                ticket(&munis[0], "Venter", Level::High, Level::High),
            )
            .await
            .unwrap();
        store
            .set_status(&scope, &paused.id, TicketStatus::WaitingRequester)
            .await
            .unwrap();
        let queue = store
            .list_tickets(
                &scope,
                &QueueFilter {
                    limit: 10,
                    ..QueueFilter::default()
                },
            )
            .await
            .unwrap();
        let order: Vec<&str> = queue.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(order, vec!["Kritisk", "Lav", "Venter"], "{}", db.label);
        let _ = (low, critical);
    }
}

#[tokio::test]
async fn callers_are_found_by_name_letters_and_phone_digits() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, admin) = provider_with(store, 2).await;
        let name = crate::support::unique("lone");
        let caller = store
            .create_user(
                &admin,
                drifta_store::NewUser {
                    tenant_id: munis[1].clone(),
                    username: name.clone(),
                    email: format!("{name}@vindaa.example"),
                    display_name: "Lone Kjærsgaard Ødegård".into(),
                    phone: "+45 30 50 00 02".into(),
                    language: None,
                    password_hash: None,
                },
            )
            .await
            .unwrap();
        for query in ["kjærs", "ØDEGÅ", "30 50 00", "3050", "lone kj"] {
            let found = store.search_callers(&admin, query, 10).await.unwrap();
            assert!(
                found.iter().any(|c| c.id == caller.id),
                "{}: '{query}' did not find the caller",
                db.label
            );
        }
        // A technician of another municipality does not find them.
        let tech = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech_scope = store.scope_for(&tech, "").await.unwrap();
        assert!(
            store
                .search_callers(&tech_scope, "kjærs", 10)
                .await
                .unwrap()
                .is_empty()
        );
        // Wildcards typed by the technician are taken literally.
        assert!(
            store
                .search_callers(&admin, "%%", 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .search_callers(&admin, "k", 10)
                .await
                .unwrap()
                .is_empty(),
            "one letter is too little"
        );
    }
}

#[tokio::test]
async fn desk_settings_change_due_times_of_open_tickets() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(tuesday_nine()));
        let store = db.store.clone().with_clock(clock.clone());
        let (_, munis, scope) = provider_with(&store, 1).await;
        let t = store
            .create_ticket(
                &scope,
                ticket(&munis[0], "Skriver", Level::Medium, Level::High),
            )
            .await
            .unwrap();
        assert_eq!(t.resolution_due_at, Some(ms("2026-11-25T08:30:00Z")));

        // Wednesday is a staff day, and P2 gets 4 hours.
        let (mut settings, mut targets) = store.desk_settings(&scope, &munis[0]).await.unwrap();
        settings.closures = "2026-11-25 # personaldag".into();
        for t in targets.iter_mut() {
            if t.0 == Priority::P2 {
                t.2 = Some(4 * 60);
            }
        }
        store
            .save_desk_settings(&scope, &munis[0], &settings, &targets)
            .await
            .unwrap();
        let t = store.get_ticket(&scope, &t.id).await.unwrap();
        assert_eq!(
            t.resolution_due_at,
            Some(ms("2026-11-24T12:00:00Z")),
            "{}: 09:00 + 4 h on Tuesday",
            db.label
        );
        let next = store
            .create_ticket(
                &scope,
                ticket(&munis[0], "Neste", Level::Medium, Level::High),
            )
            .await
            .unwrap();
        assert_eq!(next.resolution_due_at, Some(ms("2026-11-24T12:00:00Z")));

        // Bad settings are refused and change nothing.
        let mut bad = settings.clone();
        bad.hours[0] = "8 til 4".into();
        let err = store
            .save_desk_settings(&scope, &munis[0], &bad, &targets)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.field == "hours_mon"),
            "{err}"
        );
        let (kept, _) = store.desk_settings(&scope, &munis[0]).await.unwrap();
        assert_eq!(kept, settings);
        // Only administrators change them.
        let coordinator = user_with(
            &store,
            &scope,
            &munis[0],
            &[(munis[0].clone(), Role::Coordinator)],
        )
        .await;
        let coordinator = store.scope_for(&coordinator, "").await.unwrap();
        assert!(store.desk_settings(&coordinator, &munis[0]).await.is_ok());
        assert!(matches!(
            store
                .save_desk_settings(&coordinator, &munis[0], &settings, &targets)
                .await,
            Err(StoreError::Denied(_))
        ));
    }
}

#[tokio::test]
async fn tags_and_attachments() {
    for db in backends().await {
        let store = &db.store;
        let (_, munis, admin) = provider_with(store, 2).await;
        let tech = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech = store.scope_for(&tech, "").await.unwrap();
        let t = store
            .create_ticket(
                &tech,
                ticket(&munis[0], "Ny PC virker ikke", Level::Low, Level::Low),
            )
            .await
            .unwrap();
        store.add_tag(&tech, &t.id, "PC Utskifting").await.unwrap();
        store.add_tag(&tech, &t.id, "pc-utskifting").await.unwrap();
        store.add_tag(&tech, &t.id, "etterarbeid").await.unwrap();
        assert_eq!(
            store.get_ticket(&tech, &t.id).await.unwrap().tags,
            vec!["etterarbeid", "pc-utskifting"],
            "{}",
            db.label
        );
        assert!(matches!(
            store.add_tag(&tech, &t.id, "a;b").await,
            Err(StoreError::Invalid(_))
        ));
        let tagged = store
            .list_tickets(
                &tech,
                &QueueFilter {
                    tag: Some("pc-utskifting".into()),
                    limit: 10,
                    ..QueueFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(tagged.len(), 1);
        store.remove_tag(&tech, &t.id, "etterarbeid").await.unwrap();
        assert_eq!(
            store.get_ticket(&tech, &t.id).await.unwrap().tags,
            vec!["pc-utskifting"]
        );

        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4];
        let a = store
            .add_attachment(&tech, &t.id, "C:\\skjerm.png", &png)
            .await
            .unwrap();
        assert_eq!(
            (a.filename.as_str(), a.content_type.as_str(), a.size),
            ("skjerm.png", "image/png", 12)
        );
        let b = store
            .add_attachment(&tech, &t.id, "igjen.png", &png)
            .await
            .unwrap();
        let (_, bytes) = store.get_attachment(&tech, &b.id).await.unwrap();
        assert_eq!(bytes, png, "{}", db.label);
        assert_eq!(store.list_attachments(&tech, &t).await.unwrap().len(), 2);
        let err = store
            .add_attachment(&tech, &t.id, "virus.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04")
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.code == "file-type"),
            "{err}"
        );
        let big = vec![b'a'; drifta_store::MAX_ATTACHMENT_BYTES + 1];
        let err = store
            .add_attachment(&tech, &t.id, "big.txt", &big)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref f) if f.code == "file-too-large"));
        // Someone in another municipality can neither read nor add.
        let other = user_with(
            store,
            &admin,
            &munis[1],
            &[(munis[1].clone(), Role::Technician)],
        )
        .await;
        let other = store.scope_for(&other, "").await.unwrap();
        assert!(matches!(
            store.get_attachment(&other, &a.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.add_tag(&other, &t.id, "x").await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn teams_watchers_and_saved_filters() {
    for db in backends().await {
        let store = &db.store;
        let (provider, munis, admin) = provider_with(store, 2).await;
        let tech = user_with(
            store,
            &admin,
            &provider,
            &[(provider.clone(), Role::Technician)],
        )
        .await;
        let tech_scope = store.scope_for(&tech, "").await.unwrap();
        let team = store
            .create_team(&admin, &provider, "Skole-team")
            .await
            .unwrap();
        assert!(
            matches!(
                store.create_team(&admin, &provider, "Skole-team").await,
                Err(StoreError::Taken { .. })
            ),
            "{}",
            db.label
        );
        assert!(matches!(
            store.create_team(&tech_scope, &provider, "Eget team").await,
            Err(StoreError::Denied(_))
        ));
        store
            .set_team_member(&admin, &team.id, &tech.id, true)
            .await
            .unwrap();
        store
            .set_team_member(&admin, &team.id, &tech.id, true)
            .await
            .unwrap();
        let teams = store.list_teams(&tech_scope).await.unwrap();
        assert_eq!(teams.len(), 1);
        assert_eq!(teams[0].members.len(), 1);

        let t = store
            .create_ticket(
                &tech_scope,
                ticket(&munis[0], "Smartboard", Level::Low, Level::Low),
            )
            .await
            .unwrap();
        store
            .set_ticket_team(&tech_scope, &t.id, Some(&team.id))
            .await
            .unwrap();
        let mine = store
            .list_tickets(
                &tech_scope,
                &QueueFilter {
                    view: QueueView::MyTeams,
                    limit: 10,
                    ..QueueFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            mine.iter().map(|t| t.team_name.clone()).collect::<Vec<_>>(),
            vec![Some("Skole-team".to_string())]
        );
        // A team of another provider does not fit.
        let (other_provider, _, other_admin) = provider_with(store, 1).await;
        let foreign = store
            .create_team(&other_admin, &other_provider, "Fremmed")
            .await
            .unwrap();
        let err = store
            .set_ticket_team(&admin, &t.id, Some(&foreign.id))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.code == "team-other-provider"),
            "{err}"
        );

        store.watch_ticket(&tech_scope, &t.id, true).await.unwrap();
        store.watch_ticket(&tech_scope, &t.id, true).await.unwrap();
        assert_eq!(
            store.watchers(&tech_scope, &t.id).await.unwrap().len(),
            1,
            "{}",
            db.label
        );
        store.watch_ticket(&tech_scope, &t.id, false).await.unwrap();
        assert!(store.watchers(&tech_scope, &t.id).await.unwrap().is_empty());

        let f = store
            .save_filter(
                &tech_scope,
                "Helgens etterarbeid",
                "view=all&tag=pc-utskifting&evil=1",
            )
            .await
            .unwrap();
        assert_eq!(f.query, "view=all&tag=pc-utskifting");
        assert_eq!(store.saved_filters(&tech_scope).await.unwrap().len(), 1);
        assert!(
            store.saved_filters(&admin).await.is_err(),
            "the installation has no saved filters of its own"
        );
        store.delete_filter(&tech_scope, &f.id).await.unwrap();
        assert!(store.saved_filters(&tech_scope).await.unwrap().is_empty());
    }
}
