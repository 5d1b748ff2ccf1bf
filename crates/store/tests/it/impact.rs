//! Impact analysis on the relation graph each store keeps in memory: a change made through
//! one store (one node) reaches another's analysis at once, and a report names only the
//! page and the diagram's items it is asked for while counting every item.

use crate::support::{provider_with, user_with};
use drifta_core::cmdb::{Effect, ItemType, Lifecycle, RelationType};
use drifta_core::tenant::LocationKind;
use drifta_core::{Role, Scope, TenantId};
use drifta_store::testing::backends;
use drifta_store::{
    ConnectOptions, ImpactColumn, ImpactDirection, ImpactReport, ImpactView, ItemInput, NewItem,
    NewLocation, Store,
};
use std::collections::BTreeSet;

async fn add(
    store: &Store,
    scope: &Scope,
    tenant: &TenantId,
    kind: ItemType,
    name: &str,
) -> String {
    let new = NewItem {
        tenant_id: tenant.clone(),
        item_type: kind,
        lifecycle: Lifecycle::Deployed,
        input: ItemInput {
            name: name.into(),
            ..ItemInput::default()
        },
    };
    store.create_item(scope, new).await.unwrap().summary.id
}

async fn location(store: &Store, admin: &Scope, tenant: &TenantId, name: &str) -> String {
    let new = NewLocation {
        name: name.into(),
        kind: LocationKind::School,
        address: String::new(),
    };
    store
        .create_location(admin, tenant, new)
        .await
        .unwrap()
        .id
        .to_string()
}

fn names(report: &ImpactReport) -> BTreeSet<String> {
    report.nodes.iter().map(|n| n.item.name.clone()).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn a_change_through_one_store_reaches_the_analysis_of_another() {
    for db in backends().await {
        let (a, label) = (&db.store, db.label);
        // A second node on the same database, with its own copy of the graph.
        let b = &Store::connect(&db.url, &ConnectOptions::default())
            .await
            .unwrap();
        let (provider, munis, admin) = provider_with(a, 2).await;
        let user = user_with(
            a,
            &admin,
            &provider,
            &[(provider.clone(), Role::Technician)],
        )
        .await;
        let tech = a.scope_for(&user, "").await.unwrap();
        let (m0, m1) = (&munis[0], &munis[1]);
        let core = add(a, &tech, m0, ItemType::NetworkDevice, "Kjerne").await;
        let router = add(a, &tech, m0, ItemType::NetworkDevice, "Ruter").await;
        let pc = add(a, &tech, m0, ItemType::Workstation, "PC").await;
        let neighbour = add(a, &tech, m1, ItemType::Workstation, "PC nabo").await;
        use RelationType::{BacksUp, ConnectsTo};
        a.relate_items(&tech, &router, ConnectsTo, &core)
            .await
            .unwrap();
        a.relate_items(&tech, &pc, ConnectsTo, &router)
            .await
            .unwrap();
        let impact = |store: &Store| {
            let (store, tech, core) = (store.clone(), tech.clone(), core.clone());
            async move {
                store
                    .impact(&tech, &core, ImpactDirection::Dependants)
                    .await
                    .unwrap()
            }
        };
        // Both nodes load their copy.
        assert_eq!(names(&impact(a).await), set(&["Ruter", "PC"]), "{label}");
        assert_eq!(names(&impact(b).await), set(&["Ruter", "PC"]), "{label}");

        // Added on b: a sees it at its next analysis, and so does b (its own copy patched).
        b.relate_items(&tech, &neighbour, ConnectsTo, &router)
            .await
            .unwrap();
        let report = impact(a).await;
        assert_eq!(names(&report), set(&["Ruter", "PC", "PC nabo"]), "{label}");
        assert_eq!(report.municipalities, ["Kommune 0", "Kommune 1"], "{label}");
        assert_eq!(names(&impact(b).await), names(&report), "{label}");

        // Removed on a: b sees it.
        a.unrelate_items(&tech, &pc, ConnectsTo, &router)
            .await
            .unwrap();
        assert_eq!(
            names(&impact(b).await),
            set(&["Ruter", "PC nabo"]),
            "{label}"
        );
        assert_eq!(
            names(&impact(a).await),
            set(&["Ruter", "PC nabo"]),
            "{label}"
        );

        // A relation that carries no failure changes nothing, on either node.
        b.relate_items(&tech, &pc, BacksUp, &router).await.unwrap();
        assert_eq!(
            names(&impact(a).await),
            set(&["Ruter", "PC nabo"]),
            "{label}"
        );

        // A new location (or name) on b reaches a's lists, and its order.
        let school = location(a, &admin, m0, "Skolen").await;
        let before = b.get_item(&tech, &router).await.unwrap();
        let input = ItemInput {
            name: "A-ruter".into(),
            location_id: Some(school),
            ..ItemInput::default()
        };
        assert_eq!(before.summary.name, "Ruter");
        b.update_item(&tech, &router, input).await.unwrap();
        for store in [a, b] {
            let report = impact(store).await;
            assert_eq!(report.locations, ["Skolen"], "{label}");
            assert_eq!(
                report
                    .nodes
                    .iter()
                    .map(|n| n.item.name.as_str())
                    .collect::<Vec<_>>(),
                ["A-ruter", "PC nabo"],
                "{label}: nearest first"
            );
        }

        // A disposed item loses its relations; the other node notices.
        for step in [Lifecycle::Retired, Lifecycle::Disposed] {
            let disposal = (step == Lifecycle::Disposed)
                .then(|| drifta_core::cmdb::Disposal::new("Gjenvinning AS", "CERT-1").unwrap());
            b.move_item(&tech, &neighbour, step, disposal)
                .await
                .unwrap();
        }
        assert_eq!(names(&impact(a).await), set(&["A-ruter"]), "{label}");
        b.close().await;
    }
}

#[tokio::test]
async fn a_report_names_its_page_and_the_diagram_and_counts_the_rest() {
    for db in backends().await {
        let (store, label) = (&db.store, db.label);
        let (_, munis, admin) = provider_with(store, 2).await;
        let user = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Technician)],
        )
        .await;
        let tech = store.scope_for(&user, "").await.unwrap();
        let (m0, m1) = (&munis[0], &munis[1]);
        let core = add(store, &admin, m0, ItemType::NetworkDevice, "Kjerne").await;
        let backup = add(store, &admin, m0, ItemType::NetworkDevice, "Reserve").await;
        use RelationType::ConnectsTo;
        // Thirty switches under the core; every third also has the backup, so it is degraded.
        // Behind switch 0, five PCs; one switch of the neighbour municipality.
        let mut switches = Vec::new();
        for i in 0..30 {
            let id = add(
                store,
                &admin,
                m0,
                ItemType::NetworkDevice,
                &format!("Svitsj {i:02}"),
            )
            .await;
            store
                .relate_items(&admin, &id, ConnectsTo, &core)
                .await
                .unwrap();
            if i % 3 == 0 {
                store
                    .relate_items(&admin, &id, ConnectsTo, &backup)
                    .await
                    .unwrap();
            }
            switches.push(id);
        }
        for i in 0..5 {
            let id = add(store, &admin, m0, ItemType::Workstation, &format!("PC {i}")).await;
            store
                .relate_items(&admin, &id, ConnectsTo, &switches[1])
                .await
                .unwrap();
        }
        let hidden = add(store, &admin, m1, ItemType::NetworkDevice, "Nabosvitsj").await;
        store
            .relate_items(&admin, &hidden, ConnectsTo, &core)
            .await
            .unwrap();

        let all = store
            .impact(&tech, &core, ImpactDirection::Dependants)
            .await
            .unwrap();
        assert_eq!(
            (all.total, all.nodes.len(), all.hidden),
            (35, 35, 1),
            "{label}"
        );
        assert_eq!((all.down, all.degraded), (25, 10), "{label}");
        assert_eq!(
            all.columns,
            [
                ImpactColumn {
                    depth: 1,
                    items: 30
                },
                ImpactColumn { depth: 2, items: 5 }
            ]
        );
        assert!(all.drawn.is_empty());

        let view = |offset, limit, per_depth| ImpactView {
            offset,
            limit,
            per_depth,
        };
        // Pages of ten follow the whole list: nearest first, then by name.
        let mut paged = Vec::new();
        for page in 0..4 {
            let report = store
                .impact_view(
                    &tech,
                    &core,
                    ImpactDirection::Dependants,
                    view(page * 10, 10, 0),
                )
                .await
                .unwrap();
            assert_eq!(report.offset, page * 10);
            assert_eq!((report.total, report.hidden), (35, 1), "{label}");
            assert_eq!(report.municipalities, all.municipalities);
            paged.extend(report.nodes);
        }
        assert_eq!(paged, all.nodes, "{label}");
        let first: Vec<&str> = all.nodes[..3]
            .iter()
            .map(|n| n.item.name.as_str())
            .collect();
        assert_eq!(first, ["Svitsj 00", "Svitsj 01", "Svitsj 02"]);
        assert_eq!(all.nodes[30].item.name, "PC 0");

        // The diagram's items: per depth the worst first (down, then by name).
        let report = store
            .impact_view(&tech, &core, ImpactDirection::Dependants, view(0, 2, 3))
            .await
            .unwrap();
        let drawn: Vec<(&str, u32, Option<Effect>)> = report
            .drawn
            .iter()
            .map(|n| (n.item.name.as_str(), n.depth, n.effect))
            .collect();
        let down = Some(Effect::Down);
        assert_eq!(
            drawn,
            [
                ("Svitsj 01", 1, down),
                ("Svitsj 02", 1, down),
                ("Svitsj 04", 1, down),
                ("PC 0", 2, down),
                ("PC 1", 2, down),
                ("PC 2", 2, down),
            ],
            "{label}"
        );
        assert_eq!(report.nodes.len(), 2);
        // Relations among the origin and the items named, none to what is not named.
        let named: BTreeSet<&str> = report
            .nodes
            .iter()
            .chain(&report.drawn)
            .map(|n| n.item.id.as_str())
            .chain([core.as_str()])
            .collect();
        assert!(!report.edges.is_empty());
        for e in &report.edges {
            assert!(
                named.contains(e.from.as_str()) && named.contains(e.to.as_str()),
                "{label}"
            );
        }
        assert!(
            report
                .edges
                .iter()
                .all(|e| e.from != hidden && e.to != hidden)
        );

        // Past the end: counts, no rows.
        let report = store
            .impact_view(&tech, &core, ImpactDirection::Dependants, view(100, 10, 0))
            .await
            .unwrap();
        assert!(report.nodes.is_empty());
        assert_eq!((report.offset, report.total), (35, 35), "{label}");

        // What a PC needs: nothing fails, so nothing is counted down or degraded.
        let needs = store
            .impact(&tech, &paged[30].item.id, ImpactDirection::Needs)
            .await
            .unwrap();
        assert_eq!(
            (needs.total, needs.down, needs.degraded, needs.hidden),
            (2, 0, 0, 0)
        );
        assert!(needs.nodes.iter().all(|n| n.effect.is_none()));
        let path: Vec<Option<String>> = [&paged[30].item.id, &switches[1], &core]
            .map(|id| Some(id.clone()))
            .into();
        assert_eq!(needs.nodes[1].path, path, "{label}");
    }
}
