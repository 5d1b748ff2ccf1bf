//! Mail about new tickets and about SLA warnings and breaches: who hears, when, and that
//! each warning or breach is told once however often and wherever the sweep runs.

use crate::support::{provider_with, user_with};
use drifta_core::clock::ManualClock;
use drifta_core::ticket::{Level, TicketKind, TicketStatus};
use drifta_core::{Role, Scope, TenantId};
use drifta_store::testing::backends;
use drifta_store::{ConnectOptions, NewTicket, Store, Ticket, User};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Tuesday 24 November 2026, 09:00 in Oslo (08:00 UTC): inside business hours.
fn tuesday_nine() -> Timestamp {
    "2026-11-24T08:00:00Z".parse().unwrap()
}

fn new_ticket(
    tenant: &TenantId,
    title: &str,
    requester: Option<&User>,
    impact: Level,
    urgency: Level,
) -> NewTicket {
    NewTicket {
        tenant_id: tenant.clone(),
        kind: TicketKind::Incident,
        title: title.into(),
        description: "Skjermen er svart.".into(),
        requester_id: requester.map(|u| u.id.clone()),
        location_id: None,
        category: String::new(),
        impact,
        urgency,
        channel: "phone".into(),
    }
}

/// Moves the test clock forward to `at` (milliseconds).
fn go_to(clock: &ManualClock, store: &Store, at: i64) {
    let now = store.now_ms();
    assert!(at >= now, "the test clock only runs forward");
    clock.advance(SignedDuration::from_millis(at - now));
}

/// The instant a target enters its warning time: the last quarter of its span.
fn warning_point(ticket: &Ticket, due: i64) -> i64 {
    due - (due - ticket.created_at) / 4
}

/// (kind, address) of every mail about `ticket` of the kinds starting with `prefix`.
async fn mails(
    store: &Store,
    scope: &Scope,
    ticket: &Ticket,
    prefix: &str,
) -> Vec<(String, String)> {
    // As the alert sender does each round: new tickets' mail is queued after their opening.
    store.send_new_ticket_mail(1000).await.unwrap();
    let mut out: Vec<_> = store
        .ticket_outbox(scope, &ticket.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind.starts_with(prefix))
        .map(|m| (m.kind, m.target))
        .collect();
    out.sort();
    out
}

fn told(kind: &str, people: &[&User]) -> Vec<(String, String)> {
    let mut out: Vec<_> = people
        .iter()
        .map(|u| (kind.to_string(), u.email.clone()))
        .collect();
    out.sort();
    out
}

/// A Norwegian municipality (08:00-15:30, Europe/Oslo) of a provider, its technicians and
/// people who must not hear about its tickets.
struct Desk {
    provider: TenantId,
    muni: TenantId,
    admin: Scope,
    /// Technician of the municipality; opens the tickets.
    actor: User,
    /// Technician of the municipality.
    tech: User,
    /// Technician of the provider, hence of all its municipalities.
    provider_tech: User,
    /// Technician of the municipality, disabled.
    disabled: User,
    /// Technician of the provider's other municipality only.
    elsewhere: User,
    /// A coordinator of the municipality: no technician.
    coordinator: User,
    /// An employee of the municipality who reports problems.
    teacher: User,
}

async fn desk(store: &Store) -> Desk {
    let (provider, munis, admin) = provider_with(store, 2).await;
    let muni = munis[0].clone();
    let on_muni = [(muni.clone(), Role::Technician)];
    let actor = user_with(store, &admin, &provider, &on_muni).await;
    let tech = user_with(store, &admin, &provider, &on_muni).await;
    let provider_tech = user_with(
        store,
        &admin,
        &provider,
        &[(provider.clone(), Role::Technician)],
    )
    .await;
    let disabled = user_with(store, &admin, &provider, &on_muni).await;
    store
        .set_disabled(&admin, &disabled.id, true)
        .await
        .unwrap();
    let elsewhere = user_with(
        store,
        &admin,
        &provider,
        &[(munis[1].clone(), Role::Technician)],
    )
    .await;
    let coordinator = user_with(store, &admin, &muni, &[(muni.clone(), Role::Coordinator)]).await;
    let teacher = user_with(store, &admin, &muni, &[(muni.clone(), Role::Requester)]).await;
    Desk {
        provider,
        muni,
        admin,
        actor,
        tech,
        provider_tech,
        disabled,
        elsewhere,
        coordinator,
        teacher,
    }
}

#[tokio::test]
async fn new_ticket_mail_goes_to_those_who_work_it_never_the_actor_or_requester() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(tuesday_nine()));
        let store = db.store.clone().with_clock(clock.clone());
        let d = desk(&store).await;
        let actor = store.scope_for(&d.actor, "").await.unwrap();
        // Nobody assigned and no team at creation: the municipality's technicians hear,
        // directly or through the provider; not the one who opened it, not the disabled,
        // not another municipality's technician, not a coordinator, not the requester.
        let ticket = store
            .create_ticket(
                &actor,
                new_ticket(
                    &d.muni,
                    "Smartboard",
                    Some(&d.teacher),
                    Level::Low,
                    Level::Low,
                ),
            )
            .await
            .unwrap();
        // Opening the ticket only marked it; the sender's round queues the mail, once.
        assert!(
            store
                .ticket_outbox(&d.admin, &ticket.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.send_new_ticket_mail(100).await.unwrap(),
            1,
            "{}",
            db.label
        );
        assert_eq!(
            store.send_new_ticket_mail(100).await.unwrap(),
            0,
            "{}",
            db.label
        );
        assert_eq!(
            mails(&store, &d.admin, &ticket, "ticket_").await,
            told("ticket_new", &[&d.tech, &d.provider_tech]),
            "{}",
            db.label
        );
        for nobody in [
            &d.actor,
            &d.disabled,
            &d.elsewhere,
            &d.coordinator,
            &d.teacher,
        ] {
            assert!(
                !mails(&store, &d.admin, &ticket, "ticket_")
                    .await
                    .iter()
                    .any(|(_, to)| *to == nobody.email),
                "{}: {} was told",
                db.label,
                nobody.username
            );
        }
        let entry = &store.ticket_outbox(&d.admin, &ticket.id).await.unwrap()[0];
        assert!(
            entry.monitor.starts_with(&format!("[#{}]", ticket.number)),
            "{entry:?}"
        );
        // A technician who reports a problem of their own is its requester: not told.
        let own = store
            .create_ticket(
                &actor,
                new_ticket(&d.muni, "Min PC", Some(&d.tech), Level::Low, Level::Low),
            )
            .await
            .unwrap();
        assert_eq!(
            mails(&store, &d.admin, &own, "ticket_").await,
            told("ticket_new", &[&d.provider_tech]),
            "{}",
            db.label
        );
        // A requester filing through the portal is the actor and the requester at once;
        // the technicians hear.
        let teacher = store.scope_for(&d.teacher, "").await.unwrap();
        let portal = store
            .create_ticket(
                &teacher,
                new_ticket(
                    &d.muni,
                    "Projektor",
                    Some(&d.teacher),
                    Level::Low,
                    Level::Low,
                ),
            )
            .await
            .unwrap();
        assert_eq!(
            mails(&store, &d.admin, &portal, "ticket_").await,
            told("ticket_new", &[&d.actor, &d.tech, &d.provider_tech]),
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn sla_warning_and_breach_are_mailed_once_per_due_time() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(tuesday_nine()));
        let store = db.store.clone().with_clock(clock.clone());
        let d = desk(&store).await;
        let actor = store.scope_for(&d.actor, "").await.unwrap();
        // P2: first response within 1 business hour (10:00), resolution within 8.
        let ticket = store
            .create_ticket(
                &actor,
                new_ticket(
                    &d.muni,
                    "Lønn",
                    Some(&d.teacher),
                    Level::Medium,
                    Level::High,
                ),
            )
            .await
            .unwrap();
        let ticket = store
            .assign_ticket(&d.admin, &ticket.id, Some(&d.tech.id))
            .await
            .unwrap();
        let response_due = ticket.response_due_at.unwrap();
        let resolution_due = ticket.resolution_due_at.unwrap();
        assert_eq!(
            response_due - ticket.created_at,
            60 * 60_000,
            "{}",
            db.label
        );

        // Before the last quarter of the span: nothing.
        go_to(
            &clock,
            &store,
            warning_point(&ticket, response_due) - 60_000,
        );
        assert_eq!(store.sla_notify_sweep(store.now_ms()).await.unwrap(), 0);
        assert!(
            mails(&store, &d.admin, &ticket, "ticket_sla")
                .await
                .is_empty()
        );

        // In it: the assignee is warned, once.
        go_to(
            &clock,
            &store,
            warning_point(&ticket, response_due) + 60_000,
        );
        assert_eq!(
            store.sla_notify_sweep(store.now_ms()).await.unwrap(),
            1,
            "{}",
            db.label
        );
        assert_eq!(
            mails(&store, &d.admin, &ticket, "ticket_sla").await,
            told("ticket_sla_warning", &[&d.tech]),
            "{}",
            db.label
        );
        assert_eq!(store.sla_notify_sweep(store.now_ms()).await.unwrap(), 0);
        // Another node on the same database knows it was told: the notice is stored.
        let other = Store::connect(&db.url, &ConnectOptions::default())
            .await
            .unwrap()
            .with_clock(clock.clone());
        assert_eq!(other.sla_notify_sweep(other.now_ms()).await.unwrap(), 0);

        // A watcher joins; after the due time both hear of the breach, once, although two
        // nodes sweep at the same moment.
        let provider_tech = store.scope_for(&d.provider_tech, "").await.unwrap();
        store
            .watch_ticket(&provider_tech, &ticket.id, true)
            .await
            .unwrap();
        go_to(&clock, &store, response_due + 5 * 60_000);
        let now = store.now_ms();
        let (a, b) = tokio::join!(store.sla_notify_sweep(now), other.sla_notify_sweep(now));
        assert_eq!(a.unwrap() + b.unwrap(), 2, "{}", db.label);
        let mut expected = told("ticket_sla_breach", &[&d.tech, &d.provider_tech]);
        expected.extend(told("ticket_sla_warning", &[&d.tech]));
        expected.sort();
        assert_eq!(
            mails(&store, &d.admin, &ticket, "ticket_sla").await,
            expected,
            "{}",
            db.label
        );
        let (a, b) = tokio::join!(store.sla_notify_sweep(now), other.sla_notify_sweep(now));
        assert_eq!(a.unwrap() + b.unwrap(), 0, "{}", db.label);

        // The resolution target has a clock of its own.
        go_to(
            &clock,
            &store,
            warning_point(&ticket, resolution_due) + 60_000,
        );
        assert_eq!(
            store.sla_notify_sweep(store.now_ms()).await.unwrap(),
            2,
            "{}",
            db.label
        );
        assert_eq!(store.sla_notify_sweep(store.now_ms()).await.unwrap(), 0);
        let kinds: BTreeSet<_> = mails(&store, &d.admin, &ticket, "ticket_sla")
            .await
            .into_iter()
            .map(|(kind, _)| kind)
            .collect();
        assert_eq!(kinds.len(), 2);
        other.close().await;
    }
}

#[tokio::test]
async fn a_moved_due_time_is_warned_again_and_a_team_hears_without_an_assignee() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(tuesday_nine()));
        let store = db.store.clone().with_clock(clock.clone());
        let d = desk(&store).await;
        let actor = store.scope_for(&d.actor, "").await.unwrap();
        let team = store
            .create_team(&d.admin, &d.provider, "Skole-team")
            .await
            .unwrap();
        store
            .set_team_member(&d.admin, &team.id, &d.elsewhere.id, true)
            .await
            .unwrap();
        let ticket = store
            .create_ticket(
                &actor,
                new_ticket(&d.muni, "Nettverk", None, Level::Medium, Level::High),
            )
            .await
            .unwrap();
        store
            .set_ticket_team(&d.admin, &ticket.id, Some(&team.id))
            .await
            .unwrap();
        // Taken up at once: the response target is met, the resolution one runs.
        let ticket = store
            .set_status(&actor, &ticket.id, TicketStatus::Open)
            .await
            .unwrap();
        let first_due = ticket.resolution_due_at.unwrap();
        go_to(&clock, &store, warning_point(&ticket, first_due) + 60_000);
        assert_eq!(store.sla_notify_sweep(store.now_ms()).await.unwrap(), 1);
        assert_eq!(
            mails(&store, &d.admin, &ticket, "ticket_sla").await,
            told("ticket_sla_warning", &[&d.elsewhere]),
            "the team's member, not the technicians: {}",
            db.label
        );
        // Waiting for the requester: the clock stops, so the old due time passes unmarked.
        store
            .set_status(&actor, &ticket.id, TicketStatus::WaitingRequester)
            .await
            .unwrap();
        go_to(&clock, &store, first_due + 60 * 60_000);
        assert_eq!(
            store.sla_notify_sweep(store.now_ms()).await.unwrap(),
            0,
            "{}",
            db.label
        );
        // Back to work: a later due time, already in its last quarter, is a new warning.
        let ticket = store
            .set_status(&actor, &ticket.id, TicketStatus::Open)
            .await
            .unwrap();
        let second_due = ticket.resolution_due_at.unwrap();
        assert!(second_due > store.now_ms(), "{}", db.label);
        assert!(
            warning_point(&ticket, second_due) < store.now_ms(),
            "{}",
            db.label
        );
        assert_eq!(store.sla_notify_sweep(store.now_ms()).await.unwrap(), 1);
        assert_eq!(store.sla_notify_sweep(store.now_ms()).await.unwrap(), 0);
        assert_eq!(
            mails(&store, &d.admin, &ticket, "ticket_sla").await,
            told("ticket_sla_warning", &[&d.elsewhere, &d.elsewhere]),
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn resolved_paused_and_long_breached_tickets_get_no_sla_mail() {
    for db in backends().await {
        let clock = Arc::new(ManualClock::new(tuesday_nine()));
        let store = db.store.clone().with_clock(clock.clone());
        let d = desk(&store).await;
        let actor = store.scope_for(&d.actor, "").await.unwrap();
        let open = |title: &'static str| {
            new_ticket(&d.muni, title, Some(&d.teacher), Level::Medium, Level::High)
        };
        // Breached on Tuesday and Wednesday morning, before SLA mail existed.
        let old = store.create_ticket(&actor, open("Gammel")).await.unwrap();
        // Thursday 09:00 in Oslo: three more, with the same due times.
        go_to(
            &clock,
            &store,
            "2026-11-26T08:00:00Z"
                .parse::<Timestamp>()
                .unwrap()
                .as_millisecond(),
        );
        let resolved = store.create_ticket(&actor, open("Løst")).await.unwrap();
        store
            .set_status(&actor, &resolved.id, TicketStatus::Open)
            .await
            .unwrap();
        store
            .set_status(&actor, &resolved.id, TicketStatus::Resolved)
            .await
            .unwrap();
        let paused = store.create_ticket(&actor, open("Venter")).await.unwrap();
        store
            .set_status(&actor, &paused.id, TicketStatus::WaitingRequester)
            .await
            .unwrap();
        let control = store.create_ticket(&actor, open("Kontroll")).await.unwrap();
        let technicians = [&d.actor, &d.tech, &d.provider_tech];

        // The first sweep: the control ticket's first response is late and told (to the
        // municipality's technicians: it has no assignee or team, and the sweep is no
        // one's act); the old ticket's breaches lie more than a day back.
        go_to(
            &clock,
            &store,
            control.response_due_at.unwrap() + 5 * 60_000,
        );
        assert_eq!(
            store.sla_notify_sweep(store.now_ms()).await.unwrap(),
            3,
            "{}",
            db.label
        );
        assert_eq!(
            mails(&store, &d.admin, &control, "ticket_sla").await,
            told("ticket_sla_breach", &technicians),
            "{}",
            db.label
        );
        // The resolution's warning and breach: the control ticket hears of both, the
        // resolved and the waiting ticket (same due times) of neither.
        let due = control.resolution_due_at.unwrap();
        assert_eq!(paused.resolution_due_at, Some(due));
        go_to(&clock, &store, warning_point(&control, due) + 60_000);
        assert_eq!(
            store.sla_notify_sweep(store.now_ms()).await.unwrap(),
            3,
            "{}",
            db.label
        );
        go_to(&clock, &store, due + 5 * 60_000);
        assert_eq!(
            store.sla_notify_sweep(store.now_ms()).await.unwrap(),
            3,
            "{}",
            db.label
        );
        assert_eq!(store.sla_notify_sweep(store.now_ms()).await.unwrap(), 0);
        for ticket in [&resolved, &paused, &old] {
            assert!(
                mails(&store, &d.admin, ticket, "ticket_sla")
                    .await
                    .is_empty(),
                "{}: {}",
                db.label,
                ticket.title
            );
        }
        assert_eq!(
            mails(&store, &d.admin, &control, "ticket_sla").await.len(),
            9,
            "{}",
            db.label
        );
    }
}
