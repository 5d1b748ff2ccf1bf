//! The inventory pages: the list with filters and CSV export, an item with its fields,
//! relations, tickets and life cycle, impact analysis as a list and a diagram, and the
//! suppliers and contracts that items point to.

use super::admin_users::form_errors;
use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::cmdb::{Disposal, Effect, ItemType, Lifecycle, RelationType};
use drifta_core::impact_svg::{DiagramEdge, DiagramNode, DiagramOptions, NodeState};
use drifta_core::item_fields::FieldDef;
use drifta_core::{Permission, TenantId};
use drifta_store::{
    ImpactDirection, ImpactReport, ImpactView, Item, ItemFilter, ItemInput, ItemSummary,
    NewContract, NewItem, NewSupplier, StoreError,
};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Rows per list page; the CSV export takes every row that matches.
const PAGE_SIZE: i64 = 50;
const EXPORT_LIMIT: i64 = 100_000;
/// Rows per page of an impact list (a core switch can affect 20,000 items: the page names
/// the nearest, counts the rest, and the CSV export names them all), and boxes per column
/// of its diagram.
const IMPACT_PAGE_SIZE: usize = 100;
const IMPACT_PER_COLUMN: usize = 12;

pub(crate) fn type_name(tr: &Tr, t: ItemType) -> String {
    tr.t(&format!("item-type-{}", t.as_str().replace('_', "-")))
}

pub(crate) fn lifecycle_name(tr: &Tr, l: Lifecycle) -> String {
    tr.t(&format!("lifecycle-{}", l.as_str().replace('_', "-")))
}

pub(crate) fn relation_name(tr: &Tr, r: RelationType, outgoing: bool) -> String {
    let dir = if outgoing { "out" } else { "in" };
    tr.t(&format!("relation-{}-{dir}", r.as_str().replace('_', "-")))
}

/// A field's label: a provider's own label, or the catalogue's for a built-in field.
pub(crate) fn field_label(tr: &Tr, def: &FieldDef) -> String {
    match &def.custom_label {
        Some(label) => label.clone(),
        None => tr.t(&format!("field-{}", def.key.replace('_', "-"))),
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    item_type: String,
    #[serde(default)]
    lifecycle: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    supplier: String,
    /// Days ahead: warranties ending within them (or already ended).
    #[serde(default)]
    warranty_days: String,
    /// Days ahead: contracts ending within them.
    #[serde(default)]
    contract_days: String,
    #[serde(default)]
    page: Option<i64>,
}

impl ListQuery {
    fn query_string(&self) -> String {
        serde_urlencoded::to_string([
            ("q", self.q.as_str()),
            ("type", self.item_type.as_str()),
            ("lifecycle", self.lifecycle.as_str()),
            ("location", self.location.as_str()),
            ("supplier", self.supplier.as_str()),
            ("warranty_days", self.warranty_days.as_str()),
            ("contract_days", self.contract_days.as_str()),
        ])
        .unwrap_or_default()
    }
}

pub struct ItemRow {
    id: String,
    name: String,
    kind: String,
    tenant: String,
    location: String,
    lifecycle: String,
    lifecycle_code: &'static str,
    keys: String,
    warranty: String,
    supplier: String,
}

fn item_row(tr: &Tr, s: &ItemSummary) -> ItemRow {
    let keys = [&s.hostname, &s.serial_number, &s.asset_tag]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" · ");
    ItemRow {
        id: s.id.clone(),
        name: s.name.clone(),
        kind: type_name(tr, s.item_type),
        tenant: s.tenant_name.clone(),
        location: s.location_name.clone(),
        lifecycle: lifecycle_name(tr, s.lifecycle),
        lifecycle_code: s.lifecycle.as_str(),
        keys,
        warranty: s.warranty_until.clone().unwrap_or_default(),
        supplier: s.supplier_name.clone(),
    }
}

#[derive(Template)]
#[template(path = "inventory.html")]
struct ListPage {
    tr: Tr,
    shell: Option<Shell>,
    q: ListQuery,
    rows: Vec<ItemRow>,
    types: Vec<(String, String)>,
    lifecycles: Vec<(String, String)>,
    locations: Vec<(String, String)>,
    suppliers: Vec<(String, String)>,
    can_write: bool,
    page: i64,
    has_next: bool,
    query: String,
    filter_error: Option<String>,
}

fn today(state: &AppState) -> jiff::civil::Date {
    state.store.now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// Turns the query into a store filter; a malformed value is reported, not ignored.
fn filter_from(state: &AppState, ctx: &Ctx, q: &ListQuery) -> Result<ItemFilter, String> {
    let bad = || ctx.tr.t("inventory-filter-invalid");
    let days = |text: &str| -> Result<Option<String>, String> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let n: i64 = text.trim().parse().map_err(|_| bad())?;
        if !(0..=3650).contains(&n) {
            return Err(bad());
        }
        let date = today(state)
            .checked_add(jiff::Span::new().days(n))
            .map_err(|_| bad())?;
        Ok(Some(date.to_string()))
    };
    Ok(ItemFilter {
        tenant: ctx.session.active_tenant.clone(),
        item_type: match q.item_type.as_str() {
            "" => None,
            t => Some(ItemType::parse(t).ok_or_else(bad)?),
        },
        lifecycle: match q.lifecycle.as_str() {
            "" => None,
            l => Some(Lifecycle::parse(l).ok_or_else(bad)?),
        },
        location_id: (!q.location.is_empty()).then(|| q.location.clone()),
        supplier_id: (!q.supplier.is_empty()).then(|| q.supplier.clone()),
        warranty_until: days(&q.warranty_days)?,
        contract_ends_by: days(&q.contract_days)?,
        text: q.q.clone(),
        limit: PAGE_SIZE + 1,
        offset: (q.page.unwrap_or(1).max(1) - 1) * PAGE_SIZE,
    })
}

fn type_choices(tr: &Tr) -> Vec<(String, String)> {
    ItemType::ALL
        .iter()
        .map(|t| (t.as_str().to_string(), type_name(tr, *t)))
        .collect()
}

fn lifecycle_choices(tr: &Tr) -> Vec<(String, String)> {
    Lifecycle::ALL
        .iter()
        .map(|l| (l.as_str().to_string(), lifecycle_name(tr, *l)))
        .collect()
}

async fn supplier_choices(state: &AppState, ctx: &Ctx) -> Result<Vec<(String, String)>, PageError> {
    Ok(state
        .store
        .list_suppliers(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

async fn location_choices(
    state: &AppState,
    ctx: &Ctx,
    tenant: Option<&TenantId>,
) -> Result<Vec<(String, String)>, PageError> {
    Ok(state
        .store
        .list_locations(&ctx.scope, tenant)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|l| (l.id.to_string(), l.name))
        .collect())
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::ReadAll) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let (items, filter_error) = match filter_from(&state, &ctx, &q) {
        Ok(filter) => (
            state
                .store
                .list_items(&ctx.scope, &filter)
                .await
                .map_err(|e| ctx.store_err(e))?,
            None,
        ),
        Err(message) => (Vec::new(), Some(message)),
    };
    let has_next = items.len() as i64 > PAGE_SIZE;
    let rows = items
        .iter()
        .take(PAGE_SIZE as usize)
        .map(|s| item_row(&ctx.tr, s))
        .collect();
    let page = ListPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/inventory").await?),
        rows,
        types: type_choices(&ctx.tr),
        lifecycles: lifecycle_choices(&ctx.tr),
        locations: location_choices(&state, &ctx, ctx.session.active_tenant.as_ref()).await?,
        suppliers: supplier_choices(&state, &ctx).await?,
        can_write: ctx.scope.can_anywhere(Permission::Operate),
        page: q.page.unwrap_or(1).max(1),
        has_next,
        query: q.query_string(),
        filter_error,
        q,
    };
    html(ctx.tr, &page)
}

/// Every row matching the list's filters, as CSV for a spreadsheet.
pub async fn export_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let mut filter = filter_from(&state, &ctx, &q).map_err(|_| PageError::BadRequest(ctx.tr))?;
    filter.limit = EXPORT_LIMIT;
    filter.offset = 0;
    let items = state
        .store
        .list_items(&ctx.scope, &filter)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let tr = &ctx.tr;
    let headers: Vec<String> = [
        "column-municipality",
        "inventory-type",
        "column-name",
        "inventory-location",
        "inventory-owner",
        "inventory-lifecycle",
        "inventory-serial-number",
        "inventory-hostname",
        "inventory-asset-tag",
        "inventory-warranty-until",
        "inventory-supplier",
    ]
    .iter()
    .map(|k| tr.t(k))
    .collect();
    let rows = items.iter().map(|s| {
        vec![
            s.tenant_name.clone(),
            type_name(tr, s.item_type),
            s.name.clone(),
            s.location_name.clone(),
            s.owner.clone(),
            lifecycle_name(tr, s.lifecycle),
            s.serial_number.clone().unwrap_or_default(),
            s.hostname.clone().unwrap_or_default(),
            s.asset_tag.clone().unwrap_or_default(),
            s.warranty_until.clone().unwrap_or_default(),
            s.supplier_name.clone(),
        ]
    });
    let body = drifta_core::csv_import::to_csv(&headers, rows);
    Ok(super::csv_download(
        &format!("drifta-inventory-{}.csv", today(&state)),
        body,
    ))
}

/// One editable field of the item form.
pub struct FormField {
    name: String,
    label: String,
    value: String,
    input: &'static str,
    choices: Vec<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "item_form.html")]
struct FormPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    /// `None` for a new item.
    id: Option<String>,
    /// Chosen before the form: (code, name).
    tenant: (String, String),
    item_type: (String, String),
    values: BTreeMap<String, String>,
    locations: Vec<(String, String)>,
    suppliers: Vec<(String, String)>,
    contracts: Vec<(String, String)>,
    lifecycles: Vec<(String, String)>,
    attributes: Vec<FormField>,
    errors: BTreeMap<String, String>,
    form_error: Option<String>,
}

impl FormPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "item_choose.html")]
struct ChoosePage {
    tr: Tr,
    shell: Option<Shell>,
    tenants: Vec<(String, String)>,
    types: Vec<(String, String)>,
    tenant: String,
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    tenant: String,
    #[serde(default, rename = "type")]
    item_type: String,
}

fn attribute_fields(
    tr: &Tr,
    defs: &[FieldDef],
    values: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
) -> Vec<FormField> {
    use drifta_core::item_fields::FieldKind;
    defs.iter()
        .map(|d| {
            let name = format!("attr_{}", d.key);
            let (input, choices) = match &d.kind {
                FieldKind::Text => ("text", Vec::new()),
                FieldKind::Integer => ("number", Vec::new()),
                FieldKind::Date => ("date", Vec::new()),
                FieldKind::Bool => ("bool", Vec::new()),
                FieldKind::Choice(list) => ("choice", list.clone()),
            };
            FormField {
                value: values.get(&name).cloned().unwrap_or_default(),
                error: errors.get(&name).cloned(),
                label: field_label(tr, d),
                name,
                input,
                choices,
            }
        })
        .collect()
}

/// Municipalities where the person may record items.
pub(crate) async fn writable_tenants(
    state: &AppState,
    ctx: &Ctx,
) -> Result<Vec<(String, String)>, PageError> {
    Ok(state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|t| {
            t.kind == drifta_core::TenantKind::Municipality
                && ctx.scope.can(&t.id, Permission::Operate)
        })
        .map(|t| (t.id.to_string(), t.name))
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: Option<String>,
    tenant: (TenantId, String),
    item_type: ItemType,
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let defs = state
        .store
        .item_fields(&ctx.scope, &tenant.0, item_type)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let contracts = state
        .store
        .list_contracts(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|c| (c.id, format!("{} ({})", c.name, c.supplier_name)))
        .collect();
    let form_error = (!errors.is_empty()).then(|| ctx.tr.t("form-has-errors"));
    let path = match &id {
        Some(id) => format!("/inventory/{id}/edit"),
        None => "/inventory/new".to_string(),
    };
    let page = FormPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, &path).await?),
        csrf: ctx.session.csrf_token.clone(),
        id,
        item_type: (
            item_type.as_str().to_string(),
            type_name(&ctx.tr, item_type),
        ),
        locations: location_choices(state, ctx, Some(&tenant.0)).await?,
        tenant: (tenant.0.to_string(), tenant.1),
        suppliers: supplier_choices(state, ctx).await?,
        contracts,
        lifecycles: lifecycle_choices(&ctx.tr)
            .into_iter()
            .filter(|(code, _)| code != "disposed")
            .collect(),
        attributes: attribute_fields(&ctx.tr, &defs, &values, &errors),
        values,
        errors,
        form_error,
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    let tenants = writable_tenants(&state, &ctx).await?;
    if tenants.is_empty() {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let chosen_tenant = tenants.iter().find(|(id, _)| *id == q.tenant).cloned();
    match (chosen_tenant, ItemType::parse(&q.item_type)) {
        (Some((id, name)), Some(item_type)) => {
            let tenant = TenantId::parse(&id).map_err(|_| PageError::BadRequest(ctx.tr))?;
            let values = BTreeMap::from([("lifecycle".to_string(), "deployed".to_string())]);
            form_page(
                &state,
                &ctx,
                None,
                (tenant, name),
                item_type,
                values,
                BTreeMap::new(),
                StatusCode::OK,
            )
            .await
        }
        _ => {
            let tenant = ctx
                .session
                .active_tenant
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default();
            let page = ChoosePage {
                tr: ctx.tr,
                shell: Some(Shell::build(&state, &ctx, "/inventory/new").await?),
                tenants,
                types: type_choices(&ctx.tr),
                tenant,
            };
            html(ctx.tr, &page)
        }
    }
}

/// The item form's fields, read from the posted map (attributes arrive as `attr_<key>`).
fn input_from(values: &BTreeMap<String, String>) -> ItemInput {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let opt = |k: &str| values.get(k).filter(|v| !v.trim().is_empty()).cloned();
    ItemInput {
        name: get("name"),
        location_id: opt("location"),
        owner: get("owner"),
        supplier_id: opt("supplier"),
        contract_id: opt("contract"),
        serial_number: opt("serial_number"),
        hostname: opt("hostname"),
        asset_tag: opt("asset_tag"),
        purchased_on: opt("purchased_on"),
        warranty_until: opt("warranty_until"),
        attributes: values
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("attr_").map(|k| (k.to_string(), v.clone())))
            .collect(),
    }
}

/// Turns a store error into a message beside the right form field.
fn field_errors(tr: &Tr, err: StoreError) -> Result<BTreeMap<String, String>, StoreError> {
    let field_name = |f: &str| match f {
        "supplier_id" => "supplier".to_string(),
        "contract_id" => "contract".to_string(),
        other => other.to_string(),
    };
    let (field, message) = form_errors(tr, err)?;
    Ok(BTreeMap::from([(field_name(&field), message)]))
}

pub async fn create(
    State(state): State<AppState>,
    CsrfForm(ctx, values): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let tenants = writable_tenants(&state, &ctx).await?;
    let tenant_id = values.get("tenant").cloned().unwrap_or_default();
    let Some((_, tenant_name)) = tenants.iter().find(|(id, _)| *id == tenant_id).cloned() else {
        return Err(PageError::BadRequest(ctx.tr));
    };
    let tenant = TenantId::parse(&tenant_id).map_err(|_| PageError::BadRequest(ctx.tr))?;
    let Some(item_type) = values.get("item_type").and_then(|t| ItemType::parse(t)) else {
        return Err(PageError::BadRequest(ctx.tr));
    };
    let lifecycle = values
        .get("lifecycle")
        .and_then(|l| Lifecycle::parse(l))
        .unwrap_or(Lifecycle::Deployed);
    let new = NewItem {
        tenant_id: tenant.clone(),
        item_type,
        lifecycle,
        input: input_from(&values),
    };
    match state.store.create_item(&ctx.scope, new).await {
        Ok(item) => {
            Ok(Redirect::to(&format!("/inventory/{}?created=1", item.summary.id)).into_response())
        }
        Err(e) => {
            let errors =
                attribute_error(&ctx.tr, &state, &ctx, &tenant, item_type, &values, e).await?;
            form_page(
                &state,
                &ctx,
                None,
                (tenant, tenant_name),
                item_type,
                values,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Store errors beside their fields; an attribute error is placed beside the attribute it
/// names, found by validating the attributes again on their own.
async fn attribute_error(
    tr: &Tr,
    state: &AppState,
    ctx: &Ctx,
    tenant: &TenantId,
    item_type: ItemType,
    values: &BTreeMap<String, String>,
    err: StoreError,
) -> Result<BTreeMap<String, String>, PageError> {
    let mut errors = field_errors(tr, err).map_err(|e| ctx.store_err(e))?;
    if errors.contains_key("attributes") {
        let defs = state
            .store
            .item_fields(&ctx.scope, tenant, item_type)
            .await
            .map_err(|e| ctx.store_err(e))?;
        let custom: Vec<FieldDef> = defs
            .into_iter()
            .filter(|d| d.custom_label.is_some())
            .collect();
        if let Err(e) = drifta_core::item_fields::validate_attributes(
            item_type,
            &custom,
            &input_from(values).attributes,
        ) {
            let message = tr.t(&format!("err-{}", e.code()));
            errors.insert(format!("attr_{}", e.key()), message);
        }
    }
    Ok(errors)
}

fn values_of(item: &Item) -> BTreeMap<String, String> {
    let s = &item.summary;
    let mut v = BTreeMap::new();
    let mut put = |k: &str, val: Option<String>| {
        if let Some(val) = val {
            v.insert(k.to_string(), val);
        }
    };
    put("name", Some(s.name.clone()));
    put("owner", Some(s.owner.clone()));
    put("location", s.location_id.clone());
    put("supplier", s.supplier_id.clone());
    put("contract", item.contract_id.clone());
    put("serial_number", s.serial_number.clone());
    put("hostname", s.hostname.clone());
    put("asset_tag", s.asset_tag.clone());
    put("purchased_on", item.purchased_on.clone());
    put("warranty_until", s.warranty_until.clone());
    for (k, val) in &item.attributes {
        v.insert(format!("attr_{k}"), val.clone());
    }
    v
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let item = state
        .store
        .get_item(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    if !ctx.scope.can(&item.summary.tenant_id, Permission::Operate) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let values = values_of(&item);
    form_page(
        &state,
        &ctx,
        Some(id),
        (
            item.summary.tenant_id.clone(),
            item.summary.tenant_name.clone(),
        ),
        item.summary.item_type,
        values,
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, values): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let item = state
        .store
        .get_item(&ctx.scope, &id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    match state
        .store
        .update_item(&ctx.scope, &id, input_from(&values))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/inventory/{id}?saved=1")).into_response()),
        Err(e) => {
            let s = &item.summary;
            let errors =
                attribute_error(&ctx.tr, &state, &ctx, &s.tenant_id, s.item_type, &values, e)
                    .await?;
            form_page(
                &state,
                &ctx,
                Some(id),
                (s.tenant_id.clone(), s.tenant_name.clone()),
                s.item_type,
                values,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub struct RelationRow {
    relation: String,
    relation_code: &'static str,
    outgoing: bool,
    other_id: String,
    other_name: String,
    other_kind: String,
    other_tenant: String,
}

pub struct TicketRow {
    number: i64,
    title: String,
    status: String,
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    item: Item,
    kind: String,
    lifecycle: String,
    /// (label, value) of the type-specific fields that have a value.
    attributes: Vec<(String, String)>,
    relations: Vec<RelationRow>,
    tickets: Vec<TicketRow>,
    can_edit: bool,
    /// Moves allowed from the current state: (code, name).
    moves: Vec<(String, String)>,
    relation_types: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
    /// Items matching an ambiguous relation target, to pick from.
    candidates: Vec<(String, String)>,
    pending_relation: String,
    updated: String,
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    created: Option<String>,
    saved: Option<String>,
}

/// What an item page says besides the item: a notice, an error, and for an ambiguous
/// relation target the candidates and the relation type to keep selected.
#[derive(Default)]
struct PageMessages {
    notice: Option<String>,
    error: Option<String>,
    candidates: Vec<(String, String)>,
    pending_relation: String,
}

impl PageMessages {
    fn error(error: String, pending_relation: String) -> PageMessages {
        PageMessages {
            error: Some(error),
            pending_relation,
            ..PageMessages::default()
        }
    }
}

async fn item_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    messages: PageMessages,
    status: StatusCode,
) -> Result<Response, PageError> {
    let PageMessages {
        notice,
        error,
        candidates,
        pending_relation,
    } = messages;
    let store = &state.store;
    let item = store
        .get_item(&ctx.scope, id)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let s = &item.summary;
    let defs = store
        .item_fields(&ctx.scope, &s.tenant_id, s.item_type)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let attributes = defs
        .iter()
        .filter_map(|d| {
            item.attributes.get(&d.key).map(|v| {
                let value = match d.kind {
                    drifta_core::item_fields::FieldKind::Bool => {
                        ctx.tr.t(if v == "true" { "yes" } else { "no" })
                    }
                    _ => v.clone(),
                };
                (field_label(&ctx.tr, d), value)
            })
        })
        .collect();
    let relations = store
        .item_relations(&ctx.scope, id)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|r| RelationRow {
            relation: relation_name(&ctx.tr, r.relation, r.outgoing),
            relation_code: r.relation.as_str(),
            outgoing: r.outgoing,
            other_kind: type_name(&ctx.tr, r.other.item_type),
            other_tenant: r.other.tenant_name,
            other_id: r.other.id,
            other_name: r.other.name,
        })
        .collect();
    let tickets = store
        .item_tickets(&ctx.scope, id)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|t| TicketRow {
            number: t.number,
            title: t.title,
            status: ctx
                .tr
                .t(&format!("status-{}", t.status.as_str().replace('_', "-"))),
        })
        .collect();
    let can_edit = ctx.scope.can(&s.tenant_id, Permission::Operate);
    let moves = Lifecycle::ALL
        .iter()
        .filter(|l| s.lifecycle.can_move_to(**l))
        .map(|l| (l.as_str().to_string(), lifecycle_name(&ctx.tr, *l)))
        .collect();
    let relation_types = RelationType::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), relation_name(&ctx.tr, *r, true)))
        .collect();
    let zone = store
        .get_tenant(&ctx.scope, &s.tenant_id)
        .await
        .map_err(|e| ctx.store_err(e))?
        .time_zone;
    let page = ItemPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, &format!("/inventory/{id}")).await?),
        csrf: ctx.session.csrf_token.clone(),
        kind: type_name(&ctx.tr, s.item_type),
        lifecycle: lifecycle_name(&ctx.tr, s.lifecycle),
        updated: local_time(s.updated_at, &zone),
        attributes,
        relations,
        tickets,
        can_edit,
        moves,
        relation_types,
        notice,
        error,
        candidates,
        pending_relation,
        item,
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    let notice = if q.created.is_some() {
        Some(ctx.tr.t("inventory-created"))
    } else if q.saved.is_some() {
        Some(ctx.tr.t("inventory-saved"))
    } else {
        None
    };
    item_page(
        &state,
        &ctx,
        &id,
        PageMessages {
            notice,
            ..PageMessages::default()
        },
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct MoveForm {
    #[serde(default)]
    lifecycle: String,
    #[serde(default)]
    recycler: String,
    #[serde(default)]
    certificate: String,
}

pub async fn move_item(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<MoveForm>,
) -> Result<Response, PageError> {
    let Some(next) = Lifecycle::parse(&form.lifecycle) else {
        return Err(PageError::BadRequest(ctx.tr));
    };
    // Both disposal fields left empty is a missing disposal record, said as such.
    let disposal = (next == Lifecycle::Disposed)
        .then(|| Disposal {
            recycler: form.recycler.trim().to_string(),
            certificate: form.certificate.trim().to_string(),
        })
        .filter(|d| !d.recycler.is_empty() || !d.certificate.is_empty());
    match state.store.move_item(&ctx.scope, &id, next, disposal).await {
        Ok(_) => Ok(Redirect::to(&format!("/inventory/{id}?saved=1")).into_response()),
        Err(e) => {
            let (field, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            // "Required" alone does not say which of the two disposal fields is missing.
            let message = if field == "recycler" || field == "certificate" {
                format!(
                    "{} ({})",
                    ctx.tr.t("err-disposal-missing"),
                    ctx.tr.t(&format!("inventory-{field}"))
                )
            } else {
                message
            };
            item_page(
                &state,
                &ctx,
                &id,
                PageMessages::error(message, String::new()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// What typed text names: one item, none, or several to pick from as (id, label).
pub(crate) enum Resolved {
    One(String),
    None,
    Many(Vec<(String, String)>),
}

/// Finds the item a person means by an id (from a pick list), a host name, serial number
/// or asset tag, or words of its name. An exact key match wins over word matches.
pub(crate) async fn resolve_item(
    state: &AppState,
    ctx: &Ctx,
    text: &str,
    exclude: Option<&str>,
) -> Result<Resolved, PageError> {
    let text = text.trim();
    if drifta_core::UserId::parse(text).is_ok() {
        return Ok(Resolved::One(text.to_string()));
    }
    if text.is_empty() {
        return Ok(Resolved::None);
    }
    let found: Vec<ItemSummary> = state
        .store
        .list_items(
            &ctx.scope,
            &ItemFilter {
                text: text.to_string(),
                limit: 20,
                ..ItemFilter::default()
            },
        )
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|i| Some(i.id.as_str()) != exclude)
        .collect();
    let exact: Vec<&ItemSummary> = found
        .iter()
        .filter(|i| {
            [&i.hostname, &i.serial_number, &i.asset_tag]
                .into_iter()
                .flatten()
                .any(|k| k.eq_ignore_ascii_case(text))
        })
        .collect();
    Ok(match (exact.as_slice(), found.as_slice()) {
        ([one], _) => Resolved::One(one.id.clone()),
        ([], [one]) => Resolved::One(one.id.clone()),
        ([], []) => Resolved::None,
        _ => Resolved::Many(
            found
                .iter()
                .map(|i| {
                    (
                        i.id.clone(),
                        format!(
                            "{} ({}, {})",
                            i.name,
                            type_name(&ctx.tr, i.item_type),
                            i.tenant_name
                        ),
                    )
                })
                .collect(),
        ),
    })
}

#[derive(Deserialize, Default)]
pub struct RelateForm {
    #[serde(default)]
    relation: String,
    /// An item id (from a pick list) or words that find exactly one item.
    #[serde(default)]
    to: String,
    /// Set when the relation is removed instead.
    #[serde(default)]
    remove: String,
    /// The direction shown: "in" when the item is the relation's target.
    #[serde(default)]
    direction: String,
}

pub async fn relate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(ctx, form): CsrfForm<RelateForm>,
) -> Result<Response, PageError> {
    let Some(relation) = RelationType::parse(&form.relation) else {
        return Err(PageError::BadRequest(ctx.tr));
    };
    let store = &state.store;
    if !form.remove.is_empty() {
        let (from, to) = if form.direction == "in" {
            (form.to.as_str(), id.as_str())
        } else {
            (id.as_str(), form.to.as_str())
        };
        store
            .unrelate_items(&ctx.scope, from, relation, to)
            .await
            .map_err(|e| ctx.store_err(e))?;
        return Ok(Redirect::to(&format!("/inventory/{id}?saved=1")).into_response());
    }
    let target = match resolve_item(&state, &ctx, &form.to, Some(&id)).await? {
        Resolved::One(target) => target,
        Resolved::None => {
            return item_page(
                &state,
                &ctx,
                &id,
                PageMessages::error(ctx.tr.t("inventory-relation-none-found"), form.relation),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Resolved::Many(candidates) => {
            return item_page(
                &state,
                &ctx,
                &id,
                PageMessages {
                    error: Some(ctx.tr.t("inventory-relation-pick")),
                    candidates,
                    pending_relation: form.relation,
                    ..PageMessages::default()
                },
                StatusCode::OK,
            )
            .await;
        }
    };
    match store.relate_items(&ctx.scope, &id, relation, &target).await {
        Ok(()) => Ok(Redirect::to(&format!("/inventory/{id}?saved=1")).into_response()),
        Err(e) => {
            let (_, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            item_page(
                &state,
                &ctx,
                &id,
                PageMessages::error(message, form.relation),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub struct ImpactRow {
    id: String,
    name: String,
    kind: String,
    tenant: String,
    location: String,
    depth: u32,
    effect: String,
    effect_code: &'static str,
}

#[derive(Template)]
#[template(path = "impact.html")]
struct ImpactPage {
    tr: Tr,
    shell: Option<Shell>,
    origin_id: String,
    origin_name: String,
    needs: bool,
    rows: Vec<ImpactRow>,
    count_text: String,
    hidden_text: Option<String>,
    /// Down and degraded items in all, for the dependants direction.
    effects: Option<(usize, usize)>,
    page: usize,
    has_next: bool,
    /// `direction=…` for the pager's links.
    query: String,
    municipalities: String,
    locations: String,
    services: String,
    /// Server-rendered by [`drifta_core::impact_svg::render`], which escapes every text;
    /// the only value the template marks `|safe`.
    svg: String,
}

#[derive(Deserialize, Default)]
pub struct ImpactQuery {
    #[serde(default)]
    direction: String,
    page: Option<usize>,
}

/// The impact report the query asks for: what depends on the item, or what it needs,
/// naming the items `view` asks for.
async fn load_impact(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    q: &ImpactQuery,
    view: ImpactView,
) -> Result<(ImpactReport, ImpactDirection), PageError> {
    let direction = match q.direction.as_str() {
        "" | "dependants" => ImpactDirection::Dependants,
        "needs" => ImpactDirection::Needs,
        _ => return Err(PageError::BadRequest(ctx.tr)),
    };
    state
        .store
        .impact_view(&ctx.scope, id, direction, view)
        .await
        .map(|report| (report, direction))
        .map_err(|e| ctx.store_err(e))
}

pub async fn impact(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ImpactQuery>,
) -> Result<Response, PageError> {
    let page = q.page.unwrap_or(1).max(1);
    let view = ImpactView {
        offset: (page - 1).saturating_mul(IMPACT_PAGE_SIZE),
        limit: IMPACT_PAGE_SIZE,
        per_depth: IMPACT_PER_COLUMN,
    };
    let (report, direction) = load_impact(&state, &ctx, &id, &q, view).await?;
    let tr = &ctx.tr;
    let effect_of = |e: Option<Effect>| match e {
        Some(Effect::Down) => (tr.t("impact-down"), "down"),
        Some(Effect::Degraded) => (tr.t("impact-degraded"), "degraded"),
        None => (tr.t("impact-needed"), "needed"),
    };
    let rows = report
        .nodes
        .iter()
        .map(|n| {
            let (effect, effect_code) = effect_of(n.effect);
            ImpactRow {
                id: n.item.id.clone(),
                name: n.item.name.clone(),
                kind: type_name(tr, n.item.item_type),
                tenant: n.item.tenant_name.clone(),
                location: n.item.location_name.clone(),
                depth: n.depth,
                effect,
                effect_code,
            }
        })
        .collect();
    let mut nodes = vec![DiagramNode {
        id: report.origin.id.clone(),
        label: report.origin.name.clone(),
        kind: type_name(tr, report.origin.item_type),
        detail: report.origin.tenant_name.clone(),
        depth: 0,
        state: NodeState::Origin,
        href: None,
    }];
    // The diagram draws the first of each column (the store picked them in its order) and
    // counts the rest from the column sizes.
    nodes.extend(report.drawn.iter().map(|n| DiagramNode {
        id: n.item.id.clone(),
        label: n.item.name.clone(),
        kind: type_name(tr, n.item.item_type),
        detail: if n.item.location_name.is_empty() {
            n.item.tenant_name.clone()
        } else {
            format!("{} · {}", n.item.tenant_name, n.item.location_name)
        },
        depth: n.depth,
        state: match n.effect {
            Some(Effect::Down) => NodeState::Down,
            Some(Effect::Degraded) => NodeState::Degraded,
            None => NodeState::Needed,
        },
        href: Some(format!(
            "/inventory/{}/impact?direction={}",
            n.item.id, q.direction
        )),
    }));
    // Arrows point from the failing item towards what it affects (or, for "needs", from
    // the item towards what it needs), so the drawing reads left to right.
    let edges: Vec<DiagramEdge> = report
        .edges
        .iter()
        .map(|e| {
            let (from, to) = match direction {
                ImpactDirection::Dependants => (e.to.clone(), e.from.clone()),
                ImpactDirection::Needs => (e.from.clone(), e.to.clone()),
            };
            DiagramEdge {
                from,
                to,
                label: relation_name(tr, e.relation, true),
            }
        })
        .collect();
    let svg = drifta_core::impact_svg::render(
        &nodes,
        &edges,
        &DiagramOptions {
            title: tr.t_with("impact-diagram-title", &[("name", &report.origin.name)]),
            max_per_column: IMPACT_PER_COLUMN,
            more_label: tr.t_with("impact-more", &[("n", "{n}")]),
            column_sizes: report.columns.iter().map(|c| (c.depth, c.items)).collect(),
            ..DiagramOptions::default()
        },
    );
    let page = ImpactPage {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, &format!("/inventory/{id}/impact")).await?),
        origin_id: report.origin.id.clone(),
        origin_name: report.origin.name.clone(),
        needs: direction == ImpactDirection::Needs,
        count_text: ctx.tr.t_count("impact-count", report.total as i64),
        hidden_text: (report.hidden > 0)
            .then(|| ctx.tr.t_count("impact-hidden", report.hidden as i64)),
        effects: (direction == ImpactDirection::Dependants && report.total > 0)
            .then_some((report.down, report.degraded)),
        page,
        has_next: report.offset + report.nodes.len() < report.total,
        query: match direction {
            ImpactDirection::Dependants => "direction=dependants",
            ImpactDirection::Needs => "direction=needs",
        }
        .to_string(),
        rows,
        municipalities: report.municipalities.join(", "),
        locations: report.locations.join(", "),
        services: report.services.join(", "),
        svg,
    };
    html(ctx.tr, &page)
}

/// The impact list as CSV, for the report to those who decide about redundancy.
pub async fn impact_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ImpactQuery>,
) -> Result<Response, PageError> {
    let (report, _) = load_impact(&state, &ctx, &id, &q, ImpactView::ALL).await?;
    let tr = &ctx.tr;
    let headers: Vec<String> = [
        "column-name",
        "inventory-type",
        "column-municipality",
        "inventory-location",
        "impact-depth",
        "impact-effect",
    ]
    .iter()
    .map(|k| tr.t(k))
    .collect();
    let rows = report.nodes.iter().map(|n| {
        vec![
            n.item.name.clone(),
            type_name(tr, n.item.item_type),
            n.item.tenant_name.clone(),
            n.item.location_name.clone(),
            n.depth.to_string(),
            tr.t(match n.effect {
                Some(Effect::Down) => "impact-down",
                Some(Effect::Degraded) => "impact-degraded",
                None => "impact-needed",
            }),
        ]
    });
    let body = drifta_core::csv_import::to_csv(&headers, rows);
    Ok(super::csv_download(
        &format!("drifta-impact-{id}.csv"),
        body,
    ))
}

/// Suppliers and their contracts as CSV: one row per contract, suppliers without one too.
pub async fn suppliers_csv(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let store = &state.store;
    let suppliers = store
        .list_suppliers(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let contracts = store
        .list_contracts(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let tr = &ctx.tr;
    let headers: Vec<String> = [
        "inventory-supplier",
        "suppliers-org-number",
        "suppliers-contact",
        "suppliers-owner",
        "inventory-contract",
        "contracts-starts",
        "contracts-ends",
        "contracts-notice",
        "contracts-cost",
        "contracts-currency",
        "contracts-items",
    ]
    .iter()
    .map(|k| tr.t(k))
    .collect();
    let mut rows = Vec::new();
    for s in &suppliers {
        let theirs: Vec<_> = contracts.iter().filter(|c| c.supplier_id == s.id).collect();
        let base = vec![
            s.name.clone(),
            s.org_number.clone(),
            s.contact.clone(),
            s.tenant_name.clone(),
        ];
        if theirs.is_empty() {
            let mut row = base.clone();
            row.extend(std::iter::repeat_n(String::new(), 7));
            rows.push(row);
        }
        for c in theirs {
            let mut row = base.clone();
            row.extend([
                c.name.clone(),
                c.starts_on.clone().unwrap_or_default(),
                c.ends_on.clone().unwrap_or_default(),
                c.notice_months.to_string(),
                c.annual_cost.to_string(),
                c.currency.clone(),
                c.item_count.to_string(),
            ]);
            rows.push(row);
        }
    }
    let body = drifta_core::csv_import::to_csv(&headers, rows);
    Ok(super::csv_download("drifta-suppliers.csv", body))
}

pub struct SupplierRow {
    name: String,
    owner: String,
    org_number: String,
    contact: String,
}

pub struct ContractRow {
    name: String,
    supplier: String,
    period: String,
    notice: i64,
    cost: String,
    items: i64,
    ending_soon: bool,
}

#[derive(Template)]
#[template(path = "suppliers.html")]
struct SuppliersPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    suppliers: Vec<SupplierRow>,
    supplier_choices: Vec<(String, String)>,
    contracts: Vec<ContractRow>,
    /// Where the person may record suppliers and contracts: (id, label).
    tenants: Vec<(String, String)>,
    errors: BTreeMap<String, String>,
    notice: Option<String>,
}

async fn suppliers_page(
    state: &AppState,
    ctx: &Ctx,
    errors: BTreeMap<String, String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::ReadAll) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let store = &state.store;
    let suppliers = store
        .list_suppliers(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let soon = today(state)
        .checked_add(jiff::Span::new().days(90))
        .map(|d| d.to_string())
        .unwrap_or_default();
    let contracts = store
        .list_contracts(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .map(|c| ContractRow {
            ending_soon: c.ends_on.as_ref().is_some_and(|e| *e <= soon),
            period: format!(
                "{} – {}",
                c.starts_on.clone().unwrap_or_default(),
                c.ends_on.clone().unwrap_or_default()
            ),
            name: c.name,
            supplier: c.supplier_name,
            notice: c.notice_months,
            cost: format!("{} {}", c.annual_cost, c.currency),
            items: c.item_count,
        })
        .collect();
    let tenants = state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .filter(|t| ctx.scope.can(&t.id, Permission::Operate))
        .map(|t| {
            let label = match t.kind {
                drifta_core::TenantKind::Provider => {
                    ctx.tr.t_with("kb-scope-provider", &[("name", &t.name)])
                }
                drifta_core::TenantKind::Municipality => t.name,
            };
            (t.id.to_string(), label)
        })
        .collect();
    let page = SuppliersPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, "/inventory/suppliers").await?),
        csrf: ctx.session.csrf_token.clone(),
        supplier_choices: suppliers
            .iter()
            .map(|s| (s.id.clone(), s.name.clone()))
            .collect(),
        suppliers: suppliers
            .into_iter()
            .map(|s| SupplierRow {
                name: s.name,
                owner: s.tenant_name,
                org_number: s.org_number,
                contact: s.contact,
            })
            .collect(),
        contracts,
        tenants,
        errors,
        notice,
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn suppliers(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    suppliers_page(&state, &ctx, BTreeMap::new(), None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
pub struct SupplierForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    org_number: String,
    #[serde(default)]
    contact: String,
}

pub async fn create_supplier(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<SupplierForm>,
) -> Result<Response, PageError> {
    let tenant = TenantId::parse(&form.tenant).map_err(|_| PageError::BadRequest(ctx.tr))?;
    let new = NewSupplier {
        name: form.name,
        org_number: form.org_number,
        contact: form.contact,
    };
    match state.store.create_supplier(&ctx.scope, &tenant, new).await {
        Ok(_) => Ok(Redirect::to("/inventory/suppliers").into_response()),
        Err(e) => {
            let (field, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            let errors = BTreeMap::from([(format!("supplier_{field}"), message)]);
            suppliers_page(&state, &ctx, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ContractForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    supplier: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
    #[serde(default)]
    notice_months: String,
    #[serde(default)]
    annual_cost: String,
    #[serde(default)]
    currency: String,
}

pub async fn create_contract(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<ContractForm>,
) -> Result<Response, PageError> {
    let tenant = TenantId::parse(&form.tenant).map_err(|_| PageError::BadRequest(ctx.tr))?;
    let number = |field: &str, text: &str| -> Result<i64, BTreeMap<String, String>> {
        if text.trim().is_empty() {
            return Ok(0);
        }
        text.trim()
            .replace([' ', '\u{a0}'], "")
            .parse()
            .map_err(|_| {
                BTreeMap::from([(format!("contract_{field}"), ctx.tr.t("err-bad-integer"))])
            })
    };
    let parsed = number("notice_months", &form.notice_months)
        .and_then(|n| number("annual_cost", &form.annual_cost).map(|c| (n, c)));
    let (notice_months, annual_cost) = match parsed {
        Ok(v) => v,
        Err(errors) => {
            return suppliers_page(&state, &ctx, errors, None, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let new = NewContract {
        supplier_id: form.supplier.clone(),
        name: form.name.clone(),
        starts_on: opt(&form.starts_on),
        ends_on: opt(&form.ends_on),
        notice_months,
        annual_cost,
        currency: form.currency.clone(),
    };
    match state.store.create_contract(&ctx.scope, &tenant, new).await {
        Ok(_) => Ok(Redirect::to("/inventory/suppliers").into_response()),
        Err(e) => {
            let (field, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            let errors = BTreeMap::from([(format!("contract_{field}"), message)]);
            suppliers_page(&state, &ctx, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drifta_core::Language;
    use drifta_core::item_fields::builtin_fields;

    #[test]
    fn every_type_state_relation_and_field_has_a_name_in_every_language() {
        for lang in Language::ALL {
            let tr = Tr::new(lang);
            for t in ItemType::ALL {
                assert!(
                    !type_name(&tr, *t).starts_with("item-type-"),
                    "{lang:?} {t}"
                );
                for f in builtin_fields(*t) {
                    assert!(
                        !field_label(&tr, &f).starts_with("field-"),
                        "{lang:?} {}",
                        f.key
                    );
                }
            }
            for l in Lifecycle::ALL {
                assert!(
                    !lifecycle_name(&tr, *l).starts_with("lifecycle-"),
                    "{lang:?} {l}"
                );
            }
            for r in RelationType::ALL {
                for outgoing in [true, false] {
                    assert!(
                        !relation_name(&tr, *r, outgoing).starts_with("relation-"),
                        "{lang:?} {r}"
                    );
                }
            }
        }
    }

    #[test]
    fn inventory_error_codes_have_messages_in_every_language() {
        // Codes the store and core raise for inventory input (see inventory.rs, item_fields.rs,
        // cmdb::LifecycleError), shown beside form fields as err-<code>.
        let codes = [
            "bad-date",
            "bad-integer",
            "bad-bool",
            "bad-choice",
            "unknown-field",
            "too-long",
            "control-chars",
            "required",
            "location-other-municipality",
            "supplier-unknown",
            "contract-unknown",
            "field-key",
            "field-kind",
            "lifecycle-transition",
            "disposal-missing",
            "disposal-unexpected",
            "changed-meanwhile",
            "relation-target-unknown",
            "relation-self",
            "relation-disposed",
            "relation-other-provider",
            "relation-cycle",
            "item-unknown",
            "ends-before-start",
            "out-of-range",
            "bad-currency",
            "taken-serial_number",
            "taken-hostname",
            "taken-asset_tag",
            "taken-key",
            "taken-name",
        ];
        for lang in Language::ALL {
            let tr = Tr::new(lang);
            for code in codes {
                let key = format!("err-{code}");
                assert_ne!(tr.t(&key), key, "{lang:?}");
            }
        }
    }
}
