//! Inventory: items and their fields, who sees which, the life cycle to certified disposal,
//! relations and their rules, impact analysis, ticket links, suppliers, contracts, list
//! filters and the audit trail.

use crate::support::{provider_with, user_with};
use drifta_core::cmdb::{Disposal, Effect, ItemType, Lifecycle, RelationType};
use drifta_core::tenant::LocationKind;
use drifta_core::ticket::{Level, TicketKind};
use drifta_core::{Country, Role, Scope, TenantId, UserId};
use drifta_store::testing::backends;
use drifta_store::{
    AuditFilter, CustomField, ImpactDirection, ImpactReport, ItemFilter, ItemInput, NewContract,
    NewItem, NewLocation, NewSupplier, NewTenant, NewTicket, Store, StoreError,
};
use std::collections::BTreeMap;
use std::time::Duration;

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn new_item(tenant: &TenantId, item_type: ItemType, name: &str) -> NewItem {
    NewItem {
        tenant_id: tenant.clone(),
        item_type,
        lifecycle: Lifecycle::Deployed,
        input: ItemInput {
            name: name.into(),
            ..ItemInput::default()
        },
    }
}

async fn add(
    store: &Store,
    scope: &Scope,
    tenant: &TenantId,
    item_type: ItemType,
    name: &str,
) -> String {
    store
        .create_item(scope, new_item(tenant, item_type, name))
        .await
        .unwrap()
        .summary
        .id
}

async fn scope_with(store: &Store, admin: &Scope, home: &TenantId, role: Role) -> Scope {
    let user = user_with(store, admin, home, &[(home.clone(), role)]).await;
    store.scope_for(&user, "").await.unwrap()
}

async fn location(store: &Store, admin: &Scope, tenant: &TenantId, name: &str) -> String {
    store
        .create_location(
            admin,
            tenant,
            NewLocation {
                name: name.into(),
                kind: LocationKind::School,
                address: String::new(),
            },
        )
        .await
        .unwrap()
        .id
        .to_string()
}

/// The field and code of a refused input; anything else fails the test.
fn refused<T: std::fmt::Debug>(result: Result<T, StoreError>) -> (&'static str, &'static str) {
    match result {
        Err(StoreError::Invalid(f)) => (f.field, f.code),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn is_not_found<T>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound))
}

fn is_denied<T>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Denied(_)))
}

/// Names of the items a scope lists with `filter`, sorted.
async fn listed(store: &Store, scope: &Scope, filter: ItemFilter) -> Vec<String> {
    let mut names: Vec<String> = store
        .list_items(
            scope,
            &ItemFilter {
                limit: 100,
                ..filter
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    names.sort();
    names
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn ticket(tenant: &TenantId, title: &str, requester: Option<UserId>) -> NewTicket {
    NewTicket {
        tenant_id: tenant.clone(),
        kind: TicketKind::Incident,
        title: title.into(),
        description: String::new(),
        requester_id: requester,
        location_id: None,
        category: String::new(),
        impact: Level::Medium,
        urgency: Level::Medium,
        channel: "phone".into(),
    }
}

#[tokio::test]
async fn items_are_normalised_validated_and_keyed_per_municipality() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (_, munis, admin) = provider_with(store, 2).await;
        let tech = scope_with(store, &admin, &munis[0], Role::Technician).await;
        let school = location(store, &admin, &munis[0], "Skolen").await;
        let neighbour_hall = location(store, &admin, &munis[1], "Nabo-rådhuset").await;

        let mut new = new_item(&munis[0], ItemType::NetworkLink, "  Fiber til skolen  ");
        new.input.location_id = Some(school.clone());
        new.input.serial_number = Some(" SN-1 ".into());
        new.input.hostname = Some("Link-Skole.Kommune.NO".into());
        new.input.purchased_on = Some("2024-02-29".into());
        new.input.warranty_until = Some(" 2027-03-01 ".into());
        new.input.attributes = attrs(&[
            ("primary", "ja"),
            ("medium", "FIBRE"),
            ("bandwidth_mbps", "0100"),
            ("circuit_id", "  "),
        ]);
        let link = store.create_item(&tech, new).await.unwrap();
        let s = &link.summary;
        assert_eq!(s.name, "Fiber til skolen", "{label}");
        assert_eq!(s.item_type, ItemType::NetworkLink);
        assert_eq!(s.lifecycle, Lifecycle::Deployed);
        assert_eq!(s.tenant_id, munis[0]);
        assert_eq!(s.tenant_name, "Kommune 0");
        assert_eq!(s.location_id.as_deref(), Some(school.as_str()));
        assert_eq!(s.location_name, "Skolen");
        assert_eq!(s.serial_number.as_deref(), Some("SN-1"));
        assert_eq!(s.hostname.as_deref(), Some("link-skole.kommune.no"));
        assert_eq!(s.asset_tag, None);
        assert_eq!(s.warranty_until.as_deref(), Some("2027-03-01"));
        assert_eq!(link.purchased_on.as_deref(), Some("2024-02-29"));
        assert_eq!(link.disposal, None);
        assert_eq!(
            link.attributes,
            attrs(&[
                ("bandwidth_mbps", "100"),
                ("medium", "fibre"),
                ("primary", "true")
            ]),
            "{label}: normalised, empty dropped"
        );
        assert_eq!(store.get_item(&tech, &s.id).await.unwrap(), link);

        // Refused input names its field and creates nothing.
        let with = |f: &dyn Fn(&mut NewItem)| {
            let mut n = new_item(&munis[0], ItemType::NetworkLink, "Ny link");
            f(&mut n);
            n
        };
        let cases: Vec<(NewItem, (&str, &str))> = vec![
            (
                with(&|n| n.input.attributes = attrs(&[("colour", "blue")])),
                ("attributes", "unknown-field"),
            ),
            (
                with(&|n| {
                    n.item_type = ItemType::Workstation;
                    n.input.attributes = attrs(&[("primary", "ja")]);
                }),
                ("attributes", "unknown-field"),
            ),
            (
                with(&|n| n.input.attributes = attrs(&[("primary", "kanskje")])),
                ("attributes", "bad-bool"),
            ),
            (
                with(&|n| n.input.warranty_until = Some("01.03.2027".into())),
                ("warranty_until", "bad-date"),
            ),
            (
                with(&|n| n.input.purchased_on = Some("2023-02-30".into())),
                ("purchased_on", "bad-date"),
            ),
            (with(&|n| n.input.name = "   ".into()), ("name", "required")),
            (
                with(&|n| n.input.location_id = Some(neighbour_hall.clone())),
                ("location", "location-other-municipality"),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                refused(store.create_item(&tech, input).await),
                expected,
                "{label}"
            );
        }
        assert_eq!(
            listed(store, &tech, ItemFilter::default()).await,
            ["Fiber til skolen"],
            "{label}"
        );

        // An update replaces the recorded fields; cleared ones go.
        let updated = store
            .update_item(
                &tech,
                &s.id,
                ItemInput {
                    name: "Fiber til skolen (ny)".into(),
                    serial_number: Some("SN-1".into()),
                    hostname: Some("LINK-SKOLE.kommune.no".into()),
                    asset_tag: Some("A-100".into()),
                    attributes: attrs(&[("primary", "Nei"), ("medium", "4g")]),
                    ..ItemInput::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(updated.summary.name, "Fiber til skolen (ny)");
        assert_eq!(
            updated.attributes,
            attrs(&[("medium", "4g"), ("primary", "false")]),
            "{label}"
        );
        assert_eq!(updated.summary.asset_tag.as_deref(), Some("A-100"));
        assert_eq!(updated.summary.location_id, None);
        assert_eq!(updated.summary.warranty_until, None);
        assert_eq!(updated.purchased_on, None);
        assert_eq!(
            updated.summary.lifecycle,
            Lifecycle::Deployed,
            "unchanged by update"
        );
        assert_eq!(updated.created_at, link.created_at);
        // A refused update leaves the item as it was.
        assert_eq!(
            refused(
                store
                    .update_item(
                        &tech,
                        &s.id,
                        ItemInput {
                            name: "Skal ikke lagres".into(),
                            attributes: attrs(&[("bandwidth_mbps", "mye")]),
                            ..ItemInput::default()
                        },
                    )
                    .await
            ),
            ("attributes", "bad-integer")
        );
        assert_eq!(store.get_item(&tech, &s.id).await.unwrap(), updated);

        // Natural keys are unique within a municipality, regardless of case.
        let keyed = |serial: Option<&str>, host: Option<&str>, tag: Option<&str>| {
            let mut n = new_item(&munis[0], ItemType::Workstation, "PC");
            n.input.serial_number = serial.map(str::to_string);
            n.input.hostname = host.map(str::to_string);
            n.input.asset_tag = tag.map(str::to_string);
            n
        };
        for (input, field) in [
            (keyed(Some("SN-1"), None, None), "serial_number"),
            (keyed(None, Some("Link-SKOLE.kommune.no"), None), "hostname"),
            (keyed(None, None, Some("A-100")), "asset_tag"),
            (keyed(Some("sn-1"), None, None), "serial_number"),
            (keyed(None, None, Some("a-100")), "asset_tag"),
        ] {
            let err = store.create_item(&tech, input).await.unwrap_err();
            assert!(
                matches!(err, StoreError::Taken { field: f } if f == field),
                "{label}: {field}: {err:?}"
            );
        }
        let pc = store
            .create_item(&tech, keyed(Some("SN-2"), Some("pc-2"), Some("A-200")))
            .await
            .unwrap();
        let err = store
            .update_item(
                &tech,
                &pc.summary.id,
                ItemInput {
                    name: "PC".into(),
                    asset_tag: Some("A-100".into()),
                    ..ItemInput::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Taken { field: "asset_tag" }),
            "{label}: {err:?}"
        );
        // The same keys are fine in another municipality.
        let mut elsewhere = keyed(Some("SN-1"), Some("link-skole.kommune.no"), Some("A-100"));
        elsewhere.tenant_id = munis[1].clone();
        let elsewhere = store.create_item(&admin, elsewhere).await.unwrap();
        assert_eq!(elsewhere.summary.serial_number.as_deref(), Some("SN-1"));
        assert_eq!(elsewhere.summary.tenant_id, munis[1], "{label}");
    }
}

#[tokio::test]
async fn each_role_sees_only_its_municipalities_inventory() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (provider, munis, admin) = provider_with(store, 2).await;
        let tech_a = scope_with(store, &admin, &munis[0], Role::Technician).await;
        let requester_a = scope_with(store, &admin, &munis[0], Role::Requester).await;
        let auditor_a = scope_with(store, &admin, &munis[0], Role::Auditor).await;
        let provider_tech = scope_with(store, &admin, &provider, Role::Technician).await;

        let pc_a = add(store, &tech_a, &munis[0], ItemType::Workstation, "PC A").await;
        let printer_a = add(store, &tech_a, &munis[0], ItemType::Printer, "Skriver A").await;
        let pc_b = add(store, &admin, &munis[1], ItemType::Workstation, "PC B").await;
        let switch_b = add(
            store,
            &admin,
            &munis[1],
            ItemType::NetworkDevice,
            "Svitsj B",
        )
        .await;
        store
            .relate_items(&admin, &pc_b, RelationType::ConnectsTo, &switch_b)
            .await
            .unwrap();

        // Another municipality's item answers like a missing one, whatever is asked.
        assert!(
            is_not_found(store.get_item(&tech_a, &pc_b).await),
            "{label}"
        );
        assert!(is_not_found(
            store
                .update_item(
                    &tech_a,
                    &pc_b,
                    ItemInput {
                        name: "Kapret".into(),
                        ..ItemInput::default()
                    }
                )
                .await
        ));
        assert!(is_not_found(
            store
                .move_item(&tech_a, &pc_b, Lifecycle::InRepair, None)
                .await
        ));
        assert!(is_not_found(store.item_relations(&tech_a, &pc_b).await));
        for direction in [ImpactDirection::Dependants, ImpactDirection::Needs] {
            assert!(is_not_found(
                store.impact(&tech_a, &switch_b, direction).await
            ));
        }
        assert!(is_not_found(
            store
                .relate_items(&tech_a, &pc_b, RelationType::ConnectsTo, &pc_a)
                .await
        ));
        assert!(is_not_found(
            store
                .unrelate_items(&tech_a, &pc_b, RelationType::ConnectsTo, &switch_b)
                .await
        ));
        assert!(is_denied(
            store
                .create_item(&tech_a, new_item(&munis[1], ItemType::Laptop, "Nei"))
                .await
        ));
        assert_eq!(
            store.get_item(&admin, &pc_b).await.unwrap().summary.name,
            "PC B"
        );
        assert_eq!(store.item_relations(&admin, &pc_b).await.unwrap().len(), 1);

        assert_eq!(
            listed(store, &tech_a, ItemFilter::default()).await,
            ["PC A", "Skriver A"],
            "{label}"
        );
        // Asking for another municipality never widens the list.
        assert!(
            listed(
                store,
                &tech_a,
                ItemFilter {
                    tenant: Some(munis[1].clone()),
                    ..ItemFilter::default()
                }
            )
            .await
            .is_empty()
        );
        assert_eq!(
            listed(store, &provider_tech, ItemFilter::default()).await,
            ["PC A", "PC B", "Skriver A", "Svitsj B"],
            "{label}"
        );

        // Requesters do not browse the inventory.
        assert!(
            listed(store, &requester_a, ItemFilter::default())
                .await
                .is_empty()
        );
        assert!(is_not_found(store.get_item(&requester_a, &pc_a).await));
        assert!(is_denied(
            store
                .create_item(&requester_a, new_item(&munis[0], ItemType::Phone, "Nei"))
                .await
        ));
        assert!(is_denied(
            store
                .item_fields(&requester_a, &munis[0], ItemType::Phone)
                .await
        ));

        // Auditors read everything in their municipality and change nothing.
        assert_eq!(
            store
                .get_item(&auditor_a, &pc_a)
                .await
                .unwrap()
                .summary
                .name,
            "PC A"
        );
        assert_eq!(
            listed(store, &auditor_a, ItemFilter::default()).await,
            ["PC A", "Skriver A"],
            "{label}"
        );
        assert!(is_not_found(store.get_item(&auditor_a, &pc_b).await));
        assert!(is_denied(
            store
                .create_item(&auditor_a, new_item(&munis[0], ItemType::Phone, "Nei"))
                .await
        ));
        assert!(is_denied(
            store
                .update_item(
                    &auditor_a,
                    &pc_a,
                    ItemInput {
                        name: "Endret".into(),
                        ..ItemInput::default()
                    }
                )
                .await
        ));
        assert!(is_denied(
            store
                .move_item(&auditor_a, &pc_a, Lifecycle::InRepair, None)
                .await
        ));
        assert!(is_denied(
            store
                .relate_items(&auditor_a, &pc_a, RelationType::ConnectsTo, &printer_a)
                .await
        ));
        let unchanged = store.get_item(&tech_a, &pc_a).await.unwrap();
        assert_eq!(
            (unchanged.summary.name.as_str(), unchanged.summary.lifecycle),
            ("PC A", Lifecycle::Deployed),
            "{label}"
        );
        assert!(
            store
                .item_relations(&tech_a, &pc_a)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn custom_fields_apply_to_every_municipality_of_their_provider() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (provider, munis, _) = provider_with(store, 2).await;
        let (other_provider, other_munis, admin) = provider_with(store, 1).await;
        let provider_admin = scope_with(store, &admin, &provider, Role::ProviderAdmin).await;
        let provider_tech = scope_with(store, &admin, &provider, Role::Technician).await;
        let field = |key: &str, kind: &str, choices: &str| CustomField {
            item_type: ItemType::NetworkDevice,
            key: key.into(),
            label: format!("Felt {key}"),
            kind: kind.into(),
            choices: choices.into(),
        };

        assert!(
            is_denied(
                store
                    .add_custom_field(&provider_tech, &provider, field("vlan", "integer", ""))
                    .await
            ),
            "{label}: technicians cannot change every municipality's forms"
        );
        let mut spaced = field(" vlan ", "integer", "");
        spaced.label = " Felt vlan ".into();
        let vlan = store
            .add_custom_field(&provider_admin, &provider, spaced)
            .await
            .unwrap();
        assert_eq!(
            (vlan.key.as_str(), vlan.label.as_str()),
            ("vlan", "Felt vlan")
        );
        store
            .add_custom_field(
                &provider_admin,
                &provider,
                field("zone", "choice", "dmz, intern"),
            )
            .await
            .unwrap();
        for (f, expected) in [
            (field("VLAN", "integer", ""), ("key", "field-key")),
            (field("1vlan", "integer", ""), ("key", "field-key")),
            (field("rack unit", "integer", ""), ("key", "field-key")),
            (field("rack", "choice", " , "), ("kind", "field-kind")),
            (field("rack", "float", ""), ("kind", "field-kind")),
        ] {
            assert_eq!(
                refused(store.add_custom_field(&provider_admin, &provider, f).await),
                expected,
                "{label}"
            );
        }
        let mut unlabelled = field("rack", "text", "");
        unlabelled.label = " ".into();
        assert_eq!(
            refused(
                store
                    .add_custom_field(&provider_admin, &provider, unlabelled)
                    .await
            ),
            ("label", "required")
        );
        // Fields belong to a provider: one added "to a municipality" would never apply.
        assert!(
            is_not_found(
                store
                    .add_custom_field(&provider_admin, &munis[0], field("rack", "text", ""))
                    .await
            ),
            "{label}"
        );
        for key in ["model", "vlan"] {
            let err = store
                .add_custom_field(&provider_admin, &provider, field(key, "text", ""))
                .await
                .unwrap_err();
            assert!(
                matches!(err, StoreError::Taken { field: "key" }),
                "{label}: {key}: {err:?}"
            );
        }
        let keys: Vec<(ItemType, String)> = store
            .custom_fields(&provider_admin, &provider)
            .await
            .unwrap()
            .into_iter()
            .map(|f| (f.item_type, f.key))
            .collect();
        assert_eq!(
            keys,
            [
                (ItemType::NetworkDevice, "vlan".to_string()),
                (ItemType::NetworkDevice, "zone".to_string())
            ],
            "{label}"
        );

        // The fields validate on that type in every municipality of the provider.
        for muni in &munis {
            let mut n = new_item(muni, ItemType::NetworkDevice, "Svitsj");
            n.input.attributes = attrs(&[("vlan", "042"), ("zone", "DMZ"), ("model", "C9300")]);
            let item = store.create_item(&provider_tech, n).await.unwrap();
            assert_eq!(
                item.attributes,
                attrs(&[("model", "C9300"), ("vlan", "42"), ("zone", "dmz")]),
                "{label}"
            );
            for (bad, code) in [
                (attrs(&[("vlan", "førtito")]), "bad-integer"),
                (attrs(&[("zone", "ute")]), "bad-choice"),
            ] {
                let mut n = new_item(muni, ItemType::NetworkDevice, "Svitsj 2");
                n.input.attributes = bad;
                assert_eq!(
                    refused(store.create_item(&provider_tech, n).await),
                    ("attributes", code),
                    "{label}"
                );
            }
            let fields = store
                .item_fields(&provider_tech, muni, ItemType::NetworkDevice)
                .await
                .unwrap();
            let vlan = fields.iter().find(|f| f.key == "vlan").expect("vlan field");
            assert_eq!(vlan.custom_label.as_deref(), Some("Felt vlan"));
            assert!(
                fields
                    .iter()
                    .any(|f| f.key == "model" && f.custom_label.is_none())
            );
        }
        // Only on that type, and only for that provider.
        let mut pc = new_item(&munis[0], ItemType::Workstation, "PC");
        pc.input.attributes = attrs(&[("vlan", "42")]);
        assert_eq!(
            refused(store.create_item(&provider_tech, pc).await),
            ("attributes", "unknown-field")
        );
        let mut foreign = new_item(&other_munis[0], ItemType::NetworkDevice, "Svitsj");
        foreign.input.attributes = attrs(&[("vlan", "42")]);
        assert_eq!(
            refused(store.create_item(&admin, foreign).await),
            ("attributes", "unknown-field"),
            "{label}"
        );
        assert!(
            !store
                .item_fields(&admin, &other_munis[0], ItemType::NetworkDevice)
                .await
                .unwrap()
                .iter()
                .any(|f| f.key == "vlan")
        );
        assert!(
            store
                .custom_fields(&admin, &other_provider)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn life_cycle_moves_follow_the_rules_and_disposal_clears_relations() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (_, munis, admin) = provider_with(store, 1).await;
        let tech = scope_with(store, &admin, &munis[0], Role::Technician).await;
        let m = &munis[0];

        let mut born_disposed = new_item(m, ItemType::Laptop, "Rett i søpla");
        born_disposed.lifecycle = Lifecycle::Disposed;
        assert_eq!(
            refused(store.create_item(&tech, born_disposed).await),
            ("lifecycle", "lifecycle-transition"),
            "{label}"
        );
        assert!(listed(store, &tech, ItemFilter::default()).await.is_empty());

        let mut ordered = new_item(m, ItemType::Laptop, "Bestilt PC");
        ordered.lifecycle = Lifecycle::Ordered;
        let laptop = store.create_item(&tech, ordered).await.unwrap().summary.id;
        let step = |id: &str, next: Lifecycle| {
            let (scope, id) = (tech.clone(), id.to_string());
            async move { store.move_item(&scope, &id, next, None).await }
        };
        assert_eq!(
            refused(step(&laptop, Lifecycle::InRepair).await),
            ("lifecycle", "lifecycle-transition")
        );
        assert_eq!(
            step(&laptop, Lifecycle::InStock)
                .await
                .unwrap()
                .summary
                .lifecycle,
            Lifecycle::InStock
        );
        step(&laptop, Lifecycle::Deployed).await.unwrap();
        assert_eq!(
            refused(step(&laptop, Lifecycle::Ordered).await),
            ("lifecycle", "lifecycle-transition")
        );
        assert_eq!(
            refused(step(&laptop, Lifecycle::Deployed).await),
            ("lifecycle", "lifecycle-transition"),
            "{label}: no move to where it is"
        );

        let server = add(store, &tech, m, ItemType::PhysicalServer, "Gammel server").await;
        let app = add(store, &tech, m, ItemType::Application, "Arkiv").await;
        let pc = add(store, &tech, m, ItemType::Workstation, "PC").await;
        let database = add(store, &tech, m, ItemType::Database, "Arkivdatabase").await;
        store
            .relate_items(&tech, &app, RelationType::RunsOn, &server)
            .await
            .unwrap();
        store
            .relate_items(&tech, &server, RelationType::ConnectsTo, &pc)
            .await
            .unwrap();
        store
            .relate_items(&tech, &app, RelationType::DependsOn, &database)
            .await
            .unwrap();

        let certificate = Disposal {
            recycler: " Stena Recycling ".into(),
            certificate: "CERT-2025-001".into(),
        };
        assert_eq!(
            refused(
                store
                    .move_item(
                        &tech,
                        &server,
                        Lifecycle::Disposed,
                        Some(certificate.clone())
                    )
                    .await
            ),
            ("lifecycle", "lifecycle-transition"),
            "{label}: only retired items are disposed"
        );
        assert_eq!(
            refused(
                store
                    .move_item(
                        &tech,
                        &server,
                        Lifecycle::Retired,
                        Some(certificate.clone())
                    )
                    .await
            ),
            ("disposal", "disposal-unexpected")
        );
        step(&server, Lifecycle::Retired).await.unwrap();
        assert_eq!(
            refused(step(&server, Lifecycle::Deployed).await),
            ("lifecycle", "lifecycle-transition"),
            "{label}: retired goes back through stock"
        );
        assert_eq!(
            refused(step(&server, Lifecycle::Disposed).await),
            ("disposal", "disposal-missing")
        );
        for (recycler, cert, field) in [("  ", "CERT-1", "recycler"), ("Stena", " ", "certificate")]
        {
            let disposal = Disposal {
                recycler: recycler.into(),
                certificate: cert.into(),
            };
            assert_eq!(
                refused(
                    store
                        .move_item(&tech, &server, Lifecycle::Disposed, Some(disposal))
                        .await
                ),
                (field, "required"),
                "{label}"
            );
        }
        assert_eq!(
            store.item_relations(&tech, &server).await.unwrap().len(),
            2,
            "{label}: refused moves keep relations"
        );
        let retired = store.get_item(&tech, &server).await.unwrap();
        assert_eq!(retired.summary.lifecycle, Lifecycle::Retired);
        assert_eq!(retired.disposal, None);

        let disposed = store
            .move_item(&tech, &server, Lifecycle::Disposed, Some(certificate))
            .await
            .unwrap();
        assert_eq!(disposed.summary.lifecycle, Lifecycle::Disposed, "{label}");
        assert_eq!(
            disposed.disposal,
            Some(Disposal {
                recycler: "Stena Recycling".into(),
                certificate: "CERT-2025-001".into(),
            })
        );
        assert_eq!(store.get_item(&tech, &server).await.unwrap(), disposed);
        let recorded = store
            .list_audit(
                &admin,
                &AuditFilter {
                    object_type: Some("item".into()),
                    limit: 1,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap()
            .entries
            .remove(0);
        assert_eq!(
            (recorded.action.as_str(), recorded.object_id.as_str()),
            ("lifecycle", server.as_str())
        );
        let after = recorded.after.unwrap_or_default();
        assert!(
            after.contains("CERT-2025-001") && after.contains("disposed"),
            "{label}: {after}"
        );
        assert!(
            store
                .item_relations(&tech, &server)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.item_relations(&tech, &pc).await.unwrap().is_empty());
        let left: Vec<(RelationType, String)> = store
            .item_relations(&tech, &app)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.relation, r.other.id))
            .collect();
        assert_eq!(
            left,
            [(RelationType::DependsOn, database.clone())],
            "{label}: other relations stay"
        );

        // Disposed is final and takes no new relations, from either end.
        for next in [Lifecycle::InStock, Lifecycle::Retired, Lifecycle::Deployed] {
            assert_eq!(
                refused(step(&server, next).await),
                ("lifecycle", "lifecycle-transition"),
                "{label}"
            );
        }
        assert_eq!(
            refused(
                store
                    .relate_items(&tech, &app, RelationType::RunsOn, &server)
                    .await
            )
            .1,
            "relation-disposed"
        );
        assert_eq!(
            refused(
                store
                    .relate_items(&tech, &server, RelationType::ConnectsTo, &pc)
                    .await
            )
            .1,
            "relation-disposed"
        );
        assert!(
            store
                .item_relations(&tech, &server)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            listed(
                store,
                &tech,
                ItemFilter {
                    lifecycle: Some(Lifecycle::Disposed),
                    ..ItemFilter::default()
                }
            )
            .await,
            ["Gammel server"],
            "{label}"
        );
    }
}

#[tokio::test]
async fn relations_refuse_self_unseen_targets_and_hierarchy_cycles() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (provider, munis, _) = provider_with(store, 2).await;
        let (_, other_munis, admin) = provider_with(store, 1).await;
        let tech_a = scope_with(store, &admin, &munis[0], Role::Technician).await;
        let provider_tech = scope_with(store, &admin, &provider, Role::Technician).await;
        let a = &munis[0];

        let service = add(store, &tech_a, a, ItemType::Service, "Saksbehandling").await;
        let app = add(store, &tech_a, a, ItemType::Application, "Sak-app").await;
        let vm = add(store, &tech_a, a, ItemType::VirtualMachine, "Sak-vm").await;
        let cluster = add(store, &tech_a, a, ItemType::HypervisorCluster, "Klynge").await;
        let relate = |scope: &Scope, from: &str, relation: RelationType, to: &str| {
            let (scope, from, to) = (scope.clone(), from.to_string(), to.to_string());
            async move { store.relate_items(&scope, &from, relation, &to).await }
        };
        let outgoing = |scope: &Scope, id: &str| {
            let (scope, id) = (scope.clone(), id.to_string());
            async move {
                store
                    .item_relations(&scope, &id)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| (r.relation, r.outgoing, r.other.name))
                    .collect::<Vec<_>>()
            }
        };

        relate(&tech_a, &app, RelationType::RunsOn, &vm)
            .await
            .unwrap();
        relate(&tech_a, &app, RelationType::RunsOn, &vm)
            .await
            .unwrap();
        assert_eq!(
            outgoing(&tech_a, &app).await,
            [(RelationType::RunsOn, true, "Sak-vm".to_string())],
            "{label}: a duplicate adds nothing"
        );
        assert_eq!(
            outgoing(&tech_a, &vm).await,
            [(RelationType::RunsOn, false, "Sak-app".to_string())]
        );
        relate(&tech_a, &vm, RelationType::RunsOn, &cluster)
            .await
            .unwrap();
        relate(&tech_a, &service, RelationType::DependsOn, &app)
            .await
            .unwrap();

        assert_eq!(
            refused(relate(&tech_a, &app, RelationType::DependsOn, &app).await),
            ("to", "relation-self")
        );
        for (from, relation, to) in [
            (&vm, RelationType::RunsOn, &app),
            (&cluster, RelationType::RunsOn, &app),
            // cluster → service → app → vm → cluster, mixing depends_on and runs_on.
            (&cluster, RelationType::DependsOn, &service),
            (&app, RelationType::DependsOn, &service),
        ] {
            assert_eq!(
                refused(relate(&tech_a, from, relation, to).await),
                ("relation", "relation-cycle"),
                "{label}: {relation}"
            );
        }
        assert!(outgoing(&tech_a, &cluster).await.iter().all(|r| !r.1));
        // Uplinks and backups may go round in circles.
        relate(&tech_a, &cluster, RelationType::ConnectsTo, &vm)
            .await
            .unwrap();
        relate(&tech_a, &vm, RelationType::ConnectsTo, &cluster)
            .await
            .unwrap();
        relate(&tech_a, &cluster, RelationType::BacksUp, &app)
            .await
            .unwrap();
        relate(&tech_a, &app, RelationType::BacksUp, &cluster)
            .await
            .unwrap();
        assert_eq!(outgoing(&tech_a, &cluster).await.len(), 5, "{label}");

        // Other municipalities: invisible to the municipality's technician, fine for the
        // provider's, never across providers.
        let b_server = add(
            store,
            &admin,
            &munis[1],
            ItemType::PhysicalServer,
            "B-server",
        )
        .await;
        let database = add(store, &tech_a, a, ItemType::Database, "Sak-db").await;
        assert_eq!(
            refused(relate(&tech_a, &database, RelationType::RunsOn, &b_server).await),
            ("to", "relation-target-unknown"),
            "{label}"
        );
        assert_eq!(
            refused(relate(&tech_a, &database, RelationType::RunsOn, "no-such-item").await),
            ("to", "relation-target-unknown")
        );
        relate(&provider_tech, &database, RelationType::RunsOn, &b_server)
            .await
            .unwrap();
        assert_eq!(
            outgoing(&provider_tech, &database).await,
            [(RelationType::RunsOn, true, "B-server".to_string())],
            "{label}"
        );
        assert!(
            outgoing(&tech_a, &database).await.is_empty(),
            "{label}: the other end is hidden"
        );
        // A cycle through an item the user cannot see is still a cycle.
        relate(&provider_tech, &b_server, RelationType::DependsOn, &cluster)
            .await
            .unwrap();
        assert_eq!(
            refused(relate(&tech_a, &cluster, RelationType::DependsOn, &database).await),
            ("relation", "relation-cycle"),
            "{label}"
        );
        let foreign = add(
            store,
            &admin,
            &other_munis[0],
            ItemType::Database,
            "Fremmed",
        )
        .await;
        assert_eq!(
            refused(relate(&admin, &app, RelationType::DependsOn, &foreign).await),
            ("to", "relation-other-provider"),
            "{label}"
        );

        store
            .unrelate_items(&tech_a, &app, RelationType::RunsOn, &vm)
            .await
            .unwrap();
        assert!(
            outgoing(&tech_a, &app)
                .await
                .iter()
                .all(|r| r.0 != RelationType::RunsOn)
        );
        assert!(is_not_found(
            store
                .unrelate_items(&tech_a, &app, RelationType::RunsOn, &vm)
                .await
        ));
        // With the chain broken, what was a cycle is now allowed.
        relate(&tech_a, &vm, RelationType::RunsOn, &app)
            .await
            .unwrap();
    }
}

/// The ids of a report's nodes by name, with depth and effect.
fn by_name(report: &ImpactReport) -> BTreeMap<String, (u32, Option<Effect>)> {
    report
        .nodes
        .iter()
        .map(|n| (n.item.name.clone(), (n.depth, n.effect)))
        .collect()
}

#[tokio::test]
async fn impact_tells_down_from_degraded_and_hides_what_the_scope_cannot_see() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (provider, munis, admin) = provider_with(store, 2).await;
        let tech_a = scope_with(store, &admin, &munis[0], Role::Technician).await;
        let provider_tech = scope_with(store, &admin, &provider, Role::Technician).await;
        let a = &munis[0];
        let hall = location(store, &admin, a, "Rådhuset").await;
        let school = location(store, &admin, a, "Skole A").await;
        let care = location(store, &admin, a, "Sykehjem B").await;
        let mut ids: BTreeMap<&str, String> = BTreeMap::new();
        let items: [(&str, ItemType, Option<&String>); 16] = [
            ("Kjernesvitsj", ItemType::NetworkDevice, Some(&hall)),
            ("Ruter A", ItemType::NetworkDevice, Some(&school)),
            ("PC A1", ItemType::Workstation, Some(&school)),
            ("PC A2", ItemType::Workstation, Some(&school)),
            ("Fiber B", ItemType::NetworkLink, None),
            ("4G B", ItemType::NetworkLink, None),
            ("Mobilnett", ItemType::NetworkDevice, None),
            ("Ruter B", ItemType::NetworkDevice, Some(&care)),
            ("PC B1", ItemType::Workstation, Some(&care)),
            ("Klynge", ItemType::HypervisorCluster, Some(&hall)),
            ("Sak-vm", ItemType::VirtualMachine, None),
            ("Sak-app", ItemType::Application, None),
            ("Saksbehandling", ItemType::Service, None),
            ("Ring 1", ItemType::NetworkDevice, None),
            ("Ring 2", ItemType::NetworkDevice, None),
            ("Ring 3", ItemType::NetworkDevice, None),
        ];
        for (name, item_type, place) in items {
            let mut n = new_item(a, item_type, name);
            n.input.location_id = place.cloned();
            let id = store.create_item(&tech_a, n).await.unwrap().summary.id;
            ids.insert(name, id);
        }
        ids.insert(
            "PC nabo",
            add(store, &admin, &munis[1], ItemType::Workstation, "PC nabo").await,
        );
        use RelationType::{ConnectsTo, DependsOn, RunsOn};
        for (from, relation, to) in [
            ("Ruter A", ConnectsTo, "Kjernesvitsj"),
            ("PC A1", ConnectsTo, "Ruter A"),
            ("PC A2", ConnectsTo, "Ruter A"),
            ("Fiber B", ConnectsTo, "Kjernesvitsj"),
            ("4G B", ConnectsTo, "Mobilnett"),
            ("Ruter B", ConnectsTo, "Fiber B"),
            ("Ruter B", ConnectsTo, "4G B"),
            ("PC B1", ConnectsTo, "Ruter B"),
            ("Klynge", ConnectsTo, "Kjernesvitsj"),
            ("Sak-vm", RunsOn, "Klynge"),
            ("Sak-app", RunsOn, "Sak-vm"),
            ("Saksbehandling", DependsOn, "Sak-app"),
            // A ring whose only way out is the core.
            ("Ring 1", ConnectsTo, "Kjernesvitsj"),
            ("Ring 1", ConnectsTo, "Ring 2"),
            ("Ring 2", ConnectsTo, "Ring 3"),
            ("Ring 3", ConnectsTo, "Ring 1"),
            // The neighbour municipality's PC hangs off school A's router.
            ("PC nabo", ConnectsTo, "Ruter A"),
        ] {
            store
                .relate_items(&provider_tech, &ids[from], relation, &ids[to])
                .await
                .unwrap();
        }
        let impact = |scope: &Scope, name: &str, direction: ImpactDirection| {
            let (scope, id) = (scope.clone(), ids[name].clone());
            async move {
                tokio::time::timeout(
                    Duration::from_secs(30),
                    store.impact(&scope, &id, direction),
                )
                .await
                .expect("impact analysis finishes")
                .unwrap()
            }
        };
        let down = |d: u32| (d, Some(Effect::Down));
        let degraded = |d: u32| (d, Some(Effect::Degraded));

        let report = impact(&provider_tech, "Kjernesvitsj", ImpactDirection::Dependants).await;
        assert_eq!(report.origin.id, ids["Kjernesvitsj"]);
        assert_eq!(report.direction, ImpactDirection::Dependants);
        let expected: BTreeMap<String, (u32, Option<Effect>)> = [
            ("Ruter A", down(1)),
            ("Fiber B", down(1)),
            ("Klynge", down(1)),
            ("Ring 1", down(1)),
            ("PC A1", down(2)),
            ("PC A2", down(2)),
            ("PC nabo", down(2)),
            ("Ruter B", degraded(2)),
            ("Sak-vm", down(2)),
            ("Ring 3", down(2)),
            ("PC B1", degraded(3)),
            ("Sak-app", down(3)),
            ("Ring 2", down(3)),
            ("Saksbehandling", down(4)),
        ]
        .into_iter()
        .map(|(n, e)| (n.to_string(), e))
        .collect();
        assert_eq!(by_name(&report), expected, "{label}");
        let depths: Vec<u32> = report.nodes.iter().map(|n| n.depth).collect();
        assert!(depths.is_sorted(), "{label}: nearest first: {depths:?}");
        assert_eq!(report.hidden, 0);
        assert_eq!(report.municipalities, ["Kommune 0", "Kommune 1"], "{label}");
        assert_eq!(
            report.locations,
            ["Rådhuset", "Skole A", "Sykehjem B"],
            "{label}"
        );
        assert_eq!(report.services, ["Saksbehandling"]);
        let pc_b1 = report
            .nodes
            .iter()
            .find(|n| n.item.name == "PC B1")
            .unwrap();
        assert_eq!(
            pc_b1.path,
            ["PC B1", "Ruter B", "Fiber B", "Kjernesvitsj"].map(|n| Some(ids[n].clone())),
            "{label}"
        );
        let has_edge = |r: &ImpactReport, from: &str, relation: RelationType, to: &str| {
            r.edges
                .iter()
                .any(|e| e.from == ids[from] && e.relation == relation && e.to == ids[to])
        };
        assert!(has_edge(&report, "Ruter B", ConnectsTo, "Fiber B"));
        assert!(has_edge(&report, "Saksbehandling", DependsOn, "Sak-app"));
        assert!(has_edge(&report, "PC nabo", ConnectsTo, "Ruter A"));
        assert!(
            !has_edge(&report, "Ruter B", ConnectsTo, "4G B"),
            "{label}: the backup link is not impacted, so not drawn"
        );

        // The municipality's technician: the neighbour's PC is counted, not named.
        let report = impact(&tech_a, "Kjernesvitsj", ImpactDirection::Dependants).await;
        let mut without_neighbour = expected.clone();
        without_neighbour.remove("PC nabo");
        assert_eq!(by_name(&report), without_neighbour, "{label}");
        assert_eq!(report.hidden, 1, "{label}");
        assert_eq!(report.municipalities, ["Kommune 0"]);
        assert!(!has_edge(&report, "PC nabo", ConnectsTo, "Ruter A"));
        assert!(
            report
                .edges
                .iter()
                .all(|e| e.from != ids["PC nabo"] && e.to != ids["PC nabo"])
        );

        // One uplink of a site failing degrades it; a ring member failing degrades the ring.
        let report = impact(&tech_a, "Fiber B", ImpactDirection::Dependants).await;
        assert_eq!(
            by_name(&report),
            [("Ruter B", degraded(1)), ("PC B1", degraded(2))]
                .into_iter()
                .map(|(n, e)| (n.to_string(), e))
                .collect(),
            "{label}"
        );
        let report = impact(&tech_a, "Ring 2", ImpactDirection::Dependants).await;
        assert_eq!(
            by_name(&report),
            [("Ring 1", degraded(1)), ("Ring 3", degraded(2))]
                .into_iter()
                .map(|(n, e)| (n.to_string(), e))
                .collect(),
            "{label}"
        );
        let report = impact(&tech_a, "Sak-vm", ImpactDirection::Dependants).await;
        assert_eq!(report.services, ["Saksbehandling"]);
        assert_eq!(report.locations, Vec::<String>::new(), "{label}");
        assert_eq!(report.nodes.len(), 2);

        // What the service needs, nearest first, with nothing failing.
        let report = impact(&tech_a, "Saksbehandling", ImpactDirection::Needs).await;
        assert_eq!(report.direction, ImpactDirection::Needs);
        let names: Vec<(&str, u32)> = report
            .nodes
            .iter()
            .map(|n| (n.item.name.as_str(), n.depth))
            .collect();
        assert_eq!(
            names,
            [
                ("Sak-app", 1),
                ("Sak-vm", 2),
                ("Klynge", 3),
                ("Kjernesvitsj", 4)
            ],
            "{label}"
        );
        assert!(report.nodes.iter().all(|n| n.effect.is_none()));
        assert_eq!(
            report.nodes[2].path,
            ["Saksbehandling", "Sak-app", "Sak-vm", "Klynge"].map(|n| Some(ids[n].clone()))
        );
        assert!(
            report.services.is_empty(),
            "{label}: the origin is not a node"
        );
        let report = impact(&tech_a, "PC B1", ImpactDirection::Needs).await;
        assert_eq!(
            by_name(&report),
            [
                ("Ruter B", (1, None)),
                ("Fiber B", (2, None)),
                ("4G B", (2, None)),
                ("Kjernesvitsj", (3, None)),
                ("Mobilnett", (3, None)),
            ]
            .into_iter()
            .map(|(n, e)| (n.to_string(), e))
            .collect(),
            "{label}"
        );
        // The neighbour municipality's technician: what its PC needs in A is hidden.
        let tech_b = scope_with(store, &admin, &munis[1], Role::Technician).await;
        let report = impact(&tech_b, "PC nabo", ImpactDirection::Needs).await;
        assert!(report.nodes.is_empty());
        assert_eq!(report.hidden, 2, "{label}: router and core switch");
        // An item with no relations impacts nothing.
        let lone = add(store, &tech_a, a, ItemType::Printer, "Skriver").await;
        let report = store
            .impact(&tech_a, &lone, ImpactDirection::Dependants)
            .await
            .unwrap();
        assert!(report.nodes.is_empty() && report.edges.is_empty() && report.hidden == 0);
    }
}

#[tokio::test]
async fn tickets_link_items_their_staff_can_see() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (provider, munis, admin) = provider_with(store, 2).await;
        let tech_a = scope_with(store, &admin, &munis[0], Role::Technician).await;
        let provider_tech = scope_with(store, &admin, &provider, Role::Technician).await;
        let teacher = user_with(
            store,
            &admin,
            &munis[0],
            &[(munis[0].clone(), Role::Requester)],
        )
        .await;
        let teacher_scope = store.scope_for(&teacher, "").await.unwrap();

        let pc_a = add(store, &tech_a, &munis[0], ItemType::Workstation, "PC A").await;
        let pc_b = add(store, &admin, &munis[1], ItemType::Workstation, "PC B").await;
        let t = store
            .create_ticket(
                &teacher_scope,
                ticket(&munis[0], "PC-en starter ikke", Some(teacher.id.clone())),
            )
            .await
            .unwrap();

        store.link_ticket_item(&tech_a, &t.id, &pc_a).await.unwrap();
        store.link_ticket_item(&tech_a, &t.id, &pc_a).await.unwrap();
        let items: Vec<String> = store
            .ticket_items(&tech_a, &t.id)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(items, [pc_a.as_str()], "{label}: one link");
        let tickets: Vec<String> = store
            .item_tickets(&tech_a, &pc_a)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(tickets, [t.id.as_str()], "{label}");

        for item in [pc_b.as_str(), "no-such-item"] {
            assert_eq!(
                refused(store.link_ticket_item(&tech_a, &t.id, item).await),
                ("item", "item-unknown"),
                "{label}"
            );
        }
        assert!(is_denied(
            store.link_ticket_item(&teacher_scope, &t.id, &pc_a).await
        ));
        // The provider's technician may link the neighbour's PC; the municipality's
        // technician still sees only its own item on the ticket.
        store
            .link_ticket_item(&provider_tech, &t.id, &pc_b)
            .await
            .unwrap();
        let names = |scope: Scope| {
            let id = t.id.clone();
            async move {
                let mut n: Vec<String> = store
                    .ticket_items(&scope, &id)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|i| i.name)
                    .collect();
                n.sort();
                n
            }
        };
        assert_eq!(
            names(provider_tech.clone()).await,
            ["PC A", "PC B"],
            "{label}"
        );
        assert_eq!(names(tech_a.clone()).await, ["PC A"], "{label}");
        assert!(
            names(teacher_scope.clone()).await.is_empty(),
            "{label}: requesters read no inventory"
        );
        assert!(is_not_found(
            store.item_tickets(&teacher_scope, &pc_a).await
        ));
        assert!(is_not_found(store.item_tickets(&tech_a, &pc_b).await));

        let other = store
            .create_ticket(&provider_tech, ticket(&munis[1], "Treg PC", None))
            .await
            .unwrap();
        store
            .link_ticket_item(&provider_tech, &other.id, &pc_b)
            .await
            .unwrap();
        let mut on_b: Vec<String> = store
            .item_tickets(&provider_tech, &pc_b)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        on_b.sort();
        let mut both = vec![t.id.clone(), other.id.clone()];
        both.sort();
        assert_eq!(on_b, both, "{label}");
        assert!(is_not_found(
            store.link_ticket_item(&tech_a, &other.id, &pc_a).await
        ));
        assert!(is_not_found(store.ticket_items(&tech_a, &other.id).await));

        let links = store
            .list_audit(
                &admin,
                &AuditFilter {
                    object_type: Some("ticket".into()),
                    limit: 100,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap()
            .entries
            .into_iter()
            .filter(|e| e.action == "link_item" && e.object_id == t.id)
            .count();
        assert_eq!(links, 2, "{label}: the repeated link is not recorded");
    }
}

#[tokio::test]
async fn suppliers_contracts_and_list_filters() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (provider, munis, _) = provider_with(store, 2).await;
        let (other_provider, _, admin) = provider_with(store, 1).await;
        let tech_a = scope_with(store, &admin, &munis[0], Role::Technician).await;
        let tech_b = scope_with(store, &admin, &munis[1], Role::Technician).await;
        let provider_tech = scope_with(store, &admin, &provider, Role::Technician).await;
        let supplier = |name: &str| NewSupplier {
            name: name.into(),
            org_number: "987654321".into(),
            contact: "avtale@example.no".into(),
        };

        let atea = store
            .create_supplier(&provider_tech, &provider, supplier("Atea"))
            .await
            .unwrap();
        assert_eq!(atea.tenant_id, provider);
        assert_eq!(atea.org_number, "987654321");
        assert!(is_denied(
            store
                .create_supplier(&tech_a, &provider, supplier("Egen"))
                .await
        ));
        let err = store
            .create_supplier(&provider_tech, &provider, supplier(" Atea "))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Taken { field: "name" }),
            "{label}: {err:?}"
        );
        let local = store
            .create_supplier(&tech_a, &munis[0], supplier("Lokal elektriker"))
            .await
            .unwrap();
        let foreign = store
            .create_supplier(&admin, &other_provider, supplier("Fremmed AS"))
            .await
            .unwrap();
        let names = |scope: Scope| async move {
            store
                .list_suppliers(&scope)
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(tech_a.clone()).await,
            ["Atea", "Lokal elektriker"],
            "{label}: the provider's suppliers are shared"
        );
        assert_eq!(names(tech_b.clone()).await, ["Atea"], "{label}");

        let contract =
            |supplier: &str, name: &str, starts: Option<&str>, ends: Option<&str>| NewContract {
                supplier_id: supplier.into(),
                name: name.into(),
                starts_on: starts.map(str::to_string),
                ends_on: ends.map(str::to_string),
                notice_months: 6,
                annual_cost: 120_000,
                currency: " nok ".into(),
            };
        let frame = store
            .create_contract(
                &provider_tech,
                &provider,
                contract(
                    &atea.id,
                    "Rammeavtale PC",
                    Some("2023-01-01"),
                    Some("2026-12-31"),
                ),
            )
            .await
            .unwrap();
        assert_eq!(frame.currency, "NOK");
        assert_eq!(frame.supplier_name, "Atea");
        assert_eq!(frame.ends_on.as_deref(), Some("2026-12-31"));
        for (new, expected) in [
            (
                contract(&atea.id, "Baklengs", Some("2025-01-01"), Some("2024-12-31")),
                ("ends_on", "ends-before-start"),
            ),
            (
                contract(&atea.id, "Norsk dato", Some("01.01.2025"), None),
                ("starts_on", "bad-date"),
            ),
            (
                contract(&foreign.id, "Fremmed", None, None),
                ("supplier", "supplier-unknown"),
            ),
            (
                NewContract {
                    currency: "kroner".into(),
                    ..contract(&atea.id, "Valuta", None, None)
                },
                ("currency", "bad-currency"),
            ),
            (
                NewContract {
                    notice_months: 121,
                    ..contract(&atea.id, "Lang", None, None)
                },
                ("notice_months", "out-of-range"),
            ),
        ] {
            assert_eq!(
                refused(store.create_contract(&provider_tech, &provider, new).await),
                expected,
                "{label}"
            );
        }
        let service = store
            .create_contract(
                &tech_a,
                &munis[0],
                contract(&local.id, "Service", None, Some("2025-06-30")),
            )
            .await
            .unwrap();

        let school = location(store, &admin, &munis[0], "Skolen").await;
        let make = new_item;
        let mut pc1 = make(&munis[0], ItemType::Workstation, "Elevmaskin 1");
        pc1.input.supplier_id = Some(atea.id.clone());
        pc1.input.contract_id = Some(frame.id.clone());
        pc1.input.warranty_until = Some("2025-05-01".into());
        pc1.input.location_id = Some(school.clone());
        pc1.input.hostname = Some("ELEV-PC-001".into());
        pc1.input.attributes = attrs(&[("operating_system", "Windows 11 Education")]);
        let pc1 = store.create_item(&tech_a, pc1).await.unwrap();
        assert_eq!(pc1.summary.supplier_name, "Atea");
        assert_eq!(pc1.contract_name, "Rammeavtale PC", "{label}");
        let mut pc2 = make(&munis[0], ItemType::Workstation, "Lager-PC");
        pc2.lifecycle = Lifecycle::InStock;
        pc2.input.supplier_id = Some(atea.id.clone());
        pc2.input.warranty_until = Some("2027-01-01".into());
        store.create_item(&tech_a, pc2).await.unwrap();
        let mut printer = make(&munis[0], ItemType::Printer, "Skriver");
        printer.input.supplier_id = Some(local.id.clone());
        printer.input.contract_id = Some(service.id.clone());
        store.create_item(&tech_a, printer).await.unwrap();
        let mut server = make(&munis[0], ItemType::PhysicalServer, "Filserver");
        server.input.hostname = Some("filserver01.kommune.local".into());
        server.input.attributes = attrs(&[("operating_system", "Debian 12")]);
        let server = store.create_item(&tech_a, server).await.unwrap();
        let mut pc_b = make(&munis[1], ItemType::Workstation, "Elevmaskin 900");
        pc_b.input.supplier_id = Some(atea.id.clone());
        pc_b.input.contract_id = Some(frame.id.clone());
        pc_b.input.hostname = Some("elev-pc-900".into());
        pc_b.input.warranty_until = Some("2024-01-01".into());
        store.create_item(&provider_tech, pc_b).await.unwrap();

        // References must be in reach of the item's municipality.
        let mut wrong = make(&munis[1], ItemType::Printer, "Feil");
        wrong.input.contract_id = Some(service.id.clone());
        assert_eq!(
            refused(store.create_item(&provider_tech, wrong).await),
            ("contract", "contract-unknown"),
            "{label}: another municipality's contract"
        );
        let mut wrong = make(&munis[1], ItemType::Printer, "Feil");
        wrong.input.supplier_id = Some(local.id.clone());
        assert_eq!(
            refused(store.create_item(&provider_tech, wrong).await),
            ("supplier", "supplier-unknown")
        );
        let mut wrong = make(&munis[0], ItemType::Printer, "Feil");
        wrong.input.supplier_id = Some(foreign.id.clone());
        assert_eq!(
            refused(store.create_item(&tech_a, wrong).await),
            ("supplier", "supplier-unknown")
        );

        let contracts = |scope: Scope| async move {
            store
                .list_contracts(&scope)
                .await
                .unwrap()
                .into_iter()
                .map(|c| (c.name, c.item_count))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            contracts(tech_a.clone()).await,
            [
                ("Service".to_string(), 1),
                ("Rammeavtale PC".to_string(), 1)
            ],
            "{label}: soonest ending first, counting visible items"
        );
        assert_eq!(
            contracts(provider_tech.clone()).await,
            [
                ("Service".to_string(), 1),
                ("Rammeavtale PC".to_string(), 2)
            ],
            "{label}"
        );
        assert_eq!(
            contracts(tech_b.clone()).await,
            [("Rammeavtale PC".to_string(), 1)],
            "{label}"
        );

        let f = ItemFilter::default;
        let cases: Vec<(&Scope, ItemFilter, Vec<&str>)> = vec![
            (
                &tech_a,
                ItemFilter {
                    supplier_id: Some(atea.id.clone()),
                    ..f()
                },
                vec!["Elevmaskin 1", "Lager-PC"],
            ),
            (
                &provider_tech,
                ItemFilter {
                    supplier_id: Some(atea.id.clone()),
                    ..f()
                },
                vec!["Elevmaskin 1", "Elevmaskin 900", "Lager-PC"],
            ),
            (
                &tech_a,
                ItemFilter {
                    contract_ends_by: Some("2025-12-31".into()),
                    ..f()
                },
                vec!["Skriver"],
            ),
            (
                &tech_a,
                ItemFilter {
                    contract_ends_by: Some("2026-12-31".into()),
                    ..f()
                },
                vec!["Elevmaskin 1", "Skriver"],
            ),
            (
                &tech_a,
                ItemFilter {
                    warranty_until: Some("2025-12-31".into()),
                    ..f()
                },
                vec!["Elevmaskin 1"],
            ),
            (
                &provider_tech,
                ItemFilter {
                    warranty_until: Some("2025-12-31".into()),
                    ..f()
                },
                vec!["Elevmaskin 1", "Elevmaskin 900"],
            ),
            (
                &tech_a,
                ItemFilter {
                    item_type: Some(ItemType::Workstation),
                    ..f()
                },
                vec!["Elevmaskin 1", "Lager-PC"],
            ),
            (
                &tech_a,
                ItemFilter {
                    lifecycle: Some(Lifecycle::InStock),
                    ..f()
                },
                vec!["Lager-PC"],
            ),
            (
                &tech_a,
                ItemFilter {
                    location_id: Some(school.clone()),
                    ..f()
                },
                vec!["Elevmaskin 1"],
            ),
            (
                &provider_tech,
                ItemFilter {
                    tenant: Some(munis[1].clone()),
                    ..f()
                },
                vec!["Elevmaskin 900"],
            ),
            (
                &tech_a,
                ItemFilter {
                    item_type: Some(ItemType::Workstation),
                    supplier_id: Some(atea.id.clone()),
                    lifecycle: Some(Lifecycle::Deployed),
                    ..f()
                },
                vec!["Elevmaskin 1"],
            ),
        ];
        for (scope, filter, expected) in cases {
            let what = format!("{filter:?}");
            assert_eq!(
                listed(store, scope, filter).await,
                sorted(&expected),
                "{label}: {what}"
            );
        }

        // Text goes through the search index: host names, fields, every word required.
        let text = |scope: &Scope, words: &str| {
            let (scope, words) = (scope.clone(), words.to_string());
            async move {
                listed(
                    store,
                    &scope,
                    ItemFilter {
                        text: words,
                        ..ItemFilter::default()
                    },
                )
                .await
            }
        };
        assert_eq!(text(&tech_a, "filserver01").await, ["Filserver"], "{label}");
        assert_eq!(text(&tech_a, "DEBIAN").await, ["Filserver"], "{label}");
        assert_eq!(text(&tech_a, "windows education").await, ["Elevmaskin 1"]);
        assert!(text(&tech_a, "windows debian").await.is_empty());
        assert_eq!(text(&tech_a, "elev pc").await, ["Elevmaskin 1"], "{label}");
        assert_eq!(
            text(&provider_tech, "elev-pc").await,
            ["Elevmaskin 1", "Elevmaskin 900"],
            "{label}"
        );
        assert!(text(&tech_a, "ingenting").await.is_empty());
        store
            .update_item(
                &tech_a,
                &server.summary.id,
                ItemInput {
                    name: "Filserver".into(),
                    hostname: Some("backup01".into()),
                    ..ItemInput::default()
                },
            )
            .await
            .unwrap();
        assert!(
            text(&tech_a, "filserver01").await.is_empty(),
            "{label}: the old host name is gone from the index"
        );
        assert_eq!(text(&tech_a, "backup01").await, ["Filserver"], "{label}");
    }
}

#[tokio::test]
async fn inventory_changes_are_audited_in_the_chain() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (_, munis, admin) = provider_with(store, 1).await;
        let tech = scope_with(store, &admin, &munis[0], Role::Technician).await;
        let vm = add(store, &tech, &munis[0], ItemType::VirtualMachine, "Web-vm").await;
        let app = add(store, &tech, &munis[0], ItemType::Application, "Nettside").await;
        store
            .update_item(
                &tech,
                &vm,
                ItemInput {
                    name: "Web-vm 2".into(),
                    attributes: attrs(&[("memory_gb", "16")]),
                    ..ItemInput::default()
                },
            )
            .await
            .unwrap();
        store
            .move_item(&tech, &vm, Lifecycle::InRepair, None)
            .await
            .unwrap();
        store
            .relate_items(&tech, &app, RelationType::RunsOn, &vm)
            .await
            .unwrap();
        store
            .relate_items(&tech, &app, RelationType::RunsOn, &vm)
            .await
            .unwrap();
        // Refused changes leave no trace.
        refused(
            store
                .relate_items(&tech, &vm, RelationType::RunsOn, &app)
                .await,
        );
        refused(store.move_item(&tech, &vm, Lifecycle::Ordered, None).await);
        store
            .unrelate_items(&tech, &app, RelationType::RunsOn, &vm)
            .await
            .unwrap();

        let entries = store
            .list_audit(
                &admin,
                &AuditFilter {
                    object_type: Some("item".into()),
                    limit: 50,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap()
            .entries;
        let trail: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.action.as_str(), e.object_id.as_str()))
            .collect();
        assert_eq!(
            trail,
            [
                ("unrelate", app.as_str()),
                ("relate", app.as_str()),
                ("lifecycle", vm.as_str()),
                ("update", vm.as_str()),
                ("create", app.as_str()),
                ("create", vm.as_str()),
            ],
            "{label}"
        );
        assert!(
            entries
                .iter()
                .all(|e| e.tenant_id.as_ref() == Some(&munis[0]))
        );
        assert!(entries.iter().all(|e| e.actor_name == tech.actor().name));
        let update = &entries[3];
        assert!(update.before.as_deref().unwrap().contains("\"Web-vm\""));
        assert!(update.after.as_deref().unwrap().contains("Web-vm 2"));
        assert!(update.after.as_deref().unwrap().contains("memory_gb"));
        let lifecycle = &entries[2];
        assert!(lifecycle.before.as_deref().unwrap().contains("deployed"));
        assert!(lifecycle.after.as_deref().unwrap().contains("in_repair"));
        assert!(entries[1].after.as_deref().unwrap().contains("runs_on"));
        assert!(
            entries[5]
                .after
                .as_deref()
                .unwrap()
                .contains("virtual_machine")
        );
        assert!(store.verify_audit_chain().await.unwrap().is_ok(), "{label}");
    }
}

/// An item as a list across municipalities orders it: municipality name, type, name, id;
/// then its life cycle and warranty, for the filters.
type Listed = (
    String,
    &'static str,
    String,
    String,
    Lifecycle,
    Option<String>,
);
/// Which items a list filter keeps.
type Keep = fn(&Listed) -> bool;

#[tokio::test]
async fn lists_across_municipalities_keep_name_order_and_paging() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (provider, _, admin) = provider_with(store, 0).await;
        let municipality = |name: &'static str| {
            let (admin, provider) = (&admin, &provider);
            async move {
                let tenant = store
                    .create_municipality(
                        admin,
                        provider,
                        NewTenant {
                            name: name.into(),
                            slug: crate::support::unique("m"),
                            country: Country::No,
                            time_zone: None,
                            language: None,
                        },
                    )
                    .await
                    .unwrap();
                (name, tenant.id)
            }
        };
        // Created in another order than their names sort in.
        let mut tenants = vec![
            municipality("Kommune C").await,
            municipality("Kommune A").await,
            municipality("Kommune B").await,
            ("Test Provider", provider.clone()),
        ];
        // (municipality name, type, name, id, life cycle, warranty): names repeat within a
        // type, so the id decides between them.
        let mut all: Vec<Listed> = Vec::new();
        // The installation's scope as it is now, with the municipalities made since.
        let add_items = |tenants: Vec<(&'static str, TenantId)>, seed: usize| async move {
            let admin = &store
                .installation_scope(drifta_core::Actor::system("test"))
                .await
                .unwrap();
            let mut out = Vec::new();
            for (t, (tenant_name, tenant)) in tenants.iter().enumerate() {
                for k in 0..7 {
                    let item_type =
                        [ItemType::Laptop, ItemType::Printer, ItemType::Phone][(k + t + seed) % 3];
                    let name = format!("enhet{}", (k * 5 + t + seed) % 4);
                    let mut new = new_item(tenant, item_type, &name);
                    if k % 3 == 0 {
                        new.lifecycle = Lifecycle::InStock;
                    }
                    if k % 2 == 0 {
                        new.input.warranty_until = Some(format!("2026-0{}-15", 1 + k / 2));
                    }
                    let warranty = new.input.warranty_until.clone();
                    let lifecycle = new.lifecycle;
                    let item = store.create_item(admin, new).await.unwrap();
                    out.push((
                        tenant_name.to_string(),
                        item_type.as_str(),
                        name,
                        item.summary.id,
                        lifecycle,
                        warranty,
                    ));
                }
            }
            out
        };
        all.extend(add_items(tenants.clone(), 0).await);

        let check = |scope: Scope, all: Vec<Listed>, what: &'static str| async move {
            let mut all: Vec<Listed> = all;
            all.sort_by(|a, b| (&a.0, a.1, &a.2, &a.3).cmp(&(&b.0, b.1, &b.2, &b.3)));
            let filters: Vec<(ItemFilter, Keep)> = vec![
                (ItemFilter::default(), |_| true),
                (
                    ItemFilter {
                        item_type: Some(ItemType::Printer),
                        ..ItemFilter::default()
                    },
                    |i| i.1 == "printer",
                ),
                (
                    ItemFilter {
                        lifecycle: Some(Lifecycle::InStock),
                        ..ItemFilter::default()
                    },
                    |i| i.4 == Lifecycle::InStock,
                ),
                (
                    ItemFilter {
                        warranty_until: Some("2026-02-28".into()),
                        ..ItemFilter::default()
                    },
                    |i| i.5.as_deref().is_some_and(|w| w <= "2026-02-28"),
                ),
            ];
            for (filter, keep) in filters {
                let expected: Vec<String> = all
                    .iter()
                    .filter(|i| keep(i))
                    .map(|i| i.3.clone())
                    .collect();
                assert!(!expected.is_empty());
                for limit in [1, 4, 1000] {
                    let mut paged = Vec::new();
                    let mut offset = 0;
                    loop {
                        let page = store
                            .list_items(
                                &scope,
                                &ItemFilter {
                                    limit,
                                    offset,
                                    ..filter.clone()
                                },
                            )
                            .await
                            .unwrap();
                        assert!(page.len() as i64 <= limit);
                        if page.is_empty() {
                            break;
                        }
                        offset += page.len() as i64;
                        paged.extend(page.into_iter().map(|i| i.id));
                    }
                    assert_eq!(paged, expected, "{label}: {what}, {filter:?}");
                }
            }
        };
        let tech = scope_with(store, &admin, &provider, Role::Technician).await;
        check(tech, all.clone(), "distinct names").await;

        // Two municipalities of one name: their items interleave by type and name.
        let twin = municipality("Kommune A").await;
        tenants.push(twin.clone());
        all.extend(add_items(vec![twin], 1).await);
        let tech = scope_with(store, &admin, &provider, Role::Technician).await;
        check(tech, all, "a repeated name").await;
    }
}
