//! The demo data `drifta demo` starts with, on both backends: the service desk and the
//! inventory a newcomer explores first must be there and make sense.

use crate::support::hasher;
use drifta_core::Actor;
use drifta_core::cmdb::{Effect, ItemType};
use drifta_store::testing::backends;
use drifta_store::{ImpactDirection, ItemFilter};

#[tokio::test]
async fn the_demo_has_a_connected_inventory_across_the_five_municipalities() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        store.seed_demo(&hasher()).await.unwrap();
        let summary = store.seed_demo_inventory().await.unwrap();
        assert!(!summary.is_empty(), "{label}");
        let scope = store
            .installation_scope(Actor::system("test"))
            .await
            .unwrap();
        let all = store
            .list_items(
                &scope,
                &ItemFilter {
                    limit: 100_000,
                    ..ItemFilter::default()
                },
            )
            .await
            .unwrap();
        assert!(all.len() >= 2_000, "{label}: {} items", all.len());
        let municipalities: std::collections::BTreeSet<&str> =
            all.iter().map(|i| i.tenant_name.as_str()).collect();
        assert_eq!(municipalities.len(), 5, "{label}: {municipalities:?}");
        for t in [
            ItemType::NetworkLink,
            ItemType::WelfareDevice,
            ItemType::Application,
            ItemType::HypervisorCluster,
        ] {
            assert!(all.iter().any(|i| i.item_type == t), "{label}: no {t}");
        }
        // The host municipality's shared storage carries every municipality's services.
        let mut impact: Option<drifta_store::ImpactReport> = None;
        for storage in all
            .iter()
            .filter(|i| i.item_type == ItemType::Storage && i.tenant_name.contains("Skjærvåg"))
        {
            let report = store
                .impact(&scope, &storage.id, ImpactDirection::Dependants)
                .await
                .unwrap();
            if impact
                .as_ref()
                .is_none_or(|i| report.nodes.len() > i.nodes.len())
            {
                impact = Some(report);
            }
        }
        let impact = impact.unwrap_or_else(|| panic!("{label}: shared storage"));
        assert!(
            impact.municipalities.len() >= 5,
            "{label}: {:?}",
            impact.municipalities
        );
        assert!(!impact.services.is_empty(), "{label}");
        assert!(
            impact.nodes.iter().any(|n| n.effect == Some(Effect::Down)),
            "{label}"
        );
        // A school keeps going on its 4G backup when the fibre is cut: the site router is
        // degraded, never down.
        let mut primary = None;
        for link in all.iter().filter(|i| i.item_type == ItemType::NetworkLink) {
            let item = store.get_item(&scope, &link.id).await.unwrap();
            if item.attributes.get("primary").is_some_and(|p| p == "true") {
                primary = Some(item);
                break;
            }
        }
        let primary = primary.unwrap_or_else(|| panic!("{label}: a primary link"));
        let impact = store
            .impact(&scope, &primary.summary.id, ImpactDirection::Dependants)
            .await
            .unwrap();
        let routers: Vec<_> = impact
            .nodes
            .iter()
            .filter(|n| n.depth == 1 && n.item.item_type == ItemType::NetworkDevice)
            .collect();
        assert!(
            !routers.is_empty(),
            "{label}: the link serves a site router"
        );
        assert!(
            routers.iter().all(|n| n.effect == Some(Effect::Degraded)),
            "{label}: {routers:?}"
        );
        // The application portfolio is mid-migration, with gaps for the DPO to find.
        let lysberg = all
            .iter()
            .find(|i| i.tenant_name.contains("Lysberg"))
            .unwrap()
            .tenant_id
            .clone();
        let host = all
            .iter()
            .find(|i| i.tenant_name.contains("Skjærvåg"))
            .unwrap()
            .tenant_id
            .clone();
        let record = store.processing_record(&scope, &host).await.unwrap();
        assert!(record.len() >= 10, "{label}: {}", record.len());
        assert!(record.iter().any(|e| !e.gaps.is_empty()), "{label}");
        let statuses: std::collections::HashSet<_> = record
            .iter()
            .map(|e| e.portfolio.migration_status)
            .collect();
        assert!(statuses.len() >= 3, "{label}: {statuses:?}");
        let cloud = store.processing_record(&scope, &lysberg).await.unwrap();
        assert!(
            cloud
                .iter()
                .any(|e| e.gaps.iter().any(|g| g.code() == "backup-outside-eea")),
            "{label}"
        );
        assert!(store.verify_audit_chain().await.unwrap().is_ok(), "{label}");
    }
}
