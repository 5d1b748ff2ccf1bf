//! The inventory under `/api/v1`: items, their relations, impact analysis and ticket links,
//! suppliers, contracts and the fields of each item type.
//!
//! Scoping is the store's: an item outside the token owner's scope answers 404 like one that
//! does not exist, and a requester (who does not read the inventory) gets empty lists.

use super::{ApiJson, ApiUser, Problem, find_ticket, int_param, parse_tenant};
use crate::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use drifta_core::TenantId;
use drifta_core::cmdb::{Disposal, ItemType, Lifecycle, RelationType};
use drifta_core::item_fields::{FieldDef, FieldKind, parse_date, validate_attributes};
use drifta_store::{
    CustomField, ImpactDirection, ImpactView, ItemFilter, ItemInput, NewContract, NewItem,
    NewSupplier, StoreError,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Rows of an item list when the request names no limit, and the most it may ask for.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/items", get(list_items).post(create_item))
        .route("/items/{id}", get(item).put(update_item))
        .route("/items/{id}/lifecycle", post(move_item))
        .route("/items/{id}/relations", get(relations).post(relate))
        .route(
            "/items/{id}/relations/{relation}/{to}",
            axum::routing::delete(unrelate),
        )
        .route("/items/{id}/impact", get(impact))
        .route("/items/{id}/tickets", get(item_tickets))
        .route("/tickets/{number}/items", get(ticket_items).post(link_item))
        .route("/suppliers", get(suppliers).post(create_supplier))
        .route("/contracts", get(contracts).post(create_contract))
        .route("/item-fields", get(item_fields).post(add_item_field))
}

/// A query or body value, with an empty one meaning "not given" (as forms send them).
fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn item_type(field: &str, value: &str) -> Result<ItemType, Problem> {
    ItemType::parse(value.trim()).ok_or_else(|| {
        Problem::field(
            field,
            "item-type-unknown",
            &format!("must be one of {}", codes(ItemType::ALL)),
        )
    })
}

fn lifecycle(field: &str, value: &str) -> Result<Lifecycle, Problem> {
    Lifecycle::parse(value.trim()).ok_or_else(|| {
        Problem::field(
            field,
            "lifecycle-unknown",
            &format!("must be one of {}", codes(Lifecycle::ALL)),
        )
    })
}

fn relation(value: &str) -> Result<RelationType, Problem> {
    RelationType::parse(value.trim()).ok_or_else(|| {
        Problem::field(
            "relation",
            "relation-unknown",
            &format!("must be one of {}", codes(RelationType::ALL)),
        )
    })
}

fn codes<T: Copy + std::fmt::Display>(all: &[T]) -> String {
    all.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn date(field: &str, value: Option<String>) -> Result<Option<String>, Problem> {
    given(value)
        .map(|v| {
            parse_date(&v)
                .map(|d| d.to_string())
                .ok_or_else(|| Problem::field(field, "bad-date", "is not a date (use YYYY-MM-DD)"))
        })
        .transpose()
}

/// A tenant id sent in a body: a problem naming the field when it is missing or malformed.
fn body_tenant(field: &str, value: &str) -> Result<TenantId, Problem> {
    TenantId::parse(value.trim()).map_err(|e| Problem::field(field, "id-invalid", &e.to_string()))
}

/// The store names a few fields as the HTML forms do; the API's bodies name them `…_id`.
fn api_field_names(err: StoreError) -> StoreError {
    match err {
        StoreError::Invalid(mut f) => {
            f.field = match f.field {
                "location" => "location_id",
                "supplier" => "supplier_id",
                "contract" => "contract_id",
                "item" => "item_id",
                other => other,
            };
            StoreError::Invalid(f)
        }
        other => other,
    }
}

#[derive(Deserialize)]
struct ItemsQuery {
    tenant: Option<String>,
    #[serde(rename = "type")]
    item_type: Option<String>,
    lifecycle: Option<String>,
    location: Option<String>,
    supplier: Option<String>,
    warranty_until: Option<String>,
    contract_ends_by: Option<String>,
    q: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// Items the token owner reads, one page at a time; `next_offset` is set while more follow.
async fn list_items(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<ItemsQuery>,
) -> Result<Json<Value>, Problem> {
    let limit = int_param("limit", q.limit.as_deref())?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::field("limit", "out-of-range", "must be 1 to 500"));
    }
    let offset = int_param("offset", q.offset.as_deref())?.unwrap_or(0);
    if offset < 0 {
        return Err(Problem::field(
            "offset",
            "out-of-range",
            "cannot be negative",
        ));
    }
    let filter = ItemFilter {
        tenant: given(q.tenant).as_deref().map(parse_tenant).transpose()?,
        item_type: given(q.item_type)
            .map(|t| item_type("type", &t))
            .transpose()?,
        lifecycle: given(q.lifecycle)
            .map(|l| lifecycle("lifecycle", &l))
            .transpose()?,
        location_id: given(q.location),
        supplier_id: given(q.supplier),
        warranty_until: date("warranty_until", q.warranty_until)?,
        contract_ends_by: date("contract_ends_by", q.contract_ends_by)?,
        text: q.q.unwrap_or_default(),
        // One row more than asked tells whether another page follows.
        limit: limit + 1,
        offset,
    };
    let mut items = state.store.list_items(&api.scope, &filter).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    Ok(Json(json!({
        "items": items,
        "next_offset": more.then_some(offset + limit),
    })))
}

/// The recorded fields of an item, as `PUT /items/{id}` takes them and `POST /items` too.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ItemFields {
    name: Option<String>,
    location_id: Option<String>,
    owner: Option<String>,
    supplier_id: Option<String>,
    contract_id: Option<String>,
    serial_number: Option<String>,
    hostname: Option<String>,
    asset_tag: Option<String>,
    purchased_on: Option<String>,
    warranty_until: Option<String>,
    attributes: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct CreateItemInput {
    tenant_id: String,
    item_type: String,
    lifecycle: Option<String>,
    name: Option<String>,
    location_id: Option<String>,
    owner: Option<String>,
    supplier_id: Option<String>,
    contract_id: Option<String>,
    serial_number: Option<String>,
    hostname: Option<String>,
    asset_tag: Option<String>,
    purchased_on: Option<String>,
    warranty_until: Option<String>,
    attributes: Option<BTreeMap<String, Value>>,
}

impl CreateItemInput {
    fn fields(self) -> ItemFields {
        ItemFields {
            name: self.name,
            location_id: self.location_id,
            owner: self.owner,
            supplier_id: self.supplier_id,
            contract_id: self.contract_id,
            serial_number: self.serial_number,
            hostname: self.hostname,
            asset_tag: self.asset_tag,
            purchased_on: self.purchased_on,
            warranty_until: self.warranty_until,
            attributes: self.attributes,
        }
    }
}

impl ItemFields {
    /// The store's input. Attribute values may be sent as JSON numbers and booleans too;
    /// `null` clears a field like an empty string does.
    fn into_input(self) -> Result<ItemInput, Problem> {
        let mut attributes = BTreeMap::new();
        for (key, value) in self.attributes.unwrap_or_default() {
            let text = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                Value::Array(_) | Value::Object(_) => {
                    return Err(Problem::field(
                        &format!("attributes.{key}"),
                        "bad-value",
                        "must be text, a number or true/false",
                    ));
                }
            };
            attributes.insert(key, text);
        }
        Ok(ItemInput {
            name: self.name.unwrap_or_default(),
            location_id: self.location_id,
            owner: self.owner.unwrap_or_default(),
            supplier_id: self.supplier_id,
            contract_id: self.contract_id,
            serial_number: self.serial_number,
            hostname: self.hostname,
            asset_tag: self.asset_tag,
            purchased_on: self.purchased_on,
            warranty_until: self.warranty_until,
            attributes,
        })
    }
}

/// Turns the store's refusal of the attributes (which names only "attributes") into a
/// problem naming the attribute, by checking them again against the type's fields.
async fn attribute_problem(
    state: &AppState,
    api: &ApiUser,
    tenant: &TenantId,
    item_type: ItemType,
    attributes: &BTreeMap<String, String>,
    err: StoreError,
) -> Problem {
    let StoreError::Invalid(f) = &err else {
        return api_field_names(err).into();
    };
    if f.field != "attributes" {
        return api_field_names(err).into();
    }
    let Ok(fields) = state.store.item_fields(&api.scope, tenant, item_type).await else {
        return err.into();
    };
    match validate_attributes(item_type, &fields, attributes) {
        Err(e) => {
            let key = e.key().to_string();
            let message = e.to_string();
            let message = message
                .strip_prefix(&format!("{key}: "))
                .unwrap_or(&message);
            Problem::field(&format!("attributes.{key}"), e.code(), message)
        }
        Ok(_) => err.into(),
    }
}

async fn create_item(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(body): ApiJson<CreateItemInput>,
) -> Result<Response, Problem> {
    let tenant_id = body_tenant("tenant_id", &body.tenant_id)?;
    let item_type = item_type("item_type", &body.item_type)?;
    let lifecycle = match given(body.lifecycle.clone()) {
        Some(l) => lifecycle("lifecycle", &l)?,
        None => Lifecycle::Deployed,
    };
    let input = body.fields().into_input()?;
    let attributes = input.attributes.clone();
    let new = NewItem {
        tenant_id: tenant_id.clone(),
        item_type,
        lifecycle,
        input,
    };
    match state.store.create_item(&api.scope, new).await {
        Ok(item) => Ok((StatusCode::CREATED, Json(json!(item))).into_response()),
        Err(e) => Err(attribute_problem(&state, &api, &tenant_id, item_type, &attributes, e).await),
    }
}

async fn item(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(json!(state.store.get_item(&api.scope, &id).await?)))
}

/// Replaces the recorded fields: a field left out is cleared, as in the form.
async fn update_item(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ItemFields>,
) -> Result<Json<Value>, Problem> {
    let input = body.into_input()?;
    let attributes = input.attributes.clone();
    match state.store.update_item(&api.scope, &id, input).await {
        Ok(item) => Ok(Json(json!(item))),
        Err(e) => {
            let item = state.store.get_item(&api.scope, &id).await?;
            let s = item.summary;
            Err(attribute_problem(&state, &api, &s.tenant_id, s.item_type, &attributes, e).await)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveInput {
    #[serde(default)]
    lifecycle: String,
    #[serde(default)]
    recycler: Option<String>,
    #[serde(default)]
    certificate: Option<String>,
}

/// Moves an item through its life. A move to `disposed` must name the recycler and the
/// certificate; any other move must name neither.
async fn move_item(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MoveInput>,
) -> Result<Json<Value>, Problem> {
    let next = lifecycle("lifecycle", &body.lifecycle)?;
    let disposal = match (given(body.recycler), given(body.certificate)) {
        (None, None) => None,
        (recycler, certificate) => Some(Disposal {
            recycler: recycler.unwrap_or_default(),
            certificate: certificate.unwrap_or_default(),
        }),
    };
    Ok(Json(json!(
        state
            .store
            .move_item(&api.scope, &id, next, disposal)
            .await?
    )))
}

async fn relations(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.item_relations(&api.scope, &id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RelateInput {
    #[serde(default)]
    relation: String,
    #[serde(default)]
    to: String,
}

/// Records "item `relation` to"; recording it again changes nothing. Answers the item's
/// relations.
async fn relate(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RelateInput>,
) -> Result<Json<Value>, Problem> {
    let relation = relation(&body.relation)?;
    state
        .store
        .relate_items(&api.scope, &id, relation, body.to.trim())
        .await?;
    relations(State(state), api, Path(id)).await
}

async fn unrelate(
    State(state): State<AppState>,
    api: ApiUser,
    Path((id, rel, to)): Path<(String, String, String)>,
) -> Result<Json<Value>, Problem> {
    let relation = relation(&rel)?;
    state
        .store
        .unrelate_items(&api.scope, &id, relation, &to)
        .await?;
    relations(State(state), api, Path(id)).await
}

#[derive(Deserialize)]
struct ImpactQuery {
    direction: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

async fn impact(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
    Query(q): Query<ImpactQuery>,
) -> Result<Json<Value>, Problem> {
    let direction = match given(q.direction).as_deref() {
        None | Some("dependants") => ImpactDirection::Dependants,
        Some("needs") => ImpactDirection::Needs,
        Some(_) => {
            return Err(Problem::field(
                "direction",
                "direction-unknown",
                "must be dependants or needs",
            ));
        }
    };
    // A page of the affected items at a time (a core switch can affect tens of thousands);
    // the counts and lists cover them all, and `next_offset` is set while more follow.
    let limit = int_param("limit", q.limit.as_deref())?.unwrap_or(MAX_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::field("limit", "out-of-range", "must be 1 to 500"));
    }
    let offset = int_param("offset", q.offset.as_deref())?.unwrap_or(0);
    if offset < 0 {
        return Err(Problem::field(
            "offset",
            "out-of-range",
            "cannot be negative",
        ));
    }
    let view = ImpactView {
        offset: offset as usize,
        limit: limit as usize,
        per_depth: 0,
    };
    let report = state
        .store
        .impact_view(&api.scope, &id, direction, view)
        .await?;
    let end = report.offset + report.nodes.len();
    let next_offset = (end < report.total).then_some(end);
    // Paths name only items the token owner can see (the store leaves gaps).
    let mut body = json!(report);
    body["next_offset"] = json!(next_offset);
    Ok(Json(body))
}

async fn item_tickets(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.item_tickets(&api.scope, &id).await? }),
    ))
}

async fn ticket_items(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
) -> Result<Json<Value>, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    Ok(Json(
        json!({ "items": state.store.ticket_items(&api.scope, &t.id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkInput {
    #[serde(default)]
    item_id: String,
}

/// Links a ticket to an item it is about; linking again changes nothing. Answers the
/// ticket's items.
async fn link_item(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<LinkInput>,
) -> Result<Json<Value>, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    state
        .store
        .link_ticket_item(&api.scope, &t.id, body.item_id.trim())
        .await
        .map_err(api_field_names)?;
    Ok(Json(
        json!({ "items": state.store.ticket_items(&api.scope, &t.id).await? }),
    ))
}

async fn suppliers(State(state): State<AppState>, api: ApiUser) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.list_suppliers(&api.scope).await? }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct SupplierInput {
    tenant_id: String,
    name: String,
    org_number: String,
    contact: String,
}

async fn create_supplier(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(body): ApiJson<SupplierInput>,
) -> Result<Response, Problem> {
    let tenant = body_tenant("tenant_id", &body.tenant_id)?;
    let supplier = state
        .store
        .create_supplier(
            &api.scope,
            &tenant,
            NewSupplier {
                name: body.name,
                org_number: body.org_number,
                contact: body.contact,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(supplier))).into_response())
}

async fn contracts(State(state): State<AppState>, api: ApiUser) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.list_contracts(&api.scope).await? }),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ContractInput {
    tenant_id: String,
    supplier_id: String,
    name: String,
    starts_on: Option<String>,
    ends_on: Option<String>,
    notice_months: i64,
    annual_cost: i64,
    currency: String,
}

async fn create_contract(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(body): ApiJson<ContractInput>,
) -> Result<Response, Problem> {
    let tenant = body_tenant("tenant_id", &body.tenant_id)?;
    let contract = state
        .store
        .create_contract(
            &api.scope,
            &tenant,
            NewContract {
                supplier_id: body.supplier_id,
                name: body.name,
                starts_on: body.starts_on,
                ends_on: body.ends_on,
                notice_months: body.notice_months,
                annual_cost: body.annual_cost,
                currency: body.currency,
            },
        )
        .await
        .map_err(api_field_names)?;
    Ok((StatusCode::CREATED, Json(json!(contract))).into_response())
}

fn field_json(item_type: ItemType, def: &FieldDef) -> Value {
    let choices: &[String] = match &def.kind {
        FieldKind::Choice(list) => list,
        _ => &[],
    };
    json!({
        "item_type": item_type,
        "key": def.key,
        "kind": def.kind.code(),
        "choices": choices,
        "label": def.custom_label,
        "built_in": def.custom_label.is_none(),
    })
}

#[derive(Deserialize)]
struct FieldsQuery {
    tenant: Option<String>,
    #[serde(rename = "type")]
    item_type: Option<String>,
}

/// The fields items of a type carry in a municipality: built in, then its provider's own.
/// Without `type`, the fields of every type.
async fn item_fields(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<FieldsQuery>,
) -> Result<Json<Value>, Problem> {
    let Some(tenant) = given(q.tenant) else {
        return Err(Problem::field(
            "tenant",
            "required",
            "name the municipality (or provider) whose fields you want",
        ));
    };
    let tenant = parse_tenant(&tenant)?;
    let types = match given(q.item_type) {
        Some(t) => vec![item_type("type", &t)?],
        None => ItemType::ALL.to_vec(),
    };
    let mut out = Vec::new();
    for t in types {
        let fields = state.store.item_fields(&api.scope, &tenant, t).await?;
        out.extend(fields.iter().map(|def| field_json(t, def)));
    }
    Ok(Json(json!({ "items": out })))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct NewFieldInput {
    provider_id: String,
    item_type: String,
    key: String,
    label: String,
    kind: String,
    choices: String,
}

/// Adds a field to a type for all of a provider's municipalities (its administrators).
async fn add_item_field(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(body): ApiJson<NewFieldInput>,
) -> Result<Response, Problem> {
    let provider = body_tenant("provider_id", &body.provider_id)?;
    let item_type = item_type("item_type", &body.item_type)?;
    if state
        .store
        .get_tenant(&api.scope, &provider)
        .await?
        .parent_id
        .is_some()
    {
        return Err(Problem::field(
            "provider_id",
            "not-a-provider",
            "fields are added for a provider and all its municipalities; name the provider",
        ));
    }
    let field = state
        .store
        .add_custom_field(
            &api.scope,
            &provider,
            CustomField {
                item_type,
                key: body.key,
                label: body.label,
                kind: body.kind.trim().to_string(),
                choices: body.choices,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(field))).into_response())
}
