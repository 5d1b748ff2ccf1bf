//! A provider's own item fields: added per type without a new release, then shown on every
//! form, import and API call for that type in all the provider's municipalities.

use super::admin_users::form_errors;
use super::dashboard::html;
use super::inventory::{field_label, type_name};
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::forms::CsrfForm;
use crate::i18n::Tr;
use crate::shell::Shell;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use drifta_core::cmdb::ItemType;
use drifta_core::item_fields::builtin_fields;
use drifta_core::{Permission, TenantId, TenantKind};
use drifta_store::CustomField;
use serde::Deserialize;
use std::collections::BTreeMap;

pub struct TypeRow {
    name: String,
    builtin: String,
    custom: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "item_fields.html")]
struct FieldsPage {
    tr: Tr,
    shell: Option<Shell>,
    csrf: String,
    rows: Vec<TypeRow>,
    types: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    can_add: bool,
    errors: BTreeMap<String, String>,
}

/// The provider whose fields the person manages: the first provider they read.
async fn provider(state: &AppState, ctx: &Ctx) -> Result<TenantId, PageError> {
    state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?
        .into_iter()
        .find(|t| t.kind == TenantKind::Provider && ctx.scope.can(&t.id, Permission::ReadAll))
        .map(|t| t.id)
        .ok_or(PageError::Forbidden(ctx.tr))
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let provider = provider(state, ctx).await?;
    let custom = state
        .store
        .custom_fields(&ctx.scope, &provider)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let tr = &ctx.tr;
    let rows = ItemType::ALL
        .iter()
        .map(|t| TypeRow {
            name: type_name(tr, *t),
            builtin: builtin_fields(*t)
                .iter()
                .map(|f| field_label(tr, f))
                .collect::<Vec<_>>()
                .join(", "),
            custom: custom
                .iter()
                .filter(|c| c.item_type == *t)
                .map(|c| {
                    (
                        c.label.clone(),
                        c.key.clone(),
                        tr.t(&format!("field-kind-{}", c.kind)),
                    )
                })
                .collect(),
        })
        .collect();
    let page = FieldsPage {
        tr: ctx.tr,
        shell: Some(Shell::build(state, ctx, "/inventory/fields").await?),
        csrf: ctx.session.csrf_token.clone(),
        rows,
        types: ItemType::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), type_name(tr, *t)))
            .collect(),
        kinds: ["text", "integer", "date", "bool", "choice"]
            .iter()
            .map(|k| (k.to_string(), tr.t(&format!("field-kind-{k}"))))
            .collect(),
        can_add: ctx.scope.can(&provider, Permission::ManageTenants),
        errors,
    };
    let mut res = html(ctx.tr, &page)?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    page(&state, &ctx, BTreeMap::new(), StatusCode::OK).await
}

#[derive(Deserialize, Default)]
pub struct FieldForm {
    #[serde(default, rename = "type")]
    item_type: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    choices: String,
}

pub async fn add(
    State(state): State<AppState>,
    CsrfForm(ctx, form): CsrfForm<FieldForm>,
) -> Result<Response, PageError> {
    let provider = provider(&state, &ctx).await?;
    let item_type = ItemType::parse(&form.item_type).ok_or(PageError::BadRequest(ctx.tr))?;
    let field = CustomField {
        item_type,
        key: form.key,
        label: form.label,
        kind: form.kind,
        choices: form.choices,
    };
    match state
        .store
        .add_custom_field(&ctx.scope, &provider, field)
        .await
    {
        Ok(_) => Ok(Redirect::to("/inventory/fields").into_response()),
        Err(e) => {
            let (field, message) = form_errors(&ctx.tr, e).map_err(|e| ctx.store_err(e))?;
            let errors = BTreeMap::from([(field, message)]);
            page(&state, &ctx, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
