//! Bulk loading of inventory items and their relations, for benchmarks and imports only.
//!
//! [`Store::create_item`] and [`Store::relate_items`] validate, check references and cycles,
//! audit and queue a search document, one item or relation per transaction: right for people,
//! far too slow for 200,000 items and 500,000 relations. [`Store::bulk_load_items`] takes
//! items and relations whose every field the caller has already decided and writes them with
//! large multi-row `INSERT`s in one transaction per call, together with the items' full-text
//! search documents (written directly, as [`Store::bulk_load_tickets`] does, so no indexer
//! has to catch up afterwards). It trusts its input beyond the scope check: natural keys,
//! attributes and references are stored as given, and relations are not checked for cycles.
//! It is meant for benchmark generators and import tools, never for request handlers.

use crate::audit::Change;
use crate::bulk::{insert_rows, insert_search_documents};
use crate::db::{Backend, Store};
use crate::error::StoreError;
use crate::sql::Arg;
use drifta_core::cmdb::{ItemType, Lifecycle, RelationType};
use drifta_core::{Permission, Scope, TenantId, UserId};
use std::collections::BTreeMap;

/// One item for [`Store::bulk_load_items`], with everything already decided.
#[derive(Clone, Debug)]
pub struct BulkItem {
    /// A UUID chosen by the caller (for example `UserId::generate()`), so relations in this
    /// or a later call can name the item.
    pub id: String,
    pub tenant_id: TenantId,
    pub item_type: ItemType,
    pub name: String,
    pub lifecycle: Lifecycle,
    pub location_id: Option<String>,
    pub owner: String,
    pub supplier_id: Option<String>,
    pub contract_id: Option<String>,
    pub serial_number: Option<String>,
    /// Lower case, as [`Store::create_item`] stores host names.
    pub hostname: Option<String>,
    pub asset_tag: Option<String>,
    /// ISO dates (YYYY-MM-DD).
    pub purchased_on: Option<String>,
    pub warranty_until: Option<String>,
    /// Type-specific fields, already normalised.
    pub attributes: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// "`from_id` `relation` `to_id`" for [`Store::bulk_load_items`]. Both items must exist
/// once the call's items are written (they may come from an earlier call).
#[derive(Clone, Debug)]
pub struct BulkRelation {
    /// The tenant of `from_id`, as `item_relations.tenant_id` holds it.
    pub tenant_id: TenantId,
    pub from_id: String,
    pub relation: RelationType,
    pub to_id: String,
    pub created_at: i64,
}

/// What one [`Store::bulk_load_items`] call wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkItemsLoaded {
    pub items: u64,
    pub relations: u64,
    pub search_documents: u64,
}

const ITEM_COLUMNS: &str = "tenant_id, id, item_type, name, location_id, owner, supplier_id, contract_id, serial_number, hostname, asset_tag, purchased_on, warranty_until, lifecycle, attributes, created_at, updated_at";
const ITEM_WIDTH: usize = 17;
/// Rows per multi-row statement, under SQLite's 32,766 and PostgreSQL's 65,535 bound
/// parameters.
const ITEM_ROWS: usize = 1_000;
const RELATION_COLUMNS: &str = "tenant_id, from_id, relation, to_id, created_at";
const RELATION_WIDTH: usize = 5;
const RELATION_ROWS: usize = 5_000;

/// An item's search document as `Store::item_document` builds it (name; type, keys, owner
/// and field values, one per line), lower-cased as `Tx::index_document` stores it.
fn item_document(item: &BulkItem) -> (String, String) {
    let mut body = vec![item.item_type.as_str()];
    body.extend(
        [&item.serial_number, &item.hostname, &item.asset_tag]
            .into_iter()
            .flatten()
            .map(String::as_str),
    );
    body.push(item.owner.as_str());
    body.extend(item.attributes.values().map(String::as_str));
    (item.name.to_lowercase(), body.join("\n").to_lowercase())
}

impl Store {
    /// Writes `items`, then `relations`, in one transaction, with a search document per item
    /// (what the indexer would build), and one audit entry per municipality touched
    /// (`bulk_load` of `item_type`, with the counts per type and of relations).
    ///
    /// **For benchmarks and imports only.** Apart from the scope check (the actor must be
    /// allowed to operate every municipality named, by items and by relations), nothing is
    /// validated: keys, attributes and references are stored as given, and relations are
    /// not checked for cycles, so the caller must keep runs_on, depends_on, installed_on and
    /// located_at acyclic. Call with some tens of thousands of rows at a time, items before
    /// the relations that name them, and [`Store::analyze`] once after the last call.
    pub async fn bulk_load_items(
        &self,
        scope: &Scope,
        items: Vec<BulkItem>,
        relations: Vec<BulkRelation>,
    ) -> Result<BulkItemsLoaded, StoreError> {
        // Per municipality: items per type, and relations.
        let mut per_tenant: BTreeMap<&TenantId, (BTreeMap<&'static str, u64>, u64)> =
            BTreeMap::new();
        for item in &items {
            *per_tenant
                .entry(&item.tenant_id)
                .or_default()
                .0
                .entry(item.item_type.as_str())
                .or_default() += 1;
        }
        for relation in &relations {
            per_tenant.entry(&relation.tenant_id).or_default().1 += 1;
        }
        for tenant in per_tenant.keys() {
            scope.require(tenant, Permission::Operate)?;
        }
        if per_tenant.is_empty() {
            return Ok(BulkItemsLoaded::default());
        }
        let mut tx = self.begin().await?;
        if tx.backend() == Backend::Postgres {
            // See bulk_load_tickets: the trigram index takes the batch in large merges.
            tx.execute_script("SET LOCAL gin_pending_list_limit = '64MB'")
                .await?;
        }
        let mut item_rows = Vec::with_capacity(items.len());
        let mut search_rows = Vec::with_capacity(items.len());
        for item in &items {
            let tenant = item.tenant_id.as_str();
            let attributes = serde_json::to_string(&item.attributes)
                .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
            item_rows.push(vec![
                Arg::Text(tenant.to_string()),
                Arg::Text(item.id.clone()),
                Arg::Text(item.item_type.as_str().to_string()),
                Arg::Text(item.name.clone()),
                Arg::OptText(item.location_id.clone()),
                Arg::Text(item.owner.clone()),
                Arg::OptText(item.supplier_id.clone()),
                Arg::OptText(item.contract_id.clone()),
                Arg::OptText(item.serial_number.clone()),
                Arg::OptText(item.hostname.clone()),
                Arg::OptText(item.asset_tag.clone()),
                Arg::OptText(item.purchased_on.clone()),
                Arg::OptText(item.warranty_until.clone()),
                Arg::Text(item.lifecycle.as_str().to_string()),
                Arg::Text(attributes),
                Arg::Int(item.created_at),
                Arg::Int(item.updated_at),
            ]);
            let (title, body) = item_document(item);
            search_rows.push(vec![
                Arg::Text(tenant.to_string()),
                Arg::Text("item".to_string()),
                Arg::Text(item.id.clone()),
                Arg::Text(title),
                Arg::Text(body),
            ]);
        }
        let relation_rows: Vec<Vec<Arg>> = relations
            .iter()
            .map(|r| {
                vec![
                    Arg::Text(r.tenant_id.as_str().to_string()),
                    Arg::Text(r.from_id.clone()),
                    Arg::Text(r.relation.as_str().to_string()),
                    Arg::Text(r.to_id.clone()),
                    Arg::Int(r.created_at),
                ]
            })
            .collect();

        let loaded_items = insert_rows(
            &mut tx,
            &format!("items ({ITEM_COLUMNS})"),
            ITEM_WIDTH,
            ITEM_ROWS,
            item_rows,
        )
        .await?;
        let loaded_relations = insert_rows(
            &mut tx,
            &format!("item_relations ({RELATION_COLUMNS})"),
            RELATION_WIDTH,
            RELATION_ROWS,
            relation_rows,
        )
        .await?;
        let search_documents = insert_search_documents(&mut tx, search_rows).await?;

        let now = self.now_ms();
        let batch = UserId::generate();
        for (tenant, (types, relations)) in &per_tenant {
            tx.audit(
                scope.actor(),
                now,
                Change {
                    tenant: Some(tenant),
                    action: "bulk_load",
                    object_type: "item_type",
                    object_id: batch.as_str(),
                    before: None,
                    after: Some(serde_json::json!({
                        "items": types,
                        "relations": relations,
                    })),
                },
            )
            .await?;
        }
        tx.commit().await?;
        // See Store::restart_wal: without it the WAL grows for as long as the load runs.
        self.restart_wal().await?;
        Ok(BulkItemsLoaded {
            items: loaded_items,
            relations: loaded_relations,
            search_documents,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::{SEARCH_ROWS, SEARCH_WIDTH};
    use crate::inventory::{ImpactDirection, ItemFilter};
    use drifta_core::{Actor, Country, Role};

    #[test]
    fn statements_stay_under_the_parameter_limits() {
        for (width, rows) in [
            (ITEM_WIDTH, ITEM_ROWS),
            (RELATION_WIDTH, RELATION_ROWS),
            (SEARCH_WIDTH + 1, SEARCH_ROWS),
            (3, SEARCH_ROWS),
        ] {
            assert!(width * rows <= 32_766, "{width} × {rows}");
        }
        assert_eq!(ITEM_COLUMNS.split(',').count(), ITEM_WIDTH);
        assert_eq!(RELATION_COLUMNS.split(',').count(), RELATION_WIDTH);
    }

    fn item(tenant: &TenantId, item_type: ItemType, name: &str, host: &str) -> BulkItem {
        BulkItem {
            id: UserId::generate().to_string(),
            tenant_id: tenant.clone(),
            item_type,
            name: name.into(),
            lifecycle: Lifecycle::Deployed,
            location_id: None,
            owner: "Skole IT".into(),
            supplier_id: None,
            contract_id: None,
            serial_number: Some(format!("SN-{host}")),
            hostname: Some(host.into()),
            asset_tag: None,
            purchased_on: None,
            warranty_until: Some("2026-01-31".into()),
            attributes: BTreeMap::from([("model".to_string(), "Latitude 5440".to_string())]),
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_000_000,
        }
    }

    #[test]
    fn documents_match_what_the_indexer_builds() {
        let t = TenantId::generate();
        let (title, body) = item_document(&item(&t, ItemType::Laptop, "Elev-PC Ø1", "pc-1"));
        assert_eq!(title, "elev-pc ø1");
        assert_eq!(body, "laptop\nsn-pc-1\npc-1\nskole it\nlatitude 5440");
    }

    #[tokio::test]
    async fn loaded_items_are_listed_searched_related_and_audited() {
        for db in crate::testing::backends().await {
            let store = &db.store;
            let actor = Actor::system("test");
            let provider = store
                .create_provider(
                    &actor,
                    crate::NewTenant {
                        name: "P".into(),
                        slug: "pv".into(),
                        country: Country::No,
                        time_zone: None,
                        language: None,
                    },
                )
                .await
                .expect("provider");
            let installation = store
                .installation_scope(actor.clone())
                .await
                .expect("scope");
            let muni = store
                .create_municipality(
                    &installation,
                    &provider.id,
                    crate::NewTenant {
                        name: "M".into(),
                        slug: "mu".into(),
                        country: Country::No,
                        time_zone: None,
                        language: None,
                    },
                )
                .await
                .expect("municipality");
            let installation = store
                .installation_scope(actor.clone())
                .await
                .expect("scope");
            // More items than one statement holds, so batching is exercised.
            let switch = item(&muni.id, ItemType::NetworkDevice, "Core", "core-sw01");
            let mut items = vec![switch.clone()];
            let mut relations = Vec::new();
            for i in 0..1_203 {
                let pc = item(
                    &muni.id,
                    ItemType::Laptop,
                    &format!("PC {i}"),
                    &format!("pc-{i}"),
                );
                relations.push(BulkRelation {
                    tenant_id: muni.id.clone(),
                    from_id: pc.id.clone(),
                    relation: RelationType::ConnectsTo,
                    to_id: switch.id.clone(),
                    created_at: 1,
                });
                items.push(pc);
            }
            let loaded = store
                .bulk_load_items(&installation, items, relations)
                .await
                .expect("bulk load");
            assert_eq!(
                loaded,
                BulkItemsLoaded {
                    items: 1_204,
                    relations: 1_203,
                    search_documents: 1_204
                },
                "{}",
                db.label
            );
            let found = store
                .list_items(
                    &installation,
                    &ItemFilter {
                        text: "pc-1202".into(),
                        limit: 10,
                        ..ItemFilter::default()
                    },
                )
                .await
                .expect("search");
            assert_eq!(found.len(), 1, "{}", db.label);
            assert_eq!(found[0].name, "PC 1202");
            let impact = store
                .impact(&installation, &switch.id, ImpactDirection::Dependants)
                .await
                .expect("impact");
            assert_eq!(impact.nodes.len(), 1_203, "{}", db.label);
            // Someone without Operate on the municipality loads nothing.
            let reader = Scope::new(actor.clone(), [(muni.id.clone(), Role::Auditor)]);
            let refused = store
                .bulk_load_items(
                    &reader,
                    vec![item(&muni.id, ItemType::Laptop, "X", "x")],
                    vec![],
                )
                .await;
            assert!(refused.is_err(), "{}", db.label);
            let chain = store.verify_audit_chain().await.expect("audit chain read");
            assert!(chain.is_ok(), "{}: {chain:?}", db.label);
        }
    }
}
