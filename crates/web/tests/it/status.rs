//! Status pages on both backends: private until the municipality publishes them, only the
//! monitors it chose, outages visible in the state and in the day's uptime, and a JSON feed.

use crate::kb::tenant_id;
use crate::support::{client, servers, sign_in};
use drifta_core::Actor;
use drifta_store::PingOutcome;
use jiff::SignedDuration;

#[tokio::test(flavor = "multi_thread")]
async fn a_municipality_publishes_its_status_and_outages_show() {
    for server in servers().await {
        let label = server.label;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let (tech, csrf) = sign_in(&server, "tekniker.nord").await;
        let mut secrets = Vec::new();
        for name in ["Lønnssystemet backup", "Intern jobb"] {
            let page = tech
                .post(server.url("/monitors"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("tenant", fjordvik.as_str()),
                    ("name", name),
                    ("period_minutes", "60"),
                    ("grace_minutes", "10"),
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
                .and_then(|s| s.split('<').next())
                .unwrap_or_else(|| panic!("{label}: {page}"))
                .to_string();
            secrets.push(url.split_once("/ping/").unwrap().1.to_string());
        }
        let scope = server
            .store
            .installation_scope(Actor::system("t"))
            .await
            .unwrap();
        let monitors = server.store.list_monitors(&scope).await.unwrap();
        let shown = monitors
            .iter()
            .find(|m| m.name == "Lønnssystemet backup")
            .unwrap();
        let res = tech
            .post(server.url(&format!("/monitors/{}/status-page", shown.id)))
            .form(&[("csrf", csrf.as_str()), ("shown", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");

        // Private: visitors and other municipalities' staff find nothing; its staff do.
        let visitor = client();
        let status = |c: &reqwest::Client, path: &str| {
            let request = c.get(server.url(path));
            async move { request.send().await.unwrap() }
        };
        assert_eq!(
            status(&visitor, "/status/fjordvik").await.status(),
            404,
            "{label}"
        );
        assert_eq!(
            status(&visitor, "/status/fjordvik.json").await.status(),
            404,
            "{label}"
        );
        let (dk, _) = sign_in(&server, "tekniker.dk").await;
        assert_eq!(
            status(&dk, "/status/fjordvik").await.status(),
            404,
            "{label}"
        );
        let own = status(&tech, "/status/fjordvik").await;
        assert_eq!(own.status(), 200, "{label}");
        let own = own.text().await.unwrap();
        assert!(
            own.contains("Lønnssystemet backup") && !own.contains("Intern jobb"),
            "{label}"
        );

        let res = tech
            .post(server.url("/status"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("tenant", fjordvik.as_str()),
                ("public", "1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");
        let public = status(&visitor, "/status/fjordvik").await;
        assert_eq!(public.status(), 200, "{label}");
        let public = public.text().await.unwrap();
        assert!(
            public.contains("class=\"status-overall state-up\""),
            "{label}"
        );
        assert_eq!(
            public.matches("class=\"bar bar-").count(),
            90,
            "{label}: 90 days"
        );
        assert!(!public.contains("Intern jobb"), "{label}");

        // The backup reports, then stays silent past its grace: down on the page, and
        // today's uptime below 100 %.
        server
            .store
            .heartbeat_ping(&secrets[0], PingOutcome::Success, "")
            .await
            .unwrap();
        server.clock.advance(SignedDuration::from_mins(71));
        server.store.evaluate_heartbeats().await.unwrap();
        server.clock.advance(SignedDuration::from_mins(30));
        let page = status(&visitor, "/status/fjordvik")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("class=\"status-overall state-down\""),
            "{label}"
        );
        let json: serde_json::Value = status(&visitor, "/status/fjordvik.json")
            .await
            .json()
            .await
            .unwrap();
        let service = &json["services"][0];
        assert_eq!(service["name"], "Lønnssystemet backup", "{label}");
        assert_eq!(service["state"], "down", "{label}");
        let days = service["daily_uptime"].as_array().unwrap();
        assert_eq!(days.len(), 90, "{label}");
        let today = days.last().unwrap().as_f64().unwrap();
        assert!(today < 1.0 && today > 0.0, "{label}: {today}");
        assert!(days[0].is_null(), "{label}: before the monitor existed");

        // Planned maintenance of the municipality shows on the page and in the feed; a
        // window for a monitor not on the page does not.
        let tenant = drifta_core::TenantId::parse(&fjordvik).unwrap();
        let soon = server.store.now_ms() + 3_600_000;
        for (title, target) in [
            (
                "Oppgradering av lønnssystemet",
                drifta_store::MaintenanceTarget::Tenant,
            ),
            (
                "Intern jobb flyttes",
                drifta_store::MaintenanceTarget::Monitor(
                    monitors
                        .iter()
                        .find(|m| m.name == "Intern jobb")
                        .unwrap()
                        .id
                        .clone(),
                ),
            ),
        ] {
            server
                .store
                .create_maintenance(
                    &scope,
                    drifta_store::NewMaintenance {
                        tenant_id: tenant.clone(),
                        title: title.into(),
                        target,
                        schedule: drifta_store::MaintenanceSchedule::Once {
                            starts_at: soon,
                            ends_at: soon + 7_200_000,
                        },
                    },
                )
                .await
                .unwrap();
        }
        let page = status(&visitor, "/status/fjordvik")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Oppgradering av lønnssystemet"), "{label}");
        assert!(!page.contains("Intern jobb flyttes"), "{label}");
        let json: serde_json::Value = status(&visitor, "/status/fjordvik.json")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(json["maintenance"].as_array().unwrap().len(), 1, "{label}");
        assert_eq!(json["maintenance"][0]["active"], false, "{label}");
        assert_eq!(
            status(&visitor, "/status/ingen-slik").await.status(),
            404,
            "{label}"
        );
    }
}
