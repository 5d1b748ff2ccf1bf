//! The inventory: configuration items of every municipality, their suppliers and contracts,
//! typed relations between items, impact analysis over those relations, and the links from
//! tickets to the items they are about.
//!
//! Who may do what: reading items needs `ReadAll` on the item's municipality (staff,
//! coordinators and auditors; requesters do not browse the inventory), changing them needs
//! `Operate`. Suppliers and contracts usually belong to the provider and are read by anyone
//! who reads the inventory of one of its municipalities.

mod graph;

pub(crate) use graph::GraphCache;

use crate::audit::Change;
use crate::db::{Backend, Store, Tx};
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::cmdb::{Disposal, Effect, ItemType, Lifecycle, RelationType};
use drifta_core::item_fields::{
    FieldDef, FieldKind, parse_date, valid_field_key, validate_attributes,
};
use drifta_core::validate::{FieldError, display_name};
use drifta_core::{Permission, Scope, TenantId, UserId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One row of an inventory list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemSummary {
    pub id: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub item_type: ItemType,
    pub name: String,
    pub location_id: Option<String>,
    pub location_name: String,
    pub owner: String,
    pub supplier_id: Option<String>,
    pub supplier_name: String,
    pub serial_number: Option<String>,
    pub hostname: Option<String>,
    pub asset_tag: Option<String>,
    /// ISO date.
    pub warranty_until: Option<String>,
    pub lifecycle: Lifecycle,
    pub updated_at: i64,
}

/// An item with everything recorded about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    #[serde(flatten)]
    pub summary: ItemSummary,
    pub contract_id: Option<String>,
    pub contract_name: String,
    /// ISO date.
    pub purchased_on: Option<String>,
    pub disposal: Option<Disposal>,
    /// Type-specific fields, normalised (see `drifta_core::item_fields`).
    pub attributes: BTreeMap<String, String>,
    pub created_at: i64,
}

/// What a form, an import row or an API call gives for a new item or a change to one.
/// Life-cycle moves after creation go through [`Store::move_item`], which records disposal.
#[derive(Clone, Debug, Default)]
pub struct ItemInput {
    pub name: String,
    pub location_id: Option<String>,
    pub owner: String,
    pub supplier_id: Option<String>,
    pub contract_id: Option<String>,
    pub serial_number: Option<String>,
    pub hostname: Option<String>,
    pub asset_tag: Option<String>,
    pub purchased_on: Option<String>,
    pub warranty_until: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub struct NewItem {
    pub tenant_id: TenantId,
    pub item_type: ItemType,
    /// Where a new item starts; `disposed` is refused (it needs a disposal record).
    pub lifecycle: Lifecycle,
    pub input: ItemInput,
}

/// Filters of the inventory list. Empty fields filter nothing.
#[derive(Clone, Debug, Default)]
pub struct ItemFilter {
    pub tenant: Option<TenantId>,
    pub item_type: Option<ItemType>,
    pub lifecycle: Option<Lifecycle>,
    pub location_id: Option<String>,
    pub supplier_id: Option<String>,
    /// Warranty ends on or before this ISO date (and has not been left blank).
    pub warranty_until: Option<String>,
    /// The item's contract ends on or before this ISO date.
    pub contract_ends_by: Option<String>,
    /// Words found in name, serial number, host name, asset tag, owner or fields.
    pub text: String,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Supplier {
    pub id: String,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub name: String,
    pub org_number: String,
    pub contact: String,
}

#[derive(Clone, Debug, Default)]
pub struct NewSupplier {
    pub name: String,
    pub org_number: String,
    pub contact: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contract {
    pub id: String,
    pub tenant_id: TenantId,
    pub supplier_id: String,
    pub supplier_name: String,
    pub name: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub notice_months: i64,
    pub annual_cost: i64,
    pub currency: String,
    /// Items under this contract that the scope can see.
    pub item_count: i64,
}

#[derive(Clone, Debug, Default)]
pub struct NewContract {
    pub supplier_id: String,
    pub name: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub notice_months: i64,
    pub annual_cost: i64,
    pub currency: String,
}

/// One relation seen from an item: the other end and which way it points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Relation {
    pub relation: RelationType,
    /// True when the item is the relation's `from` (it "runs on" the other).
    pub outgoing: bool,
    pub other: ItemSummary,
}

/// Which way impact analysis walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpactDirection {
    /// What stops or degrades if the item fails.
    Dependants,
    /// What the item needs to work.
    Needs,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImpactNode {
    pub item: ItemSummary,
    pub depth: u32,
    /// `None` in the `Needs` direction, where nothing fails.
    pub effect: Option<Effect>,
    /// The chain of item ids between this item and the origin, as the graph walked it;
    /// `None` for a step through an item the reader cannot see (counted, never named).
    pub path: Vec<Option<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImpactEdge {
    pub from: String,
    pub relation: RelationType,
    pub to: String,
}

/// Which items of an impact report to name: one page of the list (nearest first, then by
/// name) and, for a diagram, the first items of each depth. The counts and the lists of
/// municipalities, locations and services cover every item whatever the view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImpactView {
    pub offset: usize,
    pub limit: usize,
    /// Items per depth for [`ImpactReport::drawn`], in the diagram's order
    /// (`drifta_core::impact_svg::column_order`); 0 for none.
    pub per_depth: usize,
}

impl ImpactView {
    /// Every item named, none drawn: the CSV export, and tests.
    pub const ALL: ImpactView = ImpactView {
        offset: 0,
        limit: usize::MAX,
        per_depth: 0,
    };
}

/// How many visible items lie at one depth (a column of the diagram).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ImpactColumn {
    pub depth: u32,
    pub items: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImpactReport {
    pub origin: ItemSummary,
    pub direction: ImpactDirection,
    /// Visible items, nearest first, then by name (and id): the page the view asked for.
    pub nodes: Vec<ImpactNode>,
    /// Where `nodes` starts in the whole list.
    pub offset: usize,
    /// Visible items in all, on every page.
    pub total: usize,
    /// Of those, how many are down and how many degraded (both 0 in the `Needs` direction).
    pub down: usize,
    pub degraded: usize,
    /// Visible items per depth, nearest first.
    pub columns: Vec<ImpactColumn>,
    /// For a diagram: the first [`ImpactView::per_depth`] visible items of each depth, in
    /// the diagram's order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drawn: Vec<ImpactNode>,
    /// Relations between the origin and the items in `nodes` and `drawn`.
    pub edges: Vec<ImpactEdge>,
    /// Affected items in municipalities the scope cannot see: counted, never named.
    pub hidden: usize,
    /// Distinct municipalities, locations and services among all the visible items.
    pub municipalities: Vec<String>,
    pub locations: Vec<String>,
    pub services: Vec<String>,
}

/// A provider's own field for a type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomField {
    pub item_type: ItemType,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub choices: String,
}

const SUMMARY_SELECT: &str = "SELECT i.id, i.tenant_id, tn.name, i.item_type, i.name, i.location_id, \
     COALESCE(l.name, ''), i.owner, i.supplier_id, COALESCE(s.name, ''), i.serial_number, i.hostname, \
     i.asset_tag, i.warranty_until, i.lifecycle, i.updated_at \
     FROM items i JOIN tenants tn ON tn.id = i.tenant_id \
     LEFT JOIN locations l ON l.id = i.location_id \
     LEFT JOIN suppliers s ON s.id = i.supplier_id ";

/// [`SUMMARY_SELECT`] with the municipalities as the outer loop (`CROSS JOIN` fixes the
/// order on SQLite), for lists that walk municipalities in name order.
fn summary_select_by_municipality() -> String {
    const ITEMS_FIRST: &str = "FROM items i JOIN tenants tn ON tn.id = i.tenant_id ";
    debug_assert!(SUMMARY_SELECT.contains(ITEMS_FIRST));
    SUMMARY_SELECT.replacen(
        ITEMS_FIRST,
        "FROM tenants tn CROSS JOIN items i ON i.tenant_id = tn.id ",
        1,
    )
}

type SummaryRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
);

fn summary_from_row(r: SummaryRow) -> Result<ItemSummary, StoreError> {
    Ok(ItemSummary {
        id: r.0,
        tenant_id: TenantId::from_db(r.1),
        tenant_name: r.2,
        item_type: ItemType::parse(&r.3)
            .ok_or_else(|| StoreError::Inconsistent(format!("unknown item type '{}'", r.3)))?,
        name: r.4,
        location_id: r.5,
        location_name: r.6,
        owner: r.7,
        supplier_id: r.8,
        supplier_name: r.9,
        serial_number: r.10,
        hostname: r.11,
        asset_tag: r.12,
        warranty_until: r.13,
        lifecycle: Lifecycle::parse(&r.14)
            .ok_or_else(|| StoreError::Inconsistent(format!("unknown lifecycle '{}'", r.14)))?,
        updated_at: r.15,
    })
}

/// Text a field holds, trimmed; empty means not given.
fn optional_text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn optional_date(
    field: &'static str,
    value: &Option<String>,
) -> Result<Option<String>, FieldError> {
    match optional_text(value) {
        None => Ok(None),
        Some(text) => parse_date(&text)
            .map(|d| Some(d.to_string()))
            .ok_or(FieldError::new(
                field,
                "bad-date",
                "is not a date (use YYYY-MM-DD)",
            )),
    }
}

fn short_text(field: &'static str, value: &str, max: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(FieldError::new(field, "too-long", "is too long"));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "control-chars",
            "contains control characters",
        ));
    }
    Ok(value.to_string())
}

fn key_text(field: &'static str, value: &Option<String>) -> Result<Option<String>, FieldError> {
    optional_text(value)
        .map(|v| short_text(field, &v, 120))
        .transpose()
}

/// An input checked and normalised, ready for a row.
struct CleanInput {
    name: String,
    owner: String,
    location_id: Option<String>,
    supplier_id: Option<String>,
    contract_id: Option<String>,
    serial_number: Option<String>,
    hostname: Option<String>,
    asset_tag: Option<String>,
    purchased_on: Option<String>,
    warranty_until: Option<String>,
    attributes: String,
}

/// Relation types people may pick (all of them, in the order the forms show them).
pub fn relation_types() -> &'static [RelationType] {
    RelationType::ALL
}

impl Store {
    /// The provider a tenant belongs to (itself if it is one).
    pub(crate) async fn provider_of(&self, tenant: &TenantId) -> Result<TenantId, StoreError> {
        let row: Option<(String, Option<String>)> = self
            .fetch_optional(
                Sql::new("SELECT id, parent_id FROM tenants WHERE id = $1").arg(tenant.as_str()),
            )
            .await?;
        let (id, parent) = row.ok_or(StoreError::NotFound)?;
        Ok(TenantId::from_db(parent.unwrap_or(id)))
    }

    /// Fields a provider added to a type.
    pub(crate) async fn custom_field_defs(
        &self,
        provider: &TenantId,
        item_type: ItemType,
    ) -> Result<Vec<FieldDef>, StoreError> {
        let rows: Vec<(String, String, String, String)> = self
            .fetch_all(
                Sql::new("SELECT field_key, label, kind, choices FROM item_fields WHERE provider_id = $1 AND item_type = $2 ORDER BY position, field_key")
                    .arg(provider.as_str())
                    .arg(item_type.as_str()),
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, label, kind, choices)| {
                FieldKind::parse(&kind, &choices).map(|kind| FieldDef {
                    key,
                    kind,
                    custom_label: Some(label),
                })
            })
            .collect())
    }

    /// Every field of a type for a municipality: built in, then its provider's own.
    pub async fn item_fields(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        item_type: ItemType,
    ) -> Result<Vec<FieldDef>, StoreError> {
        scope.require(tenant, Permission::ReadAll)?;
        let provider = self.provider_of(tenant).await?;
        let custom = self.custom_field_defs(&provider, item_type).await?;
        Ok(drifta_core::item_fields::all_fields(item_type, &custom))
    }

    /// The fields a provider added, for its administration page.
    pub async fn custom_fields(
        &self,
        scope: &Scope,
        provider: &TenantId,
    ) -> Result<Vec<CustomField>, StoreError> {
        scope.require(provider, Permission::ReadAll)?;
        let rows: Vec<(String, String, String, String, String)> = self
            .fetch_all(
                Sql::new("SELECT item_type, field_key, label, kind, choices FROM item_fields WHERE provider_id = $1 ORDER BY item_type, position, field_key")
                    .arg(provider.as_str()),
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(t, key, label, kind, choices)| {
                ItemType::parse(&t).map(|item_type| CustomField {
                    item_type,
                    key,
                    label,
                    kind,
                    choices,
                })
            })
            .collect())
    }

    /// Adds a field to a type for all of a provider's municipalities. Needs
    /// `ManageTenants` on the provider: it changes every municipality's forms.
    pub async fn add_custom_field(
        &self,
        scope: &Scope,
        provider: &TenantId,
        field: CustomField,
    ) -> Result<CustomField, StoreError> {
        scope.require(provider, Permission::ManageTenants)?;
        // Items look fields up by their municipality's provider: a field stored under a
        // municipality would be accepted and never apply.
        if self.provider_of(provider).await? != *provider {
            return Err(StoreError::NotFound);
        }
        let key = field.key.trim().to_string();
        if !valid_field_key(&key) {
            return Err(FieldError::new(
                "key",
                "field-key",
                "must start with a-z and hold only a-z, 0-9 and _ (at most 40)",
            )
            .into());
        }
        if drifta_core::item_fields::builtin_fields(field.item_type)
            .iter()
            .any(|f| f.key == key)
        {
            return Err(StoreError::Taken { field: "key" });
        }
        let label = display_name("label", &field.label)?;
        if FieldKind::parse(&field.kind, &field.choices).is_none() {
            return Err(FieldError::new(
                "kind",
                "field-kind",
                "must be text, integer, date, bool, or choice with a list of choices",
            )
            .into());
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute_raw(
            Sql::new("INSERT INTO item_fields (provider_id, item_type, field_key, label, kind, choices, position) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .arg(provider.as_str())
                .arg(field.item_type.as_str())
                .arg(key.as_str())
                .arg(label.as_str())
                .arg(field.kind.as_str())
                .arg(field.choices.trim())
                .arg(now),
        )
        .await
        .map_err(|e| StoreError::taken_or(e, &["field_key", "item_fields"]))
        .map_err(|e| match e {
            StoreError::Taken { .. } => StoreError::Taken { field: "key" },
            e => e,
        })?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(provider),
                action: "add_field",
                object_type: "item_type",
                object_id: field.item_type.as_str(),
                before: None,
                after: Some(serde_json::json!({"key": key, "label": label, "kind": field.kind, "choices": field.choices.trim()})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(CustomField {
            item_type: field.item_type,
            key,
            label,
            kind: field.kind,
            choices: field.choices.trim().to_string(),
        })
    }

    /// Checks an input against the municipality it is for: references must be in reach,
    /// attributes must fit the type.
    async fn clean_input(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        item_type: ItemType,
        input: &ItemInput,
    ) -> Result<CleanInput, StoreError> {
        let name = display_name("name", &input.name)?;
        let owner = short_text("owner", &input.owner, 200)?;
        let location_id = optional_text(&input.location_id);
        if let Some(location) = &location_id {
            let found: Option<(String,)> = self
                .fetch_optional(
                    Sql::new("SELECT id FROM locations WHERE tenant_id = $1 AND id = $2")
                        .arg(tenant.as_str())
                        .arg(location.as_str()),
                )
                .await?;
            if found.is_none() {
                return Err(FieldError::new(
                    "location",
                    "location-other-municipality",
                    "the location is not in this municipality",
                )
                .into());
            }
        }
        let provider = self.provider_of(tenant).await?;
        let supplier_id = optional_text(&input.supplier_id);
        if let Some(supplier) = &supplier_id {
            self.supplier_in_reach(scope, &provider, tenant, supplier)
                .await?;
        }
        let contract_id = optional_text(&input.contract_id);
        if let Some(contract) = &contract_id {
            let owner: Option<(String,)> = self
                .fetch_optional(
                    Sql::new("SELECT tenant_id FROM contracts WHERE id = $1")
                        .arg(contract.as_str()),
                )
                .await?;
            let reachable =
                owner.is_some_and(|(t,)| t == tenant.as_str() || t == provider.as_str());
            if !reachable {
                return Err(FieldError::new(
                    "contract",
                    "contract-unknown",
                    "no such contract for this municipality",
                )
                .into());
            }
        }
        let custom = self.custom_field_defs(&provider, item_type).await?;
        let attributes =
            validate_attributes(item_type, &custom, &input.attributes).map_err(|e| {
                FieldError::new("attributes", e.code(), "a type-specific field is not valid")
            })?;
        Ok(CleanInput {
            name,
            owner,
            location_id,
            supplier_id,
            contract_id,
            serial_number: key_text("serial_number", &input.serial_number)?,
            hostname: key_text("hostname", &input.hostname)?.map(|h| h.to_lowercase()),
            asset_tag: key_text("asset_tag", &input.asset_tag)?,
            purchased_on: optional_date("purchased_on", &input.purchased_on)?,
            warranty_until: optional_date("warranty_until", &input.warranty_until)?,
            attributes: serde_json::to_string(&attributes)
                .map_err(|e| StoreError::Inconsistent(e.to_string()))?,
        })
    }

    async fn supplier_in_reach(
        &self,
        _scope: &Scope,
        provider: &TenantId,
        tenant: &TenantId,
        supplier: &str,
    ) -> Result<(), StoreError> {
        let owner: Option<(String,)> = self
            .fetch_optional(Sql::new("SELECT tenant_id FROM suppliers WHERE id = $1").arg(supplier))
            .await?;
        if owner.is_some_and(|(t,)| t == tenant.as_str() || t == provider.as_str()) {
            Ok(())
        } else {
            Err(FieldError::new(
                "supplier",
                "supplier-unknown",
                "no such supplier for this municipality",
            )
            .into())
        }
    }

    /// Records a new item. Needs `Operate` on its municipality.
    pub async fn create_item(&self, scope: &Scope, new: NewItem) -> Result<Item, StoreError> {
        scope.require(&new.tenant_id, Permission::Operate)?;
        if new.lifecycle == Lifecycle::Disposed {
            return Err(FieldError::new(
                "lifecycle",
                "lifecycle-transition",
                "a new item cannot start as disposed",
            )
            .into());
        }
        let clean = self
            .clean_input(scope, &new.tenant_id, new.item_type, &new.input)
            .await?;
        let id = UserId::generate().to_string();
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.insert_item(
            &new.tenant_id,
            &id,
            new.item_type,
            new.lifecycle,
            &clean,
            now,
        )
        .await?;
        tx.queue_search(&new.tenant_id, "item", &id, now).await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&new.tenant_id),
                action: "create",
                object_type: "item",
                object_id: &id,
                before: None,
                after: Some(item_json(new.item_type, new.lifecycle, &clean)),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_item(scope, &id).await
    }

    /// Changes an item's recorded fields (not its type, municipality or life-cycle state).
    pub async fn update_item(
        &self,
        scope: &Scope,
        id: &str,
        input: ItemInput,
    ) -> Result<Item, StoreError> {
        let before = self.get_item(scope, id).await?;
        let tenant = before.summary.tenant_id.clone();
        scope.require(&tenant, Permission::Operate)?;
        let clean = self
            .clean_input(scope, &tenant, before.summary.item_type, &input)
            .await?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        // A new name or location changes what impact analysis shows (see inventory::graph).
        let version = if clean.name != before.summary.name
            || clean.location_id != before.summary.location_id
        {
            Some(tx.lock_inventory_version(&tenant).await?)
        } else {
            None
        };
        tx.update_item_row(&tenant, id, &clean, now).await?;
        tx.queue_search(&tenant, "item", id, now).await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&tenant),
                action: "update",
                object_type: "item",
                object_id: id,
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(item_json(
                    before.summary.item_type,
                    before.summary.lifecycle,
                    &clean,
                )),
            },
        )
        .await?;
        let after = match &version {
            Some(v) => Some(tx.inventory_version_after(v).await?),
            None => None,
        };
        tx.commit().await?;
        let item = self.get_item(scope, id).await?;
        if let (Some(version), Some(after)) = (version, after) {
            self.patch_graph(version, after, graph::Patch::Item(&item.summary))
                .await;
        }
        Ok(item)
    }

    /// Moves an item through its life; a move to `disposed` records the recycler and the
    /// certificate, and removes the item's relations (it no longer runs anything).
    pub async fn move_item(
        &self,
        scope: &Scope,
        id: &str,
        next: Lifecycle,
        disposal: Option<Disposal>,
    ) -> Result<Item, StoreError> {
        let before = self.get_item(scope, id).await?;
        let tenant = before.summary.tenant_id.clone();
        scope.require(&tenant, Permission::Operate)?;
        before
            .summary
            .lifecycle
            .check_move(next, disposal.as_ref())
            .map_err(|e| FieldError::new(e.field(), e.code(), "the move is not allowed"))?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let (recycler, certificate) = disposal
            .as_ref()
            .map(|d| (d.recycler.trim(), d.certificate.trim()))
            .unwrap_or_default();
        let changed = tx
            .execute(
                Sql::new("UPDATE items SET lifecycle = $1, disposal_recycler = $2, disposal_certificate = $3, updated_at = $4 WHERE tenant_id = $5 AND id = $6 AND lifecycle = $7")
                    .arg(next.as_str())
                    .arg(recycler)
                    .arg(certificate)
                    .arg(now)
                    .arg(tenant.as_str())
                    .arg(id)
                    .arg(before.summary.lifecycle.as_str()),
            )
            .await?;
        if changed == 0 {
            return Err(FieldError::new(
                "lifecycle",
                "changed-meanwhile",
                "someone else moved the item meanwhile; reload and try again",
            )
            .into());
        }
        if next == Lifecycle::Disposed {
            tx.execute(
                Sql::new("DELETE FROM item_relations WHERE from_id = $1 OR to_id = $1").arg(id),
            )
            .await?;
        }
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&tenant),
                action: "lifecycle",
                object_type: "item",
                object_id: id,
                before: Some(serde_json::json!({"lifecycle": before.summary.lifecycle})),
                after: Some(serde_json::json!({"lifecycle": next, "disposal": disposal})),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_item(scope, id).await
    }

    /// One item, or `NotFound` when it does not exist or lies outside the scope.
    pub async fn get_item(&self, scope: &Scope, id: &str) -> Result<Item, StoreError> {
        let sql = Sql::new(SUMMARY_SELECT)
            .push("WHERE i.id = ")
            .push_arg(id)
            .push(" AND ")
            .in_scope(scope, Permission::ReadAll, "i.tenant_id");
        let row: SummaryRow = self
            .fetch_optional(sql)
            .await?
            .ok_or(StoreError::NotFound)?;
        let summary = summary_from_row(row)?;
        let (contract_id, contract_name, purchased_on, recycler, certificate, attributes, created_at): (
            Option<String>,
            String,
            Option<String>,
            String,
            String,
            String,
            i64,
        ) = self
            .fetch_optional(
                Sql::new("SELECT i.contract_id, COALESCE(c.name, ''), i.purchased_on, i.disposal_recycler, i.disposal_certificate, i.attributes, i.created_at FROM items i LEFT JOIN contracts c ON c.id = i.contract_id WHERE i.id = $1")
                    .arg(id),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let attributes: BTreeMap<String, String> = serde_json::from_str(&attributes)
            .map_err(|e| StoreError::Inconsistent(format!("item {id} attributes: {e}")))?;
        let disposal = (summary.lifecycle == Lifecycle::Disposed).then_some(Disposal {
            recycler,
            certificate,
        });
        Ok(Item {
            summary,
            contract_id,
            contract_name,
            purchased_on,
            disposal,
            attributes,
            created_at,
        })
    }

    /// Items the scope may read, by municipality, type and name.
    pub async fn list_items(
        &self,
        scope: &Scope,
        filter: &ItemFilter,
    ) -> Result<Vec<ItemSummary>, StoreError> {
        if !filter.text.trim().is_empty() {
            self.flush_search_queue().await?;
        }
        let words = crate::search::query_words(&filter.text);
        let by_municipality = self.list_by_municipality(scope, filter, &words).await?;
        let mut sql = if by_municipality {
            Sql::new(summary_select_by_municipality())
                .push("WHERE ")
                .in_scope(scope, Permission::ReadAll, "+tn.id")
        } else {
            Sql::new(SUMMARY_SELECT).push("WHERE ").in_scope(
                scope,
                Permission::ReadAll,
                "i.tenant_id",
            )
        };
        if let Some(t) = &filter.tenant {
            sql = sql.push(" AND i.tenant_id = ").push_arg(t.as_str());
        }
        if let Some(t) = filter.item_type {
            sql = sql.push(" AND i.item_type = ").push_arg(t.as_str());
        }
        if let Some(l) = filter.lifecycle {
            sql = sql.push(" AND i.lifecycle = ").push_arg(l.as_str());
        }
        if let Some(l) = &filter.location_id {
            sql = sql.push(" AND i.location_id = ").push_arg(l.as_str());
        }
        if let Some(s) = &filter.supplier_id {
            sql = sql.push(" AND i.supplier_id = ").push_arg(s.as_str());
        }
        if let Some(d) = &filter.warranty_until {
            sql = sql
                .push(" AND i.warranty_until IS NOT NULL AND i.warranty_until <= ")
                .push_arg(d.as_str());
        }
        if let Some(d) = &filter.contract_ends_by {
            sql = sql
                .push(" AND i.contract_id IN (SELECT id FROM contracts WHERE ends_on IS NOT NULL AND ends_on <= ")
                .push_arg(d.as_str())
                .push(")");
        }
        if !words.is_empty() {
            sql = sql.push(" AND i.id IN (");
            sql = self.search_match(sql, "item", &words);
            sql = sql.push(")");
        }
        // Within one municipality its name is the same on every row: leaving it out of the
        // ORDER BY gives the same order and lets the planner read items_by_type in order and
        // stop at the page's end instead of sorting every match.
        let order = if filter.tenant.is_some() {
            " ORDER BY i.item_type, i.name, i.id LIMIT "
        } else if by_municipality {
            // The same order, as the names are distinct: municipalities in name order (the
            // rowid makes each one distinct to the planner), each one's items as above.
            " ORDER BY tn.name, tn.id, tn.rowid, i.item_type, i.name, i.id LIMIT "
        } else {
            " ORDER BY tn.name, i.item_type, i.name, i.id LIMIT "
        };
        sql = sql
            .push(order)
            .push_arg(filter.limit.clamp(1, 100_000))
            .push(" OFFSET ")
            .push_arg(filter.offset.max(0));
        self.fetch_all::<SummaryRow>(sql)
            .await?
            .into_iter()
            .map(summary_from_row)
            .collect()
    }

    /// Whether a list across municipalities walks them in name order, each one's items
    /// through `items_by_type` in order, and stops when the page is full (SQLite only).
    ///
    /// SQLite otherwise reads every match of every municipality and sorts them: 130-220 ms
    /// for the first page of 200,000 items (drifta-bench), as its planner does not take
    /// `tenants_by_name` in order for `ORDER BY tn.name` (the tenant filter is an IN list on
    /// the primary key, and names need not be distinct). The ordered walk reads the first
    /// page in well under a millisecond, but only filters that keep most of a municipality's
    /// items suit it: a text search, a location, a supplier or a contract date picks a few
    /// items that the usual plan finds through their own index, while this walk would read
    /// every item of every municipality to find them. It orders by (name, id) rather than
    /// by name, so it is taken only when the scope's municipality names are distinct.
    async fn list_by_municipality(
        &self,
        scope: &Scope,
        filter: &ItemFilter,
        words: &[String],
    ) -> Result<bool, StoreError> {
        if self.backend() != Backend::Sqlite
            || filter.tenant.is_some()
            || !words.is_empty()
            || filter.location_id.is_some()
            || filter.supplier_id.is_some()
            || filter.contract_ends_by.is_some()
        {
            return Ok(false);
        }
        let (repeated,): (i64,) = self
            .fetch_optional(
                Sql::new("SELECT COUNT(*) - COUNT(DISTINCT name) FROM tenants WHERE ").in_scope(
                    scope,
                    Permission::ReadAll,
                    "id",
                ),
            )
            .await?
            .unwrap_or((0,));
        Ok(repeated == 0)
    }

    /// Relations of an item whose other end the scope can see, both directions.
    pub async fn item_relations(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Vec<Relation>, StoreError> {
        self.get_item(scope, id).await?;
        let edges: Vec<(String, String, String)> = self
            .fetch_all(
                Sql::new("SELECT from_id, relation, to_id FROM item_relations WHERE from_id = $1 OR to_id = $1 ORDER BY relation, created_at")
                    .arg(id),
            )
            .await?;
        let others: Vec<String> = edges
            .iter()
            .map(|(f, _, t)| if f == id { t.clone() } else { f.clone() })
            .collect();
        let summaries = self.summaries_by_ids(scope, &others).await?;
        let mut out = Vec::new();
        for (from, relation, to) in edges {
            let outgoing = from == id;
            let other_id = if outgoing { &to } else { &from };
            let (Some(relation), Some(other)) =
                (RelationType::parse(&relation), summaries.get(other_id))
            else {
                continue;
            };
            out.push(Relation {
                relation,
                outgoing,
                other: other.clone(),
            });
        }
        Ok(out)
    }

    async fn summaries_by_ids(
        &self,
        scope: &Scope,
        ids: &[String],
    ) -> Result<HashMap<String, ItemSummary>, StoreError> {
        let mut out = HashMap::new();
        // Chunks keep the placeholder count far below SQLite's and PostgreSQL's limits.
        for chunk in ids.chunks(500) {
            let sql = Sql::new(SUMMARY_SELECT)
                .push("WHERE ")
                .push_in("i.id", chunk.iter().map(String::as_str))
                .push(" AND ")
                .in_scope(scope, Permission::ReadAll, "i.tenant_id");
            for row in self.fetch_all::<SummaryRow>(sql).await? {
                let s = summary_from_row(row)?;
                out.insert(s.id.clone(), s);
            }
        }
        Ok(out)
    }

    /// Records "`from` `relation` `to`". Needs `Operate` on `from`'s municipality and that
    /// the scope sees `to`, which must belong to the same provider (a shared server of the
    /// host municipality is fine). Relations that describe a hierarchy refuse a cycle.
    pub async fn relate_items(
        &self,
        scope: &Scope,
        from: &str,
        relation: RelationType,
        to: &str,
    ) -> Result<(), StoreError> {
        let source = self.get_item(scope, from).await?;
        scope.require(&source.summary.tenant_id, Permission::Operate)?;
        let target = self.get_item(scope, to).await.map_err(|e| match e {
            StoreError::NotFound => StoreError::Invalid(FieldError::new(
                "to",
                "relation-target-unknown",
                "no such item, or it belongs to a municipality you cannot see",
            )),
            e => e,
        })?;
        if from == to {
            return Err(
                FieldError::new("to", "relation-self", "an item cannot relate to itself").into(),
            );
        }
        for item in [&source, &target] {
            if item.summary.lifecycle == Lifecycle::Disposed {
                return Err(FieldError::new(
                    "to",
                    "relation-disposed",
                    "a disposed item takes no new relations",
                )
                .into());
            }
        }
        if self.provider_of(&source.summary.tenant_id).await?
            != self.provider_of(&target.summary.tenant_id).await?
        {
            return Err(FieldError::new(
                "to",
                "relation-other-provider",
                "items of different providers cannot be related",
            )
            .into());
        }
        if relation.forbids_cycles() && self.reaches(to, from).await? {
            return Err(FieldError::new(
                "relation",
                "relation-cycle",
                "this relation would close a cycle",
            )
            .into());
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let version = tx.lock_inventory_version(&source.summary.tenant_id).await?;
        let inserted = tx
            .execute(
                Sql::new("INSERT INTO item_relations (tenant_id, from_id, relation, to_id, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (from_id, relation, to_id) DO NOTHING")
                    .arg(source.summary.tenant_id.as_str())
                    .arg(from)
                    .arg(relation.as_str())
                    .arg(to)
                    .arg(now),
            )
            .await?;
        if inserted == 0 {
            return Ok(());
        }
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&source.summary.tenant_id),
                action: "relate",
                object_type: "item",
                object_id: from,
                before: None,
                after: Some(serde_json::json!({"relation": relation, "to": to, "to_name": target.summary.name})),
            },
        )
        .await?;
        let after = tx.inventory_version_after(&version).await?;
        tx.commit().await?;
        let patch = graph::Patch::Relate {
            from: &source.summary,
            relation,
            to: &target.summary,
        };
        self.patch_graph(version, after, patch).await;
        Ok(())
    }

    /// Removes a relation. Needs `Operate` on `from`'s municipality.
    pub async fn unrelate_items(
        &self,
        scope: &Scope,
        from: &str,
        relation: RelationType,
        to: &str,
    ) -> Result<(), StoreError> {
        let source = self.get_item(scope, from).await?;
        scope.require(&source.summary.tenant_id, Permission::Operate)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let version = tx.lock_inventory_version(&source.summary.tenant_id).await?;
        let removed = tx
            .execute(
                Sql::new("DELETE FROM item_relations WHERE from_id = $1 AND relation = $2 AND to_id = $3")
                    .arg(from)
                    .arg(relation.as_str())
                    .arg(to),
            )
            .await?;
        if removed == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&source.summary.tenant_id),
                action: "unrelate",
                object_type: "item",
                object_id: from,
                before: Some(serde_json::json!({"relation": relation, "to": to})),
                after: None,
            },
        )
        .await?;
        let after = tx.inventory_version_after(&version).await?;
        tx.commit().await?;
        let patch = graph::Patch::Unrelate { from, relation, to };
        self.patch_graph(version, after, patch).await;
        Ok(())
    }

    /// Whether `start` reaches `goal` through relations that forbid cycles, whatever the
    /// scope: a cycle through an item the user cannot see is still a cycle.
    async fn reaches(&self, start: &str, goal: &str) -> Result<bool, StoreError> {
        let types: Vec<&str> = RelationType::ALL
            .iter()
            .filter(|r| r.forbids_cycles())
            .map(|r| r.as_str())
            .collect();
        let sql = Sql::new("WITH RECURSIVE reach(id) AS (SELECT ")
            .push_arg(start)
            .push(" UNION SELECT r.to_id FROM item_relations r JOIN reach ON r.from_id = reach.id WHERE ")
            .push_in("r.relation", types)
            .push(") SELECT id FROM reach WHERE id = ")
            .push_arg(goal);
        let found: Option<(String,)> = self.fetch_optional(cast_start(sql, self.backend())).await?;
        Ok(found.is_some())
    }

    /// What fails if `id` fails (`Dependants`), or what `id` needs (`Needs`), through every
    /// relation that carries failures, across municipalities, every item named. Items the
    /// scope cannot see are counted in `hidden`, never named.
    pub async fn impact(
        &self,
        scope: &Scope,
        id: &str,
        direction: ImpactDirection,
    ) -> Result<ImpactReport, StoreError> {
        self.impact_view(scope, id, direction, ImpactView::ALL)
            .await
    }

    /// [`impact`](Self::impact) naming only the items `view` asks for. The analysis runs on
    /// the provider's relation graph in memory (see `inventory::graph`), so the database
    /// reads are the version check, the origin, and the names of what is shown.
    pub async fn impact_view(
        &self,
        scope: &Scope,
        id: &str,
        direction: ImpactDirection,
        view: ImpactView,
    ) -> Result<ImpactReport, StoreError> {
        let origin = self.get_item(scope, id).await?.summary;
        let graph = self.provider_graph(&origin.tenant_id).await?;
        let found = graph.select(scope, id, direction, view);
        drop(graph);
        let ids: Vec<String> = found
            .rows
            .iter()
            .chain(&found.drawn)
            .map(|r| r.id.clone())
            .collect();
        let summaries = self.summaries_by_ids(scope, &ids).await?;
        let node = |row: graph::Row| {
            summaries.get(&row.id).map(|item| ImpactNode {
                item: item.clone(),
                depth: row.depth,
                effect: row.effect,
                path: row.path,
            })
        };
        let nodes: Vec<ImpactNode> = found.rows.into_iter().filter_map(node).collect();
        let drawn: Vec<ImpactNode> = found.drawn.into_iter().filter_map(node).collect();
        let mut municipalities: Vec<String> = Vec::new();
        if !found.tenants.is_empty() {
            let sql = Sql::new("SELECT name FROM tenants WHERE ")
                .push_in("id", found.tenants.iter().map(|t| t.as_str()))
                .push(" AND ")
                .in_scope(scope, Permission::ReadAll, "id");
            let rows: Vec<(String,)> = self.fetch_all(sql).await?;
            municipalities = rows.into_iter().map(|(n,)| n).collect();
        }
        let mut locations: Vec<String> = Vec::new();
        for chunk in found.locations.chunks(500) {
            let sql = Sql::new("SELECT name FROM locations WHERE ")
                .push_in("id", chunk.iter().map(String::as_str));
            let rows: Vec<(String,)> = self.fetch_all(sql).await?;
            locations.extend(rows.into_iter().map(|(n,)| n).filter(|n| !n.is_empty()));
        }
        for list in [&mut municipalities, &mut locations] {
            list.sort();
            list.dedup();
        }
        Ok(ImpactReport {
            origin,
            direction,
            nodes,
            offset: view.offset.min(found.total),
            total: found.total,
            down: found.down,
            degraded: found.degraded,
            columns: found.columns,
            drawn,
            edges: found.edges,
            hidden: found.hidden,
            municipalities,
            locations,
            services: found.services,
        })
    }

    /// Links a ticket to an item it is about. Needs `Operate` on the ticket's municipality
    /// and that the scope sees the item.
    pub async fn link_ticket_item(
        &self,
        scope: &Scope,
        ticket_id: &str,
        item_id: &str,
    ) -> Result<(), StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        scope.require(&ticket.tenant_id, Permission::Operate)?;
        let item = self.get_item(scope, item_id).await.map_err(|e| match e {
            StoreError::NotFound => StoreError::Invalid(FieldError::new(
                "item",
                "item-unknown",
                "no such item, or it belongs to a municipality you cannot see",
            )),
            e => e,
        })?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let inserted = tx
            .execute(
                Sql::new("INSERT INTO ticket_items (tenant_id, ticket_id, item_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (ticket_id, item_id) DO NOTHING")
                    .arg(ticket.tenant_id.as_str())
                    .arg(ticket_id)
                    .arg(item_id)
                    .arg(now),
            )
            .await?;
        if inserted > 0 {
            tx.audit(
                scope.actor(),
                now,
                Change {
                    tenant: Some(&ticket.tenant_id),
                    action: "link_item",
                    object_type: "ticket",
                    object_id: ticket_id,
                    before: None,
                    after: Some(serde_json::json!({"item": item_id, "name": item.summary.name})),
                },
            )
            .await?;
        }
        tx.commit().await
    }

    /// Items a ticket is about, those the scope can see.
    pub async fn ticket_items(
        &self,
        scope: &Scope,
        ticket_id: &str,
    ) -> Result<Vec<ItemSummary>, StoreError> {
        self.get_ticket(scope, ticket_id).await?;
        let ids: Vec<(String,)> = self
            .fetch_all(
                Sql::new(
                    "SELECT item_id FROM ticket_items WHERE ticket_id = $1 ORDER BY created_at",
                )
                .arg(ticket_id),
            )
            .await?;
        let ids: Vec<String> = ids.into_iter().map(|(i,)| i).collect();
        let found = self.summaries_by_ids(scope, &ids).await?;
        Ok(ids.iter().filter_map(|i| found.get(i).cloned()).collect())
    }

    /// Tickets about an item, those the scope can see, newest first.
    pub async fn item_tickets(
        &self,
        scope: &Scope,
        item_id: &str,
    ) -> Result<Vec<crate::Ticket>, StoreError> {
        self.get_item(scope, item_id).await?;
        let ids: Vec<(String,)> = self
            .fetch_all(
                Sql::new("SELECT ticket_id FROM ticket_items WHERE item_id = $1 ORDER BY created_at DESC LIMIT 200")
                    .arg(item_id),
            )
            .await?;
        let mut tickets = self
            .tickets_by_ids(
                scope,
                ids.into_iter().map(|(i,)| i).collect(),
                &crate::QueueFilter::default(),
            )
            .await?;
        tickets.sort_by_key(|t| std::cmp::Reverse(t.created_at));
        Ok(tickets)
    }

    /// Records a supplier for a provider (shared by its municipalities) or a municipality.
    pub async fn create_supplier(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        new: NewSupplier,
    ) -> Result<Supplier, StoreError> {
        scope.require(tenant, Permission::Operate)?;
        let name = display_name("name", &new.name)?;
        let org_number = short_text("org_number", &new.org_number, 40)?;
        let contact = short_text("contact", &new.contact, 300)?;
        let id = UserId::generate().to_string();
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute_raw(
            Sql::new("INSERT INTO suppliers (tenant_id, id, name, org_number, contact, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .arg(tenant.as_str())
                .arg(id.as_str())
                .arg(name.as_str())
                .arg(org_number.as_str())
                .arg(contact.as_str())
                .arg(now),
        )
        .await
        .map_err(|e| match StoreError::taken_or(e, &["name"]) {
            StoreError::Taken { .. } => StoreError::Taken { field: "name" },
            e => e,
        })?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(tenant),
                action: "create",
                object_type: "supplier",
                object_id: &id,
                before: None,
                after: Some(
                    serde_json::json!({"name": name, "org_number": org_number, "contact": contact}),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        self.list_suppliers(scope)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// Suppliers of the tenants whose inventory the scope reads, and of their providers.
    pub async fn list_suppliers(&self, scope: &Scope) -> Result<Vec<Supplier>, StoreError> {
        let sql = reachable(
            Sql::new("SELECT s.id, s.tenant_id, tn.name, s.name, s.org_number, s.contact FROM suppliers s JOIN tenants tn ON tn.id = s.tenant_id WHERE "),
            scope,
            "s.tenant_id",
        )
        .push(" ORDER BY s.name, s.id");
        let rows: Vec<(String, String, String, String, String, String)> =
            self.fetch_all(sql).await?;
        Ok(rows
            .into_iter()
            .map(|r| Supplier {
                id: r.0,
                tenant_id: TenantId::from_db(r.1),
                tenant_name: r.2,
                name: r.3,
                org_number: r.4,
                contact: r.5,
            })
            .collect())
    }

    /// Records a contract with a supplier the tenant can use.
    pub async fn create_contract(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        new: NewContract,
    ) -> Result<Contract, StoreError> {
        scope.require(tenant, Permission::Operate)?;
        let name = display_name("name", &new.name)?;
        let provider = self.provider_of(tenant).await?;
        self.supplier_in_reach(scope, &provider, tenant, new.supplier_id.trim())
            .await?;
        let starts_on = optional_date("starts_on", &new.starts_on)?;
        let ends_on = optional_date("ends_on", &new.ends_on)?;
        if let (Some(s), Some(e)) = (&starts_on, &ends_on)
            && e < s
        {
            return Err(
                FieldError::new("ends_on", "ends-before-start", "ends before it starts").into(),
            );
        }
        if !(0..=120).contains(&new.notice_months) {
            return Err(
                FieldError::new("notice_months", "out-of-range", "must be 0 to 120").into(),
            );
        }
        if new.annual_cost < 0 {
            return Err(
                FieldError::new("annual_cost", "out-of-range", "cannot be negative").into(),
            );
        }
        let currency = match new.currency.trim().to_uppercase().as_str() {
            "" => "NOK".to_string(),
            c if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) => c.to_string(),
            _ => {
                return Err(FieldError::new(
                    "currency",
                    "bad-currency",
                    "use a three-letter code such as NOK or DKK",
                )
                .into());
            }
        };
        let id = UserId::generate().to_string();
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO contracts (tenant_id, id, supplier_id, name, starts_on, ends_on, notice_months, annual_cost, currency, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .arg(tenant.as_str())
                .arg(id.as_str())
                .arg(new.supplier_id.trim())
                .arg(name.as_str())
                .arg(starts_on.clone())
                .arg(ends_on.clone())
                .arg(new.notice_months)
                .arg(new.annual_cost)
                .arg(currency.as_str())
                .arg(now),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(tenant),
                action: "create",
                object_type: "contract",
                object_id: &id,
                before: None,
                after: Some(serde_json::json!({
                    "name": name, "supplier": new.supplier_id.trim(), "starts_on": starts_on,
                    "ends_on": ends_on, "notice_months": new.notice_months,
                    "annual_cost": new.annual_cost, "currency": currency,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        self.list_contracts(scope)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// Contracts of the tenants whose inventory the scope reads and of their providers,
    /// soonest ending first.
    pub async fn list_contracts(&self, scope: &Scope) -> Result<Vec<Contract>, StoreError> {
        let count = Sql::new("SELECT COUNT(*) FROM items i WHERE i.contract_id = c.id AND ")
            .in_scope(scope, Permission::ReadAll, "i.tenant_id");
        let sql = reachable(
            count
                .nest(
                    "SELECT c.id, c.tenant_id, c.supplier_id, s.name, c.name, c.starts_on, c.ends_on, c.notice_months, c.annual_cost, c.currency, (",
                    ") FROM contracts c JOIN suppliers s ON s.id = c.supplier_id ",
                )
                .push("WHERE "),
            scope,
            "c.tenant_id",
        )
        .push(" ORDER BY c.ends_on IS NULL, c.ends_on, c.name");
        type Row = (
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            i64,
            i64,
            String,
            i64,
        );
        let rows: Vec<Row> = self.fetch_all(sql).await?;
        Ok(rows
            .into_iter()
            .map(|r| Contract {
                id: r.0,
                tenant_id: TenantId::from_db(r.1),
                supplier_id: r.2,
                supplier_name: r.3,
                name: r.4,
                starts_on: r.5,
                ends_on: r.6,
                notice_months: r.7,
                annual_cost: r.8,
                currency: r.9,
                item_count: r.10,
            })
            .collect())
    }

    /// Appends the condition that finds `words` in the search documents of `kind`.
    pub(crate) fn search_match(&self, mut sql: Sql, kind: &str, words: &[String]) -> Sql {
        match self.backend() {
            Backend::Sqlite => {
                sql = sql
                    .push("SELECT object_id FROM search_fts WHERE kind = ")
                    .push_arg(kind);
                for word in words {
                    sql = if word.chars().count() >= 3 {
                        sql.push(" AND search_fts MATCH ")
                            .push_arg(format!("\"{}\"", word.replace('"', "\"\"")))
                    } else {
                        sql.push(" AND (title LIKE ")
                            .push_arg(crate::search::like_pattern(word))
                            .push(" ESCAPE '\\' OR body LIKE ")
                            .push_arg(crate::search::like_pattern(word))
                            .push(" ESCAPE '\\')")
                    };
                }
            }
            Backend::Postgres => {
                sql = sql
                    .push("SELECT object_id FROM search_documents WHERE kind = ")
                    .push_arg(kind);
                for word in words {
                    sql = sql
                        .push(" AND (title || ' ' || body) LIKE ")
                        .push_arg(crate::search::like_pattern(word))
                        .push(" ESCAPE '\\'");
                }
            }
        }
        sql
    }

    /// An item's search document: its name, keys, owner and field values.
    pub(crate) async fn item_document(
        &self,
        id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        type DocumentRow = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
        );
        let row: Option<DocumentRow> = self
            .fetch_optional(
                Sql::new("SELECT name, item_type, serial_number, hostname, asset_tag, owner, attributes FROM items WHERE id = $1")
                    .arg(id),
            )
            .await?;
        let Some((name, item_type, serial, hostname, asset_tag, owner, attributes)) = row else {
            return Ok(None);
        };
        let attributes: BTreeMap<String, String> =
            serde_json::from_str(&attributes).unwrap_or_default();
        let mut body = vec![item_type];
        body.extend([serial, hostname, asset_tag].into_iter().flatten());
        body.push(owner);
        body.extend(attributes.into_values());
        Ok(Some((name, body.join("\n"))))
    }
}

/// Rows of tenants whose inventory the scope reads, and of the providers above them.
fn reachable(sql: Sql, scope: &Scope, column: &str) -> Sql {
    sql.push("(")
        .in_scope(scope, Permission::ReadAll, column)
        .push(&format!(
            " OR {column} IN (SELECT parent_id FROM tenants WHERE "
        ))
        .in_scope(scope, Permission::ReadAll, "id")
        .push("))")
}

/// PostgreSQL cannot infer the type of a bare placeholder as a recursive query's first row.
fn cast_start(mut sql: Sql, backend: Backend) -> Sql {
    if backend == Backend::Postgres {
        sql.text = sql.text.replacen(
            "AS (SELECT $1 UNION",
            "AS (SELECT CAST($1 AS TEXT) UNION",
            1,
        );
    }
    sql
}

fn item_json(item_type: ItemType, lifecycle: Lifecycle, c: &CleanInput) -> serde_json::Value {
    serde_json::json!({
        "item_type": item_type,
        "lifecycle": lifecycle,
        "name": c.name,
        "owner": c.owner,
        "location_id": c.location_id,
        "supplier_id": c.supplier_id,
        "contract_id": c.contract_id,
        "serial_number": c.serial_number,
        "hostname": c.hostname,
        "asset_tag": c.asset_tag,
        "purchased_on": c.purchased_on,
        "warranty_until": c.warranty_until,
        "attributes": serde_json::from_str::<serde_json::Value>(&c.attributes).unwrap_or_default(),
    })
}

impl Tx {
    async fn insert_item(
        &mut self,
        tenant: &TenantId,
        id: &str,
        item_type: ItemType,
        lifecycle: Lifecycle,
        c: &CleanInput,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute_raw(
            Sql::new("INSERT INTO items (tenant_id, id, item_type, name, location_id, owner, supplier_id, contract_id, serial_number, hostname, asset_tag, purchased_on, warranty_until, lifecycle, attributes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)")
                .arg(tenant.as_str())
                .arg(id)
                .arg(item_type.as_str())
                .arg(c.name.as_str())
                .arg(c.location_id.clone())
                .arg(c.owner.as_str())
                .arg(c.supplier_id.clone())
                .arg(c.contract_id.clone())
                .arg(c.serial_number.clone())
                .arg(c.hostname.clone())
                .arg(c.asset_tag.clone())
                .arg(c.purchased_on.clone())
                .arg(c.warranty_until.clone())
                .arg(lifecycle.as_str())
                .arg(c.attributes.as_str())
                .arg(now),
        )
        .await
        .map_err(natural_key_taken)?;
        Ok(())
    }

    async fn update_item_row(
        &mut self,
        tenant: &TenantId,
        id: &str,
        c: &CleanInput,
        now: i64,
    ) -> Result<(), StoreError> {
        self.execute_raw(
            Sql::new("UPDATE items SET name = $1, location_id = $2, owner = $3, supplier_id = $4, contract_id = $5, serial_number = $6, hostname = $7, asset_tag = $8, purchased_on = $9, warranty_until = $10, attributes = $11, updated_at = $12 WHERE tenant_id = $13 AND id = $14")
                .arg(c.name.as_str())
                .arg(c.location_id.clone())
                .arg(c.owner.as_str())
                .arg(c.supplier_id.clone())
                .arg(c.contract_id.clone())
                .arg(c.serial_number.clone())
                .arg(c.hostname.clone())
                .arg(c.asset_tag.clone())
                .arg(c.purchased_on.clone())
                .arg(c.warranty_until.clone())
                .arg(c.attributes.as_str())
                .arg(now)
                .arg(tenant.as_str())
                .arg(id),
        )
        .await
        .map_err(natural_key_taken)?;
        Ok(())
    }
}

/// Serial number, host name and asset tag are unique within a municipality: they are how
/// a re-import finds the item it updates.
fn natural_key_taken(e: sqlx::Error) -> StoreError {
    StoreError::taken_or(e, &["serial_number", "hostname", "asset_tag"])
}
