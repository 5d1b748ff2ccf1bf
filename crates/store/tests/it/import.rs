//! CSV import of inventory items on both backends: dry run, all-or-nothing, valid rows
//! only, updates by natural key, encodings and delimiters, and who may import.

use crate::support::{provider_with, user_with};
use drifta_core::Role;
use drifta_core::cmdb::{ItemType, Lifecycle};
use drifta_store::testing::backends;
use drifta_store::{ImportError, ImportMode, ItemFilter};
use std::sync::atomic::{AtomicUsize, Ordering};

fn no_progress(_: usize, _: usize) {}

#[tokio::test]
async fn imports_check_everything_write_all_or_valid_rows_and_update_by_key() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (_, munis, admin) = provider_with(store, 2).await;
        let count = || async {
            store
                .list_items(
                    &admin,
                    &ItemFilter {
                        tenant: Some(munis[0].clone()),
                        limit: 1000,
                        ..ItemFilter::default()
                    },
                )
                .await
                .unwrap()
                .len()
        };
        // Windows-1252 from Excel, semicolons, a Nordic date, one bad row.
        let file = b"name;serial_number;hostname;model;warranty_until;lifecycle\n\
B\xe6rbar 1;SN-1;PC-1;T14;31.12.2027;deployed\n\
B\xe6rbar 2;SN-2;pc-2;T14;2027-02-30;\n\
B\xe6rbar 3;SN-3;pc-3;X1;;in_stock\n";
        let dry = store
            .import_items(
                &admin,
                &munis[0],
                ItemType::Laptop,
                file,
                ImportMode::DryRun,
                &no_progress,
            )
            .await
            .unwrap();
        assert_eq!(
            (dry.total_rows, dry.created, dry.updated, dry.written),
            (3, 2, 0, false),
            "{label}"
        );
        assert_eq!(dry.encoding, "windows-1252", "{label}");
        assert_eq!(dry.delimiter, ";", "{label}");
        assert_eq!(dry.problems.len(), 1, "{label}");
        assert_eq!(
            (dry.problems[0].row, dry.problems[0].code.as_str()),
            (3, "bad-date"),
            "{label}"
        );
        assert_eq!(
            dry.problems[0].column.as_deref(),
            Some("warranty_until"),
            "{label}"
        );
        assert_eq!(count().await, 0, "{label}: a dry run writes nothing");

        let all = store
            .import_items(
                &admin,
                &munis[0],
                ItemType::Laptop,
                file,
                ImportMode::AllOrNothing,
                &no_progress,
            )
            .await
            .unwrap();
        assert!(!all.written, "{label}");
        assert_eq!(
            count().await,
            0,
            "{label}: one bad row stops all-or-nothing"
        );

        let calls = AtomicUsize::new(0);
        let progress = |_: usize, _: usize| {
            calls.fetch_add(1, Ordering::Relaxed);
        };
        let valid = store
            .import_items(
                &admin,
                &munis[0],
                ItemType::Laptop,
                file,
                ImportMode::ValidOnly,
                &progress,
            )
            .await
            .unwrap();
        assert!(
            valid.written && calls.load(Ordering::Relaxed) >= 2,
            "{label}"
        );
        assert_eq!(count().await, 2, "{label}");
        let items = store
            .list_items(
                &admin,
                &ItemFilter {
                    text: "pc-1".into(),
                    limit: 10,
                    ..ItemFilter::default()
                },
            )
            .await
            .unwrap();
        // Words match as substrings ("1" is also in "T14"), so pick the host name.
        let items: Vec<_> = items
            .into_iter()
            .filter(|i| i.hostname.as_deref() == Some("pc-1"))
            .collect();
        assert_eq!(items.len(), 1, "{label}");
        let item = store.get_item(&admin, &items[0].id).await.unwrap();
        assert_eq!(
            item.summary.name, "Bærbar 1",
            "{label}: decoded from Windows-1252"
        );
        assert_eq!(
            item.summary.hostname.as_deref(),
            Some("pc-1"),
            "{label}: host names lower-cased"
        );
        assert_eq!(
            item.summary.warranty_until.as_deref(),
            Some("2027-12-31"),
            "{label}"
        );
        assert_eq!(item.attributes["model"], "T14", "{label}");

        // Re-import with commas and UTF-8: rows update by serial number instead of
        // duplicating, and columns left out stay as they were.
        let again =
            "name,serial_number,model\nBærbar 1 (ny disk),SN-1,T14 Gen 2\nBærbar 4,SN-4,X1\n";
        let report = store
            .import_items(
                &admin,
                &munis[0],
                ItemType::Laptop,
                again.as_bytes(),
                ImportMode::AllOrNothing,
                &no_progress,
            )
            .await
            .unwrap();
        assert_eq!(
            (report.created, report.updated, report.written),
            (1, 1, true),
            "{label}"
        );
        assert_eq!(count().await, 3, "{label}");
        let item = store.get_item(&admin, &items[0].id).await.unwrap();
        assert_eq!(item.summary.name, "Bærbar 1 (ny disk)", "{label}");
        assert_eq!(item.attributes["model"], "T14 Gen 2", "{label}");
        assert_eq!(
            item.summary.warranty_until.as_deref(),
            Some("2027-12-31"),
            "{label}: kept"
        );

        // The same serial twice in one file, and an unknown location, are row problems.
        let clash = "name;serial_number;location\nA;SN-9;\nB;sn-9;\nC;SN-10;Månebasen\n";
        let report = store
            .import_items(
                &admin,
                &munis[0],
                ItemType::Laptop,
                clash.as_bytes(),
                ImportMode::DryRun,
                &no_progress,
            )
            .await
            .unwrap();
        let codes: Vec<&str> = report.problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, vec!["duplicate-key", "unknown-location"], "{label}");

        // Whole-file refusals: an unknown column, and bytes that are no text encoding.
        match store
            .import_items(
                &admin,
                &munis[0],
                ItemType::Laptop,
                b"name;colour\nA;red\n",
                ImportMode::DryRun,
                &no_progress,
            )
            .await
        {
            Err(ImportError::Csv(e)) => assert_eq!(e.code(), "csv-unknown-columns", "{label}"),
            other => panic!("{label}: {other:?}"),
        }
        match store
            .import_items(
                &admin,
                &munis[0],
                ItemType::Laptop,
                b"name\n\x81\x8d\x00\n",
                ImportMode::DryRun,
                &no_progress,
            )
            .await
        {
            Err(ImportError::Csv(e)) => assert_eq!(e.code(), "csv-encoding", "{label}"),
            other => panic!("{label}: {other:?}"),
        }

        // Only those who may change a municipality's inventory import into it.
        let tech = user_with(
            store,
            &admin,
            &munis[1],
            &[(munis[1].clone(), Role::Technician)],
        )
        .await;
        let tech = store.scope_for(&tech, "").await.unwrap();
        let denied = store
            .import_items(
                &tech,
                &munis[0],
                ItemType::Laptop,
                again.as_bytes(),
                ImportMode::ValidOnly,
                &no_progress,
            )
            .await;
        assert!(
            matches!(
                denied,
                Err(ImportError::Store(drifta_store::StoreError::Denied(_)))
            ),
            "{label}"
        );
        assert_eq!(count().await, 3, "{label}");
        assert!(store.verify_audit_chain().await.unwrap().is_ok(), "{label}");
    }
}

#[tokio::test]
async fn reimports_change_only_the_file_columns_of_many_rows_in_batches() {
    for db in backends().await {
        let store = &db.store;
        let label = db.label;
        let (_, munis, admin) = provider_with(store, 1).await;
        let run = |file: String, mode: ImportMode| {
            let admin = &admin;
            let tenant = &munis[0];
            async move {
                store
                    .import_items(
                        admin,
                        tenant,
                        ItemType::Laptop,
                        file.as_bytes(),
                        mode,
                        &no_progress,
                    )
                    .await
                    .unwrap()
            }
        };
        // More rows than one multi-row statement holds.
        const N: usize = 1_200;
        let mut first = String::from(
            "name;serial_number;hostname;model;operating_system;warranty_until;lifecycle\n",
        );
        for n in 0..N {
            first.push_str(&format!(
                "PC {n};SN-{n};pc-{n};T14;Windows 11;2027-06-30;deployed\n"
            ));
        }
        let report = run(first, ImportMode::AllOrNothing).await;
        assert_eq!(
            (report.created, report.updated, report.written),
            (N, 0, true),
            "{label}"
        );

        // Name, model and life cycle only: an empty model or life-cycle cell keeps the
        // item's own. Item 5 is named twice, by serial number and then by host name
        // (clearing its serial number): the later row wins, as if row by row.
        let mut second = String::from("serial_number,hostname,name,model,lifecycle\n");
        for n in 0..N {
            if n == 5 {
                second.push_str("SN-5,,Ny 5,Y,in_stock\n");
                continue;
            }
            let model = if n % 3 == 0 { "" } else { "X1" };
            let lifecycle = if n % 2 == 0 { "in_stock" } else { "" };
            second.push_str(&format!("SN-{n},pc-{n},Ny {n},{model},{lifecycle}\n"));
        }
        second.push_str(",pc-5,Nyere 5,Z,\n");
        // A dry run and a refused all-or-nothing run change nothing.
        let dry = run(second.clone(), ImportMode::DryRun).await;
        assert_eq!(
            (dry.created, dry.updated, dry.written),
            (0, N + 1, false),
            "{label}"
        );
        let refused = run(
            format!("{second}SN-X,pc-x,Feil,X1,stolen\n"),
            ImportMode::AllOrNothing,
        )
        .await;
        assert!(!refused.written && refused.problems.len() == 1, "{label}");
        // The item whose host name is pc-n, read in full.
        let by_host = |n: usize| {
            let (admin, tenant) = (&admin, &munis[0]);
            async move {
                let found = store
                    .list_items(
                        admin,
                        &ItemFilter {
                            tenant: Some(tenant.clone()),
                            limit: 10_000,
                            ..ItemFilter::default()
                        },
                    )
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|i| i.hostname.as_deref() == Some(format!("pc-{n}").as_str()))
                    .unwrap();
                store.get_item(admin, &found.id).await.unwrap()
            }
        };
        let untouched = by_host(4).await;
        assert_eq!(untouched.summary.name, "PC 4", "{label}");

        let report = run(second, ImportMode::ValidOnly).await;
        assert_eq!(
            (report.created, report.updated, report.written),
            (0, N + 1, true),
            "{label}: {:?}",
            report.problems
        );
        for n in [0, 1, 2, 3, 4, 499, 500, 501, 998, N - 1] {
            let item = by_host(n).await;
            let s = &item.summary;
            assert_eq!(s.name, format!("Ny {n}"), "{label}");
            assert_eq!(s.serial_number, Some(format!("SN-{n}")), "{label}");
            assert_eq!(s.warranty_until.as_deref(), Some("2027-06-30"), "{label}");
            let model = if n % 3 == 0 { "T14" } else { "X1" };
            assert_eq!(item.attributes["model"], model, "{label}: row {n}");
            assert_eq!(item.attributes["operating_system"], "Windows 11", "{label}");
            let lifecycle = if n % 2 == 0 {
                Lifecycle::InStock
            } else {
                Lifecycle::Deployed
            };
            assert_eq!(s.lifecycle, lifecycle, "{label}: row {n}");
        }
        let twice = by_host(5).await;
        assert_eq!(
            (
                twice.summary.name.as_str(),
                twice.summary.serial_number.as_deref(),
                twice.summary.lifecycle,
                twice.attributes["model"].as_str(),
                twice.attributes["operating_system"].as_str(),
            ),
            ("Nyere 5", None, Lifecycle::InStock, "Z", "Windows 11"),
            "{label}"
        );
        // The search index learnt the new names.
        let found = store
            .list_items(
                &admin,
                &ItemFilter {
                    text: "nyere".into(),
                    limit: 10,
                    ..ItemFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{label}");
        assert!(store.verify_audit_chain().await.unwrap().is_ok(), "{label}");
    }
}
