//! The monthly uptime report on both backends: exact figures for a constructed March 2026
//! in Oslo (summer time began on the 29th, so the month is 743 hours), outages crossing the
//! month's start and end, a zone whose midnight cuts through stored hours, and scope.

use crate::support::{provider_with, user_with};
use drifta_core::clock::ManualClock;
use drifta_core::monitor::{MonitorKind, MonitorState};
use drifta_core::uptime::UptimeFigures;
use drifta_core::{Actor, Country, Role, Scope, TenantId};
use drifta_store::testing::backends;
use drifta_store::{
    HourRow, MunicipalityUptime, NewCheck, NewTenant, StateChange, Store, StoreError,
};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

const MIN: i64 = 60_000;
const H: i64 = 3_600_000;

fn ms(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

fn check(tenant: &TenantId, name: &str) -> NewCheck {
    NewCheck {
        tenant_id: tenant.clone(),
        name: name.into(),
        kind: MonitorKind::Http,
        probe: serde_json::json!({ "kind": "http", "url": "https://intranett.example/" }),
        interval_secs: 60,
        timeout_secs: 10,
        retries: 2,
        degraded_above_ms: None,
        location_id: None,
    }
}

/// An hour of 60 checks, all up, at 100 ms (p95 200 ms), unless changed.
fn hour(monitor: &str, at: i64) -> HourRow {
    HourRow {
        monitor_id: monitor.into(),
        hour: at,
        up_secs: 3600,
        degraded_secs: 0,
        down_secs: 0,
        maintenance_secs: 0,
        checks: 60,
        latency_p50: Some(100),
        latency_p95: Some(200),
        minutes: vec![0; 600],
    }
}

/// Sixty packed minutes (`monitor_history`): down for the first `down` minutes, then up;
/// one check a minute at 100 ms.
fn minutes_down_first(down: usize) -> Vec<u8> {
    (0..60)
        .flat_map(|i| {
            let (up, dn) = if i < down { (0, 60) } else { (60, 0) };
            [up, 0, dn, 0, 1, 1, 100, 0, 100, 0]
        })
        .collect()
}

async fn change(store: &Store, monitor: &str, at: &str, from: MonitorState, to: MonitorState) {
    let written = store
        .record_state_changes(&[StateChange {
            monitor_id: monitor.into(),
            at: ms(at),
            from,
            to,
            reason: String::new(),
            announced: false,
        }])
        .await
        .unwrap();
    assert_eq!(written, 1, "{monitor} {at}");
}

fn row<'a>(m: &'a MunicipalityUptime, name: &str) -> &'a UptimeFigures {
    &m.monitors
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name} in {:?}", m.monitors))
        .figures
}

fn march() -> jiff::civil::Date {
    jiff::civil::date(2026, 3, 1)
}

#[tokio::test]
async fn a_month_in_local_time_with_dst_and_outages_across_its_edges() {
    for db in backends().await {
        let label = db.label;
        let clock = Arc::new(ManualClock::new(
            "2026-02-01T00:00:00Z".parse::<Timestamp>().unwrap(),
        ));
        let store = db.store.clone().with_clock(clock.clone());
        // Kommune 0 is Norwegian (Europe/Oslo), Kommune 1 Danish.
        let (_, munis, admin) = provider_with(&store, 2).await;
        let oslo = &munis[0];
        let intranet = store
            .create_check_monitor(&admin, check(oslo, "Intranett"))
            .await
            .unwrap();
        let (_, backup) = store
            .create_heartbeat(
                &admin,
                oslo,
                "Backup",
                SignedDuration::from_hours(24),
                SignedDuration::from_hours(1),
            )
            .await
            .unwrap();
        let (_, paused) = store
            .create_heartbeat(
                &admin,
                oslo,
                "Arkiv-backup",
                SignedDuration::from_hours(24),
                SignedDuration::from_hours(1),
            )
            .await
            .unwrap();
        let wifi = store
            .create_check_monitor(&admin, check(&munis[1], "Skole-wifi"))
            .await
            .unwrap();

        // The check's history: March in Oslo is 23:00 UTC on 28 February to 22:00 UTC on
        // 31 March. The hours just outside are down and must not count.
        let start = ms("2026-02-28T23:00:00Z");
        let end = ms("2026-03-31T22:00:00Z");
        assert_eq!((end - start) / H, 743);
        let mut rows = vec![
            HourRow {
                up_secs: 0,
                down_secs: 3600,
                ..hour(&intranet.id, start - H)
            },
            HourRow {
                up_secs: 0,
                down_secs: 3600,
                ..hour(&intranet.id, end)
            },
        ];
        let mut at = start;
        while at < end {
            let mut h = hour(&intranet.id, at);
            if at == ms("2026-03-10T11:00:00Z") {
                (h.up_secs, h.down_secs) = (1800, 1800);
                (h.latency_p50, h.latency_p95) = (Some(150), Some(5000));
            } else if at == ms("2026-03-15T08:00:00Z") || at == ms("2026-03-15T09:00:00Z") {
                (h.up_secs, h.degraded_secs) = (0, 3600);
                (h.latency_p50, h.latency_p95) = (Some(2500), Some(4000));
            } else if at == ms("2026-03-20T02:00:00Z") {
                (h.up_secs, h.maintenance_secs) = (0, 3600);
            }
            rows.push(h);
            at += H;
        }
        store.write_monitor_hours(&rows).await.unwrap();
        use MonitorState::{Down, Up};
        change(&store, &intranet.id, "2026-03-10T11:15:00Z", Up, Down).await;
        change(&store, &intranet.id, "2026-03-10T11:45:00Z", Down, Up).await;

        // The heartbeat: down across the month's start (30 min inside), across the night
        // summer time began (01:30 to 03:30 local is one hour), and across its end (22:30 to
        // 01:00 local: 90 minutes in March, 60 in April).
        for (down, up) in [
            ("2026-02-28T22:30:00Z", "2026-02-28T23:30:00Z"),
            ("2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"),
            ("2026-03-31T20:30:00Z", "2026-03-31T23:00:00Z"),
        ] {
            change(&store, &backup.id, down, Up, Down).await;
            change(&store, &backup.id, up, Down, Up).await;
        }

        // The other heartbeat is paused for two days (local midnight to midnight).
        clock.advance(SignedDuration::from_millis(
            ms("2026-03-04T23:00:00Z") - ms("2026-02-01T00:00:00Z"),
        ));
        store
            .set_monitor_paused(&admin, &paused.id, true)
            .await
            .unwrap();
        clock.advance(SignedDuration::from_hours(48));
        store
            .set_monitor_paused(&admin, &paused.id, false)
            .await
            .unwrap();
        clock.advance(SignedDuration::from_millis(
            ms("2026-04-15T12:00:00Z") - ms("2026-03-06T23:00:00Z"),
        ));

        let report = store.uptime_report(&admin, None, march()).await.unwrap();
        assert_eq!(report.month, "2026-03");
        assert_eq!(report.municipalities.len(), 2, "{label}");
        let m = report
            .municipalities
            .iter()
            .find(|m| m.tenant_id == *oslo)
            .unwrap();
        assert_eq!(
            (m.time_zone.as_str(), m.starts_at, m.ends_at),
            ("Europe/Oslo", start, end)
        );
        let names: Vec<&str> = m.monitors.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["Arkiv-backup", "Backup", "Intranett"],
            "{label}: by name"
        );

        let c = row(m, "Intranett");
        assert_eq!(
            (c.up_ms, c.degraded_ms, c.down_ms, c.maintenance_ms),
            (2_662_200_000, 7_200_000, 1_800_000, 3_600_000),
            "{label}: local hours only"
        );
        assert_eq!(c.uptime_percent, Some(99.932), "{label}");
        assert_eq!((c.outages, c.longest_outage_ms), (1, 30 * MIN), "{label}");
        assert_eq!(
            (c.latency_p50_ms, c.latency_p95_ms),
            (Some(100), Some(200)),
            "{label}: three slow hours do not make the month's p95"
        );
        assert!(c.has_data);

        let b = row(m, "Backup");
        assert_eq!(b.down_ms, 180 * MIN, "{label}: 30 + 60 + 90 minutes");
        assert_eq!(b.up_ms, 743 * H - 180 * MIN, "{label}");
        assert_eq!(b.uptime_percent, Some(99.596), "{label}");
        assert_eq!(
            (b.outages, b.longest_outage_ms),
            (2, 90 * MIN),
            "{label}: the one carried in is February's; the last counts its March part"
        );
        assert_eq!((b.latency_p50_ms, b.latency_p95_ms), (None, None));

        let p = row(m, "Arkiv-backup");
        assert_eq!(
            (p.up_ms, p.down_ms),
            (695 * H, 0),
            "{label}: paused time is left out"
        );
        assert_eq!((p.uptime_percent, p.outages), (Some(100.0), 0));

        let s = &m.summary;
        assert_eq!(s.up_ms, 7_828_200_000, "{label}");
        assert_eq!(s.down_ms, 12_600_000, "{label}");
        assert_eq!(
            s.uptime_percent,
            Some(99.839),
            "{label}: pooled over the monitors"
        );
        assert_eq!((s.outages, s.longest_outage_ms), (3, 90 * MIN), "{label}");
        assert_eq!(s.latency_p50_ms, None);

        // Nothing measured at all is "no data", not 100 %.
        let dk = report
            .municipalities
            .iter()
            .find(|m| m.tenant_id == munis[1])
            .unwrap();
        assert_eq!(dk.time_zone, "Europe/Copenhagen");
        let w = row(dk, "Skole-wifi");
        assert!(!w.has_data, "{label}");
        assert_eq!(w.uptime_percent, None);
        assert!(!dk.summary.has_data);
        assert_eq!(wifi.name, "Skole-wifi");

        // April, up to now (the 15th, 12:00 UTC): the outage carried in counts its 60
        // minutes but is not April's; the check's hour at local midnight is April's.
        let april = store
            .uptime_report(&admin, Some(oslo), jiff::civil::date(2026, 4, 10))
            .await
            .unwrap();
        assert_eq!(april.month, "2026-04");
        assert_eq!(april.municipalities.len(), 1);
        let a = &april.municipalities[0];
        let b = row(a, "Backup");
        assert_eq!(
            (b.outages, b.longest_outage_ms, b.down_ms),
            (0, 60 * MIN, 60 * MIN),
            "{label}"
        );
        assert_eq!(
            b.up_ms + b.down_ms,
            ms("2026-04-15T12:00:00Z") - end,
            "{label}: until now"
        );
        assert_eq!(row(a, "Intranett").down_ms, H, "{label}");

        // A month before the monitors existed lists none; one in the future has no data.
        let january = store
            .uptime_report(&admin, Some(oslo), jiff::civil::date(2026, 1, 1))
            .await
            .unwrap();
        assert!(january.municipalities[0].monitors.is_empty(), "{label}");
        let may = store
            .uptime_report(&admin, Some(oslo), jiff::civil::date(2026, 5, 1))
            .await
            .unwrap();
        assert!(
            may.municipalities[0]
                .monitors
                .iter()
                .all(|r| !r.figures.has_data)
        );
        assert!(matches!(
            store
                .uptime_report(&admin, None, jiff::civil::date(9999, 12, 1))
                .await,
            Err(StoreError::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn a_midnight_inside_a_stored_hour_counts_by_the_minute() {
    for db in backends().await {
        let label = db.label;
        let clock = Arc::new(ManualClock::new(
            "2026-02-01T00:00:00Z".parse::<Timestamp>().unwrap(),
        ));
        let store = db.store.clone().with_clock(clock.clone());
        let (provider, _, admin) = provider_with(&store, 0).await;
        // India is five and a half hours ahead: local midnight is half past a UTC hour.
        let far = store
            .create_municipality(
                &admin,
                &provider,
                NewTenant {
                    name: "Halvtime kommune".into(),
                    slug: crate::support::unique("h"),
                    country: Country::No,
                    time_zone: Some("Asia/Kolkata".into()),
                    language: None,
                },
            )
            .await
            .unwrap();
        let admin = store
            .installation_scope(Actor::system("test"))
            .await
            .unwrap();
        let m = store
            .create_check_monitor(&admin, check(&far.id, "Portal"))
            .await
            .unwrap();
        let start = ms("2026-02-28T18:30:00Z");
        let end = ms("2026-03-31T18:30:00Z");
        store
            .write_monitor_hours(&[
                // Down until 18:30 (February), then up.
                HourRow {
                    up_secs: 1800,
                    down_secs: 1800,
                    minutes: minutes_down_first(30),
                    ..hour(&m.id, start - 30 * MIN)
                },
                hour(&m.id, ms("2026-03-10T00:00:00Z")),
                // Down until 18:30 (March), then up (April).
                HourRow {
                    up_secs: 1800,
                    down_secs: 1800,
                    minutes: minutes_down_first(30),
                    ..hour(&m.id, end - 30 * MIN)
                },
            ])
            .await
            .unwrap();
        clock.advance(SignedDuration::from_hours(24 * 90));
        let report = store
            .uptime_report(&admin, Some(&far.id), march())
            .await
            .unwrap();
        let r = row(&report.municipalities[0], "Portal");
        assert_eq!(
            (
                report.municipalities[0].starts_at,
                report.municipalities[0].ends_at
            ),
            (start, end)
        );
        assert_eq!((r.up_ms, r.down_ms), (90 * MIN, 30 * MIN), "{label}");
        assert_eq!(r.uptime_percent, Some(75.0), "{label}");
        assert_eq!(
            (r.latency_p50_ms, r.latency_p95_ms),
            (Some(100), Some(200)),
            "{label}"
        );
    }
}

#[tokio::test]
async fn the_report_stays_inside_the_scope() {
    for db in backends().await {
        let label = db.label;
        let store = db.store.clone();
        let (_, munis, admin) = provider_with(&store, 2).await;
        for (tenant, name) in [(&munis[0], "Sak"), (&munis[1], "Post")] {
            store
                .create_check_monitor(&admin, check(tenant, name))
                .await
                .unwrap();
        }
        let month = store.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let names = |m: &[MunicipalityUptime]| -> Vec<String> {
            m.iter()
                .flat_map(|m| m.monitors.iter().map(|r| r.name.clone()))
                .collect()
        };
        let everything = store.uptime_report(&admin, None, month).await.unwrap();
        assert_eq!(
            names(&everything.municipalities),
            ["Sak", "Post"],
            "{label}"
        );

        // Another provider's technician sees only their own municipality, and asking for
        // ours is "not found", like a municipality that does not exist.
        let (_, other, other_admin) = provider_with(&store, 1).await;
        let stranger = user_with(
            &store,
            &other_admin,
            &other[0],
            &[(other[0].clone(), Role::Technician)],
        )
        .await;
        let stranger: Scope = store.scope_for(&stranger, "").await.unwrap();
        let theirs = store.uptime_report(&stranger, None, month).await.unwrap();
        assert_eq!(theirs.municipalities.len(), 1, "{label}");
        assert_eq!(theirs.municipalities[0].tenant_id, other[0]);
        assert!(names(&theirs.municipalities).is_empty(), "{label}");
        for tenant in [&munis[0], &munis[1], &TenantId::generate()] {
            assert!(
                matches!(
                    store.uptime_report(&stranger, Some(tenant), month).await,
                    Err(StoreError::NotFound)
                ),
                "{label}"
            );
        }

        // A technician of one municipality sees that one only; a requester reads no report.
        let tech = user_with(
            &store,
            &admin,
            &munis[1],
            &[(munis[1].clone(), Role::Technician)],
        )
        .await;
        let tech = store.scope_for(&tech, "").await.unwrap();
        let one = store.uptime_report(&tech, None, month).await.unwrap();
        assert_eq!(names(&one.municipalities), ["Post"], "{label}");
        assert!(matches!(
            store.uptime_report(&tech, Some(&munis[0]), month).await,
            Err(StoreError::NotFound)
        ));
        let requester = user_with(
            &store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Requester)],
        )
        .await;
        let requester = store.scope_for(&requester, "").await.unwrap();
        assert!(
            store
                .uptime_report(&requester, None, month)
                .await
                .unwrap()
                .municipalities
                .is_empty()
        );
        assert!(matches!(
            store
                .uptime_report(&requester, Some(&munis[0]), month)
                .await,
            Err(StoreError::NotFound)
        ));
        // The provider itself is no municipality to report on.
        let provider = store
            .get_tenant(&admin, &munis[0])
            .await
            .unwrap()
            .parent_id
            .unwrap();
        assert!(matches!(
            store.uptime_report(&admin, Some(&provider), month).await,
            Err(StoreError::NotFound)
        ));
    }
}
