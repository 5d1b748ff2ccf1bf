//! The inventory pages through HTTP on both backends: recording items through the form,
//! field errors, who sees what, CSV export, the impact page and CSRF. The API is tested in
//! `api_inventory.rs`, the pages in a real browser in `browser.rs`.

use crate::kb::tenant_id;
use crate::support::{TestServer, servers, sign_in};

async fn get(c: &reqwest::Client, server: &TestServer, path: &str) -> (u16, String) {
    let res = c.get(server.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(
    c: &reqwest::Client,
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(server.url(path)).form(form).send().await.unwrap()
}

/// The item id a create redirected to.
fn created_id(res: &reqwest::Response) -> String {
    let location = res.headers()["location"].to_str().unwrap();
    location
        .strip_prefix("/inventory/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_else(|| panic!("not an item: {location}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn technicians_record_and_relate_items_and_others_see_nothing() {
    for server in servers().await {
        let label = server.label;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let (tech, csrf) = sign_in(&server, "tekniker.nord").await;

        // Choosing municipality and type comes first; then the type's own fields show.
        let (status, chooser) = get(&tech, &server, "/inventory/new").await;
        assert_eq!(status, 200, "{label}");
        assert!(chooser.contains("id=\"item-choose\""), "{label}");
        let (status, form) = get(
            &tech,
            &server,
            &format!("/inventory/new?tenant={fjordvik}&type=network_link"),
        )
        .await;
        assert_eq!(status, 200, "{label}");
        assert!(form.contains("name=\"attr_medium\"") && form.contains("name=\"attr_primary\""));

        let link = [
            ("csrf", csrf.as_str()),
            ("tenant", fjordvik.as_str()),
            ("item_type", "network_link"),
            ("lifecycle", "deployed"),
            ("name", "Fiber Fjordvik skole"),
            ("serial_number", "TESTLINK-9F3Q"),
            ("attr_medium", "fibre"),
            ("attr_primary", "true"),
            ("attr_bandwidth_mbps", "1000"),
        ];
        let res = post(&tech, &server, "/inventory", &link).await;
        assert_eq!(res.status(), 303, "{label}");
        let link_id = created_id(&res);
        let (status, page) = get(&tech, &server, &format!("/inventory/{link_id}")).await;
        assert_eq!(status, 200, "{label}");
        assert!(
            page.contains("Fiber Fjordvik skole") && page.contains("1000"),
            "{label}"
        );

        // Field errors come back beside their fields, with nothing saved.
        let mut bad = link.to_vec();
        bad.retain(|(k, _)| *k != "attr_bandwidth_mbps" && *k != "serial_number");
        bad.push(("attr_bandwidth_mbps", "rask"));
        let res = post(&tech, &server, "/inventory", &bad).await;
        assert_eq!(res.status(), 422, "{label}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("id=\"attr_bandwidth_mbps-error\""),
            "{label}: {body}"
        );
        let mut dup = link.to_vec();
        dup[4] = ("name", "Samme serienummer");
        let res = post(&tech, &server, "/inventory", &dup).await;
        assert_eq!(res.status(), 422, "{label}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("id=\"serial_number-error\"")
        );
        let mut wrong_date = link.to_vec();
        wrong_date.retain(|(k, _)| *k != "serial_number");
        wrong_date.push(("warranty_until", "31.02.2026"));
        let res = post(&tech, &server, "/inventory", &wrong_date).await;
        assert_eq!(res.status(), 422, "{label}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("id=\"warranty_until-error\"")
        );

        // A second item, related to the first; the link's impact page lists it and draws it.
        let res = post(
            &tech,
            &server,
            "/inventory",
            &[
                ("csrf", csrf.as_str()),
                ("tenant", fjordvik.as_str()),
                ("item_type", "network_device"),
                ("name", "=HYPERLINK(\"http://example.invalid\")"),
                ("hostname", "rtr-skole-01"),
                ("attr_device_role", "sdwan_edge"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303, "{label}");
        let router = created_id(&res);
        let res = post(
            &tech,
            &server,
            &format!("/inventory/{router}/relations"),
            &[
                ("csrf", csrf.as_str()),
                ("relation", "connects_to"),
                ("to", "TESTLINK-9F3Q"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303, "{label}");
        let (status, impact) = get(&tech, &server, &format!("/inventory/{link_id}/impact")).await;
        assert_eq!(status, 200, "{label}");
        assert!(
            impact.contains("rtr-skole-01") || impact.contains("HYPERLINK"),
            "{label}"
        );
        let svg = impact
            .split("<svg")
            .nth(1)
            .and_then(|s| s.split("</svg>").next())
            .unwrap_or_else(|| panic!("{label}: no diagram"));
        assert!(
            !svg.contains("<script") && svg.contains("HYPERLINK"),
            "{label}"
        );
        let csv = tech
            .get(server.url(&format!("/inventory/{link_id}/impact.csv")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            csv.contains("rtr-skole-01") || csv.contains("HYPERLINK"),
            "{label}: {csv}"
        );
        // One page of rows: no pager; past the end, a way back.
        assert!(!impact.contains("id=\"next-page\"") && !impact.contains("id=\"prev-page\""));
        let (status, past) = get(
            &tech,
            &server,
            &format!("/inventory/{link_id}/impact?direction=dependants&page=2"),
        )
        .await;
        assert_eq!(status, 200, "{label}");
        assert!(
            past.contains("id=\"prev-page\"") && !past.contains("id=\"impact\""),
            "{label}"
        );
        // A relation back would close no cycle for connects_to, but does for depends_on.
        for (relation, expected) in [("depends_on", 303), ("depends_on", 303)] {
            let res = post(
                &tech,
                &server,
                &format!("/inventory/{router}/relations"),
                &[
                    ("csrf", csrf.as_str()),
                    ("relation", relation),
                    ("to", link_id.as_str()),
                ],
            )
            .await;
            assert_eq!(res.status(), expected, "{label}");
        }
        let res = post(
            &tech,
            &server,
            &format!("/inventory/{link_id}/relations"),
            &[
                ("csrf", csrf.as_str()),
                ("relation", "depends_on"),
                ("to", router.as_str()),
            ],
        )
        .await;
        assert_eq!(res.status(), 422, "{label}");
        assert!(
            res.text().await.unwrap().contains("id=\"item-error\""),
            "{label}: the cycle is refused with a message"
        );

        // CSV export: a BOM for Excel, the rows, and no formula left active.
        let res = tech
            .get(server.url("/inventory/export.csv?q=skole"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{label}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{label}: BOM");
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.contains("Fiber Fjordvik skole"), "{label}: {text}");
        assert!(
            text.contains("'=HYPERLINK"),
            "{label}: formula neutralised: {text}"
        );

        // A bad filter is reported, not ignored.
        let (status, page) = get(&tech, &server, "/inventory?warranty_days=snart").await;
        assert_eq!(status, 200, "{label}");
        assert!(page.contains("id=\"filter-error\""), "{label}");

        // A call about the router names it on the phone form; the ticket and the item
        // then point at each other. An unknown item keeps the form open instead.
        let call = |item: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("tenant", fjordvik.clone()),
                ("title", format!("Skolen uten nett {item}")),
                ("kind", "incident".to_string()),
                ("impact", "high".to_string()),
                ("urgency", "high".to_string()),
                ("item", item.to_string()),
            ]
        };
        let res = tech
            .post(server.url("/tickets"))
            .form(&call("finnes-ikke-9z"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{label}");
        assert!(
            res.text().await.unwrap().contains("id=\"item-error\""),
            "{label}"
        );
        let res = tech
            .post(server.url("/tickets"))
            .form(&call("RTR-SKOLE-01"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");
        let ticket_page = res.headers()["location"].to_str().unwrap().to_string();
        let (_, page) = get(&tech, &server, &ticket_page).await;
        let linked = page
            .split("id=\"linked-items\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{label}: no linked items"));
        assert!(linked.contains(&format!("/inventory/{router}")), "{label}");
        let (_, item_page) = get(&tech, &server, &format!("/inventory/{router}")).await;
        assert!(
            item_page.contains("Skolen uten nett RTR-SKOLE-01"),
            "{label}"
        );

        // Another municipality's technician, a requester, and a forged form see nothing.
        let (dk, dk_csrf) = sign_in(&server, "tekniker.dk").await;
        let (status, _) = get(&dk, &server, &format!("/inventory/{link_id}")).await;
        assert_eq!(status, 404, "{label}");
        let (_, list) = get(&dk, &server, "/inventory?q=skole").await;
        assert!(!list.contains("Fiber Fjordvik skole"), "{label}");
        let res = post(
            &dk,
            &server,
            &format!("/inventory/{link_id}/lifecycle"),
            &[("csrf", dk_csrf.as_str()), ("lifecycle", "retired")],
        )
        .await;
        assert_eq!(res.status(), 404, "{label}");
        let (teacher, _) = sign_in(&server, "laerer.fjordvik").await;
        let (status, _) = get(&teacher, &server, "/inventory").await;
        assert_eq!(status, 403, "{label}");
        let res = post(
            &tech,
            &server,
            &format!("/inventory/{link_id}/lifecycle"),
            &[("csrf", "forged"), ("lifecycle", "retired")],
        )
        .await;
        assert_eq!(res.status(), 403, "{label}");
        let (_, page) = get(&tech, &server, &format!("/inventory/{link_id}")).await;
        assert!(!page.contains("Utfaset"), "{label}: nothing changed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn suppliers_and_contracts_are_recorded_with_checked_dates() {
    for server in servers().await {
        let label = server.label;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let (tech, csrf) = sign_in(&server, "tekniker.nord").await;
        let res = post(
            &tech,
            &server,
            "/inventory/suppliers",
            &[
                ("csrf", csrf.as_str()),
                ("tenant", fjordvik.as_str()),
                ("name", "Testleverandøren AS"),
                ("org_number", "999 888 777"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303, "{label}");
        let (_, page) = get(&tech, &server, "/inventory/suppliers").await;
        assert!(page.contains("Testleverandøren AS"), "{label}");
        let supplier = page
            .split("<option value=\"")
            .filter_map(|s| s.split_once("\">"))
            .find(|(_, rest)| rest.starts_with("Testleverandøren AS"))
            .map(|(id, _)| id.to_string())
            .expect("supplier option");
        let res = post(
            &tech,
            &server,
            "/inventory/suppliers",
            &[
                ("csrf", csrf.as_str()),
                ("tenant", fjordvik.as_str()),
                ("name", "Testleverandøren AS"),
            ],
        )
        .await;
        assert_eq!(res.status(), 422, "{label}: same name twice");
        let contract = |ends: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("tenant", fjordvik.clone()),
                ("supplier", supplier.clone()),
                ("name", "Skriveravtale".to_string()),
                ("starts_on", "2026-01-01".to_string()),
                ("ends_on", ends.to_string()),
                ("notice_months", "3".to_string()),
                ("annual_cost", "120 000".to_string()),
                ("currency", "NOK".to_string()),
            ]
        };
        let res = tech
            .post(server.url("/inventory/contracts"))
            .form(&contract("2025-12-31"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{label}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("id=\"contract-ends-error\"")
        );
        let res = tech
            .post(server.url("/inventory/contracts"))
            .form(&contract("2028-12-31"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");
        let (_, page) = get(&tech, &server, "/inventory/suppliers").await;
        let csv = tech
            .get(server.url("/inventory/suppliers.csv"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            csv.contains("Testleverandøren AS;999 888 777"),
            "{label}: {csv}"
        );
        assert!(
            page.contains("Skriveravtale") && page.contains("120000 NOK"),
            "{label}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_portfolio_feeds_the_processing_record_with_its_gaps() {
    for server in servers().await {
        let label = server.label;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let (tech, csrf) = sign_in(&server, "tekniker.nord").await;
        let res = post(
            &tech,
            &server,
            "/inventory",
            &[
                ("csrf", csrf.as_str()),
                ("tenant", fjordvik.as_str()),
                ("item_type", "application"),
                ("name", "Skybasert elevportal TEST"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303, "{label}");
        let app = created_id(&res);
        let (status, page) = get(&tech, &server, &format!("/inventory/{app}")).await;
        assert_eq!(status, 200, "{label}");
        assert!(page.contains("id=\"portfolio-link\""), "{label}");
        let portfolio = |location: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("hosting", "saas".to_string()),
                ("data_location", location.to_string()),
                ("purpose", "Elevenes innleveringer".to_string()),
                ("personal_data", "1".to_string()),
                ("data_subjects", "Elever".to_string()),
                ("data_categories", "navn, karakterer".to_string()),
                ("legal_basis", "public_task".to_string()),
                ("migration_status", "planned".to_string()),
                ("alternative_decision", "not_evaluated".to_string()),
            ]
        };
        let res = tech
            .post(server.url(&format!("/inventory/{app}/portfolio")))
            .form(&portfolio("Norge"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{label}: a country name is not a code");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("id=\"data_location-error\"")
        );
        let res = tech
            .post(server.url(&format!("/inventory/{app}/portfolio")))
            .form(&portfolio("no, us"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{label}");
        let (_, page) = get(&tech, &server, &format!("/inventory/{app}/portfolio")).await;
        let gaps = page
            .split("id=\"gaps\"")
            .nth(1)
            .and_then(|s| s.split("</ul>").next())
            .unwrap_or_else(|| panic!("{label}: no gaps listed"));
        assert!(
            gaps.contains(": US<") && gaps.contains("gap-high"),
            "{label}: {gaps}"
        );
        assert_eq!(
            gaps.matches("gap-high").count(),
            2,
            "{label}: outside the EEA, and SaaS without an agreement: {gaps}"
        );

        let (status, record) = get(&tech, &server, &format!("/gdpr?tenant={fjordvik}")).await;
        assert_eq!(status, 200, "{label}");
        assert!(record.contains("Skybasert elevportal TEST"), "{label}");
        assert!(record.contains("class=\"gap gap-high\""), "{label}");
        let csv = tech
            .get(server.url(&format!("/gdpr.csv?tenant={fjordvik}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let line = csv
            .lines()
            .find(|l| l.contains("Skybasert elevportal TEST"))
            .unwrap_or_else(|| panic!("{label}: {csv}"));
        assert!(
            line.contains("NO, US") && line.contains("(e)"),
            "{label}: {line}"
        );

        // Another municipality's data protection officer does not get Fjordvik's record.
        let (dpo, _) = sign_in(&server, "dpo.egeholm").await;
        let (status, _) = get(&dpo, &server, &format!("/gdpr?tenant={fjordvik}")).await;
        assert_eq!(status, 404, "{label}");
        let (status, own) = get(&dpo, &server, "/gdpr").await;
        assert_eq!(status, 200, "{label}");
        assert!(!own.contains("Skybasert elevportal TEST"), "{label}");
    }
}
