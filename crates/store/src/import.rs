//! CSV import of inventory items, one type per file: a dry run that lists every bad row and
//! column, then a real run that is all-or-nothing or imports the valid rows only. A row
//! whose serial number, host name or asset tag matches an item of the municipality updates
//! that item instead of adding a duplicate.
//!
//! Built for 100,000 rows: the municipality's locations, suppliers, contracts, fields and
//! existing keys are read once, rows are checked in memory, and the writes go in large
//! transactions, so the cost is a few statements per row rather than a dozen queries.

use crate::audit::Change;
use crate::bulk::insert_rows;
use crate::db::Store;
use crate::error::StoreError;
use crate::sql::{Arg, Sql};
use drifta_core::cmdb::{ItemType, Lifecycle};
use drifta_core::csv_import::{
    CellValue, ColumnKind, ColumnSpec, CsvError, ImportSchema, Limits, ParsedRow, RowProblem,
};
use drifta_core::item_fields::{FieldDef, FieldKind, all_fields, validate_attributes};
use drifta_core::{Permission, Scope, TenantId, UserId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// What a real run does with rows that have problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Check everything, write nothing.
    DryRun,
    /// Write only if no row has a problem.
    AllOrNothing,
    /// Write the good rows, report the others.
    ValidOnly,
}

impl ImportMode {
    pub fn parse(text: &str) -> Option<ImportMode> {
        match text {
            "dry_run" => Some(ImportMode::DryRun),
            "all_or_nothing" => Some(ImportMode::AllOrNothing),
            "valid_only" => Some(ImportMode::ValidOnly),
            _ => None,
        }
    }
}

/// A problem with a row, for the report. Codes are translation keys (`err-<code>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    pub row: usize,
    pub column: Option<String>,
    pub column_number: Option<usize>,
    pub code: String,
    pub message: String,
}

impl From<RowProblem> for ImportProblem {
    fn from(p: RowProblem) -> Self {
        ImportProblem {
            row: p.row,
            column: p.column,
            column_number: p.column_number,
            code: p.code.to_string(),
            message: p.message,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub mode: ImportMode,
    pub encoding: String,
    pub delimiter: String,
    pub total_rows: usize,
    /// Rows that would be (dry run) or were written as new items.
    pub created: usize,
    /// Rows that matched an existing item by a natural key.
    pub updated: usize,
    /// Nothing was written: a dry run, or problems in an all-or-nothing run.
    pub written: bool,
    pub problems: Vec<ImportProblem>,
}

/// Why a whole file was refused, with the parser's code and English message.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Csv(#[from] CsvError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The columns every type has, by their CSV names. Attribute columns follow, named by key.
const BASE_COLUMNS: &[&str] = &[
    "name",
    "lifecycle",
    "location",
    "owner",
    "supplier",
    "contract",
    "serial_number",
    "hostname",
    "asset_tag",
    "purchased_on",
    "warranty_until",
];

/// The schema of an import file for one type: the base columns and the type's fields.
pub fn import_schema(item_type: ItemType, custom: &[FieldDef]) -> ImportSchema {
    let text = |max| ColumnKind::Text { max_chars: max };
    let mut columns = vec![
        ColumnSpec::new("name", text(120), true),
        ColumnSpec::new(
            "lifecycle",
            ColumnKind::Choice(
                Lifecycle::ALL
                    .iter()
                    .filter(|l| **l != Lifecycle::Disposed)
                    .map(|l| l.as_str().to_string())
                    .collect(),
            ),
            false,
        ),
        ColumnSpec::new("location", text(120), false),
        ColumnSpec::new("owner", text(200), false),
        ColumnSpec::new("supplier", text(120), false),
        ColumnSpec::new("contract", text(120), false),
        ColumnSpec::new("serial_number", text(120), false),
        ColumnSpec::new("hostname", text(120), false),
        ColumnSpec::new("asset_tag", text(120), false),
        ColumnSpec::new("purchased_on", ColumnKind::Date, false),
        ColumnSpec::new("warranty_until", ColumnKind::Date, false),
    ];
    for field in all_fields(item_type, custom) {
        let kind = match &field.kind {
            FieldKind::Date => ColumnKind::Date,
            FieldKind::Integer => ColumnKind::Integer {
                min: i64::MIN,
                max: i64::MAX,
            },
            FieldKind::Choice(list) => ColumnKind::Choice(list.clone()),
            // Yes/no goes through the item's own rules, so an empty cell stays unset.
            FieldKind::Text | FieldKind::Bool => text(500),
        };
        if !BASE_COLUMNS.contains(&field.key.as_str()) {
            columns.push(ColumnSpec::new(&field.key, kind, false));
        }
    }
    ImportSchema { columns }
}

fn cell_text(value: &CellValue) -> Option<String> {
    match value {
        CellValue::Empty => None,
        CellValue::Text(t) | CellValue::Choice(t) => {
            let t = t.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        CellValue::Date(d) => Some(d.to_string()),
        CellValue::Integer(n) => Some(n.to_string()),
        CellValue::Bool(b) => Some(b.to_string()),
        CellValue::Countries(list) => (!list.is_empty()).then(|| list.join(", ")),
    }
}

/// One row turned into what the database takes.
struct ImportRow {
    existing: Option<String>,
    lifecycle: Option<Lifecycle>,
    values: BTreeMap<&'static str, Option<String>>,
    /// Only the attribute columns present in the file; merged into the item's others.
    attributes: BTreeMap<String, String>,
}

/// Everything of a municipality an import looks names up in, read once.
struct Lookups {
    locations: HashMap<String, String>,
    suppliers: HashMap<String, String>,
    contracts: HashMap<String, String>,
    /// Natural key (column, lower-cased value) → item id.
    keys: HashMap<(&'static str, String), String>,
    custom: Vec<FieldDef>,
}

fn problem(row: usize, column: &str, code: &str, message: &str) -> ImportProblem {
    ImportProblem {
        row,
        column: Some(column.to_string()),
        column_number: None,
        code: code.to_string(),
        message: message.to_string(),
    }
}

impl Store {
    async fn import_lookups(
        &self,
        tenant: &TenantId,
        item_type: ItemType,
    ) -> Result<Lookups, StoreError> {
        let provider = self.provider_of(tenant).await?;
        let pairs = |rows: Vec<(String, String)>| -> HashMap<String, String> {
            rows.into_iter()
                .map(|(name, id)| (name.trim().to_lowercase(), id))
                .collect()
        };
        let locations = pairs(
            self.fetch_all(
                Sql::new("SELECT name, id FROM locations WHERE tenant_id = $1")
                    .arg(tenant.as_str()),
            )
            .await?,
        );
        let suppliers = pairs(
            self.fetch_all(
                Sql::new("SELECT name, id FROM suppliers WHERE tenant_id = $1 OR tenant_id = $2")
                    .arg(tenant.as_str())
                    .arg(provider.as_str()),
            )
            .await?,
        );
        let contracts = pairs(
            self.fetch_all(
                Sql::new("SELECT name, id FROM contracts WHERE tenant_id = $1 OR tenant_id = $2")
                    .arg(tenant.as_str())
                    .arg(provider.as_str()),
            )
            .await?,
        );
        type KeyRow = (String, Option<String>, Option<String>, Option<String>);
        let existing: Vec<KeyRow> = self
            .fetch_all(
                Sql::new(
                    "SELECT id, serial_number, hostname, asset_tag FROM items WHERE tenant_id = $1",
                )
                .arg(tenant.as_str()),
            )
            .await?;
        let mut keys = HashMap::new();
        for (id, serial, hostname, tag) in existing {
            for (column, value) in [
                ("serial_number", serial),
                ("hostname", hostname),
                ("asset_tag", tag),
            ] {
                if let Some(v) = value {
                    keys.insert((column, v.to_lowercase()), id.clone());
                }
            }
        }
        let custom = self.custom_field_defs(&provider, item_type).await?;
        Ok(Lookups {
            locations,
            suppliers,
            contracts,
            keys,
            custom,
        })
    }

    /// Imports items of one type into one municipality from CSV bytes. `progress` is called
    /// with (rows done, rows in total) while checking and writing.
    pub async fn import_items(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        item_type: ItemType,
        bytes: &[u8],
        mode: ImportMode,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<ImportReport, ImportError> {
        scope
            .require(tenant, Permission::Operate)
            .map_err(StoreError::from)?;
        let lookups = self.import_lookups(tenant, item_type).await?;
        let schema = import_schema(item_type, &lookups.custom);
        let parsed = drifta_core::csv_import::parse(bytes, &schema, &Limits::default())?;
        let total = parsed.total_rows;
        let mut problems: Vec<ImportProblem> = parsed
            .problems
            .iter()
            .cloned()
            .map(ImportProblem::from)
            .collect();
        let mut rows = Vec::with_capacity(parsed.rows.len());
        // Keys claimed by earlier rows of the same file: two rows with one serial number
        // would otherwise both create an item, or both update the same one.
        let mut seen: HashMap<(&'static str, String), usize> = HashMap::new();
        for (n, parsed_row) in parsed.rows.iter().enumerate() {
            if n % 5_000 == 0 {
                progress(n, total);
            }
            match check_row(parsed_row, item_type, &lookups, &mut seen) {
                Ok(row) => rows.push(row),
                Err(p) => problems.push(p),
            }
        }
        problems.sort_by_key(|p| (p.row, p.column_number));
        let created = rows.iter().filter(|r| r.existing.is_none()).count();
        let updated = rows.len() - created;
        let write = match mode {
            ImportMode::DryRun => false,
            ImportMode::AllOrNothing => problems.is_empty(),
            ImportMode::ValidOnly => !rows.is_empty(),
        };
        let report = ImportReport {
            mode,
            encoding: parsed.encoding.to_string(),
            delimiter: (parsed.delimiter as char).to_string(),
            total_rows: total,
            created,
            updated,
            written: write,
            problems,
        };
        if write {
            self.write_import(scope, tenant, item_type, &rows, bytes, &report, progress)
                .await?;
        }
        progress(total, total);
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_import(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        item_type: ItemType,
        rows: &[ImportRow],
        bytes: &[u8],
        report: &ImportReport,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<(), StoreError> {
        let now = self.now_ms();
        let total = report.total_rows;
        // One transaction: an import is all-or-nothing at the database level too, so a
        // crash half-way leaves the inventory as it was.
        let mut tx = self.begin().await?;
        // Rows go in multi-row statements of this many: two statements per 500 new items
        // instead of two per item (drifta-bench: 100,000 rows took 20 s one by one).
        const CHUNK: usize = 500;
        let taken = |e| StoreError::taken_or(e, &["serial_number", "hostname", "asset_tag"]);
        let (new_rows, updates): (Vec<&ImportRow>, Vec<&ImportRow>) =
            rows.iter().partition(|r| r.existing.is_none());
        let mut queued: Vec<String> = Vec::with_capacity(rows.len());
        progress(0, total);
        let mut values: Vec<Vec<Arg>> = Vec::with_capacity(new_rows.len());
        for row in &new_rows {
            let v = |k: &str| row.values.get(k).cloned().flatten();
            let id = UserId::generate().to_string();
            let attributes = serde_json::to_string(&row.attributes)
                .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
            values.push(vec![
                tenant.as_str().into(),
                id.as_str().into(),
                item_type.as_str().into(),
                v("name").unwrap_or_default().into(),
                v("location").into(),
                v("owner").unwrap_or_default().into(),
                v("supplier").into(),
                v("contract").into(),
                v("serial_number").into(),
                v("hostname").into(),
                v("asset_tag").into(),
                v("purchased_on").into(),
                v("warranty_until").into(),
                row.lifecycle.unwrap_or(Lifecycle::Deployed).as_str().into(),
                attributes.into(),
                now.into(),
                now.into(),
            ]);
            queued.push(id);
        }
        insert_rows(
            &mut tx,
            "items (tenant_id, id, item_type, name, location_id, owner, supplier_id, contract_id, serial_number, hostname, asset_tag, purchased_on, warranty_until, lifecycle, attributes, created_at, updated_at)",
            17,
            CHUNK,
            values,
        )
        .await
        .map_err(|e| match e {
            StoreError::Database(e) => taken(e),
            e => e,
        })?;
        let done = new_rows.len();
        // Attributes of updated items, read once, so a row's fields merge into them.
        let mut current: HashMap<String, BTreeMap<String, String>> = HashMap::new();
        let needing: Vec<&str> = updates
            .iter()
            .filter(|r| !r.attributes.is_empty())
            .filter_map(|r| r.existing.as_deref())
            .collect();
        for chunk in needing.chunks(CHUNK) {
            let found: Vec<(String, String)> = tx
                .fetch_all(
                    Sql::new("SELECT id, attributes FROM items WHERE ")
                        .push_in("id", chunk.iter().copied()),
                )
                .await?;
            for (id, json) in found {
                current.insert(id, serde_json::from_str(&json).unwrap_or_default());
            }
        }
        // Updates go in multi-row statements too, one shape per set of columns the rows
        // change (the file's columns, so in practice one): drifta-bench's re-import of
        // 100,000 rows took 7-12 s on SQLite and 16-22 s on PostgreSQL with an UPDATE per
        // row, 5-6 s on each this way. An item that two rows name (one by serial number,
        // the other by host name) takes the second row in a later round, so it changes as
        // if the rows went one by one, and is queued for the search index once.
        let mut rounds: Vec<BTreeMap<Vec<&'static str>, Vec<Vec<Arg>>>> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(updates.len());
        for row in &updates {
            let Some(id) = row.existing.as_deref() else {
                continue;
            };
            let round = seen.entry(id).or_insert(0);
            if *round == 0 {
                queued.push(id.to_string());
            }
            if rounds.len() <= *round {
                rounds.push(BTreeMap::new());
            }
            let shape: Vec<&'static str> = row.values.keys().copied().collect();
            let mut args: Vec<Arg> = Vec::with_capacity(shape.len() + 3);
            args.push(id.into());
            for (column, value) in &row.values {
                args.push(match *column {
                    // Never NULL: an empty cell clears them to ''.
                    "owner" | "name" => value.clone().unwrap_or_default().into(),
                    _ => value.clone().into(),
                });
            }
            // NULL keeps the item's own (an empty life-cycle cell, no field values).
            args.push(row.lifecycle.map(|l| l.as_str()).into());
            args.push(if row.attributes.is_empty() {
                Arg::OptText(None)
            } else {
                // Merged into what earlier rows of this file left, as one by one would.
                let merged = current.entry(id.to_string()).or_default();
                merged.extend(row.attributes.clone());
                Arg::OptText(Some(
                    serde_json::to_string(&*merged)
                        .map_err(|e| StoreError::Inconsistent(e.to_string()))?,
                ))
            });
            rounds[*round].entry(shape).or_default().push(args);
            *round += 1;
        }
        let mut written = 0;
        for round in rounds {
            for (shape, rows) in round {
                for chunk in rows.chunks(CHUNK) {
                    progress(done + written, total);
                    let sql = update_sql(&shape, chunk, now, tenant);
                    tx.execute_raw(sql).await.map_err(taken)?;
                    written += chunk.len();
                }
            }
        }
        tx.queue_search_many(tenant, "item", &queued, now).await?;
        // One audit entry per import, holding the file's fingerprint and what it did: the
        // file itself is the record of every row, and 100,000 entries would bury the log.
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(bytes));
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(tenant),
                action: "import",
                object_type: "item_type",
                object_id: item_type.as_str(),
                before: None,
                after: Some(serde_json::json!({
                    "file_sha256": digest,
                    "rows": report.total_rows,
                    "created": report.created,
                    "updated": report.updated,
                    "problems": report.problems.len(),
                    "mode": report.mode,
                })),
            },
        )
        .await?;
        tx.commit().await
    }
}

/// One multi-row update of the items `rows` name: each row is the item's id, a value for
/// each column in `shape` (CSV names, in that order), then its life cycle and its merged
/// attributes, each NULL to keep the item's own.
/// `WITH v (…) AS (VALUES …) UPDATE … FROM v` reads the same on both backends (SQLite has
/// `UPDATE … FROM` since 3.33).
fn update_sql(shape: &[&str], rows: &[Vec<Arg>], now: i64, tenant: &TenantId) -> Sql {
    let columns: Vec<&str> = shape
        .iter()
        .map(|column| match *column {
            "location" => "location_id",
            "supplier" => "supplier_id",
            "contract" => "contract_id",
            other => other,
        })
        .collect();
    let width = columns.len() + 3;
    let mut sql = Sql {
        text: String::with_capacity(rows.len() * width * 6 + 400),
        args: Vec::with_capacity(rows.len() * width + 2),
    };
    sql.text.push_str("WITH v (id");
    for column in &columns {
        sql.text.push_str(", ");
        sql.text.push_str(column);
    }
    sql.text.push_str(", lifecycle, attributes) AS (VALUES ");
    for (r, row) in rows.iter().enumerate() {
        debug_assert_eq!(row.len(), width);
        sql.text.push_str(if r == 0 { "(" } else { ", (" });
        for (c, arg) in row.iter().enumerate() {
            sql.args.push(arg.clone());
            if c > 0 {
                sql.text.push_str(", ");
            }
            sql.text.push_str(&format!("${}", sql.args.len()));
        }
        sql.text.push(')');
    }
    sql = sql.push(") UPDATE items SET updated_at = ").push_arg(now);
    for column in &columns {
        sql.text.push_str(&format!(", {column} = v.{column}"));
    }
    sql.push(
        ", lifecycle = COALESCE(v.lifecycle, items.lifecycle), \
         attributes = COALESCE(v.attributes, items.attributes) \
         FROM v WHERE items.tenant_id = ",
    )
    .push_arg(tenant.as_str())
    .push(" AND items.id = v.id")
}

/// Checks one parsed row against the municipality: names resolve, keys do not collide,
/// attributes fit the type.
fn check_row(
    parsed: &ParsedRow,
    item_type: ItemType,
    lookups: &Lookups,
    seen: &mut HashMap<(&'static str, String), usize>,
) -> Result<ImportRow, ImportProblem> {
    let row = parsed.row;
    let mut values: BTreeMap<&'static str, Option<String>> = BTreeMap::new();
    for column in BASE_COLUMNS {
        if *column == "lifecycle" {
            continue;
        }
        if let Some(cell) = parsed.values.get(*column) {
            values.insert(column, cell_text(cell));
        }
    }
    let resolve = |column: &'static str,
                   map: &HashMap<String, String>,
                   values: &mut BTreeMap<&'static str, Option<String>>|
     -> Result<(), ImportProblem> {
        if let Some(Some(name)) = values.get(column).cloned() {
            match map.get(&name.to_lowercase()) {
                Some(id) => {
                    values.insert(column, Some(id.clone()));
                }
                None => {
                    return Err(problem(
                        row,
                        column,
                        &format!("unknown-{column}"),
                        &format!("no {column} named '{name}' in this municipality"),
                    ));
                }
            }
        }
        Ok(())
    };
    resolve("location", &lookups.locations, &mut values)?;
    resolve("supplier", &lookups.suppliers, &mut values)?;
    resolve("contract", &lookups.contracts, &mut values)?;
    if let Some(Some(host)) = values.get("hostname").cloned() {
        values.insert("hostname", Some(host.to_lowercase()));
    }
    // The first natural key that matches an item names the item this row updates.
    let mut existing: Option<String> = None;
    for column in ["serial_number", "hostname", "asset_tag"] {
        let Some(Some(value)) = values.get(column) else {
            continue;
        };
        let key = (column, value.to_lowercase());
        if let Some(earlier) = seen.insert(key.clone(), row) {
            return Err(problem(
                row,
                column,
                "duplicate-key",
                &format!("row {earlier} has the same {column}"),
            ));
        }
        if let Some(id) = lookups.keys.get(&key) {
            match &existing {
                Some(other) if other != id => {
                    return Err(problem(
                        row,
                        column,
                        "conflicting-keys",
                        "the row's keys belong to two different items",
                    ));
                }
                _ => existing = Some(id.clone()),
            }
        }
    }
    let lifecycle = parsed
        .values
        .get("lifecycle")
        .and_then(cell_text)
        .and_then(|l| Lifecycle::parse(&l));
    let mut attributes = BTreeMap::new();
    for field in all_fields(item_type, &lookups.custom) {
        if let Some(cell) = parsed.values.get(&field.key) {
            attributes.insert(field.key.clone(), cell_text(cell).unwrap_or_default());
        }
    }
    let attributes = validate_attributes(item_type, &lookups.custom, &attributes)
        .map_err(|e| problem(row, e.key(), e.code(), &e.to_string()))?;
    Ok(ImportRow {
        existing,
        lifecycle,
        values,
        attributes,
    })
}
