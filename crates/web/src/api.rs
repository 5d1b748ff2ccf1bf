//! The JSON API under `/api/v1`, authenticated with personal API tokens.
//!
//! Errors are RFC 9457 problem documents. Data outside the token owner's scope answers 404,
//! exactly like data that does not exist.

use crate::AppState;
use crate::auth::client_ip;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use drifta_core::LocationId;
use drifta_core::password::{self, PasswordError};
use drifta_core::ticket::{Level, Priority, TicketKind, TicketStatus};
use drifta_core::{Language, Permission, Role, Scope, TenantId, UserId};
use drifta_store::{ArticleFilter, NewArticle};
use drifta_store::{
    AuditFilter, NewTicket, NewUser, QueueFilter, QueueView, StatusFilter, StoreError, Ticket, User,
};
use serde::Deserialize;
use serde_json::{Value, json};

// The inventory's handlers, in their own file beside this one; a child module so they share
// the extractors and problems here.
#[path = "api_alerts.rs"]
mod alerts;
#[path = "api_inventory.rs"]
mod inventory;
#[path = "api_mail.rs"]
mod mail;
#[path = "api_monitors.rs"]
mod monitors;

const OPENAPI: &str = include_str!("../openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/tenants", get(tenants))
        .route("/tenants/{id}", get(tenant))
        .route("/tenants/{id}/locations", get(locations))
        .route("/users", get(users).post(create_user))
        .route("/users/{id}", get(user))
        .route("/audit", get(audit))
        .route("/tickets", get(list_tickets).post(create_ticket))
        .route("/tickets/{number}", get(ticket))
        .route("/tickets/{number}/events", get(ticket_events))
        .route("/tickets/{number}/comments", axum::routing::post(comment))
        .route("/tickets/{number}/status", axum::routing::post(set_status))
        .route("/tickets/{number}/assign", axum::routing::post(assign))
        .route("/tickets/{number}/time", axum::routing::post(add_time))
        .route("/callers", get(callers))
        .route("/tickets/{number}/tags", axum::routing::post(add_tag))
        .route(
            "/tickets/{number}/tags/{tag}",
            axum::routing::delete(remove_tag),
        )
        .route(
            "/tickets/{number}/attachments",
            axum::routing::post(upload).layer(axum::extract::DefaultBodyLimit::max(
                drifta_store::MAX_ATTACHMENT_BYTES + 64 * 1024,
            )),
        )
        .route("/attachments/{id}", get(download))
        .route("/teams", get(teams))
        .route("/reports/time", get(time_report))
        .route("/tickets/bulk", axum::routing::post(bulk))
        .route(
            "/tenants/{id}/desk",
            get(desk_settings).put(save_desk_settings),
        )
        .route("/tickets/{number}/team", axum::routing::post(set_team))
        .route("/tickets/{number}/watch", axum::routing::post(watch))
        .route("/search", get(search))
        .route("/kb", get(articles).post(create_article))
        .route("/kb/{id}", get(article))
        .merge(inventory::routes())
        .merge(monitors::routes())
        .merge(alerts::routes())
        .merge(mail::routes())
        .fallback(no_such_endpoint)
}

/// An RFC 9457 problem document.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    title: &'static str,
    detail: String,
    errors: Vec<Value>,
}

impl Problem {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            title,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    fn not_found() -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "No such object, or it is outside your scope.",
        )
    }

    fn field(field: &str, code: &str, message: &str) -> Problem {
        Problem {
            errors: vec![json!({ "field": field, "code": code, "message": message })],
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid input",
                format!("{field}: {message}"),
            )
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.errors.is_empty() {
            body["errors"] = Value::Array(self.errors);
        }
        let mut res = (self.status, Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Problem {
        match err {
            StoreError::NotFound => Problem::not_found(),
            StoreError::Denied(_) => Problem::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "Your role does not allow this here.",
            ),
            StoreError::Invalid(f) => Problem::field(f.field, f.code, f.message),
            StoreError::Taken { field } => Problem {
                status: StatusCode::CONFLICT,
                ..Problem::field(field, &format!("taken-{field}"), "is already in use")
            },
            other => {
                tracing::error!(error = %other, "API request failed");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "The error has been logged.",
                )
            }
        }
    }
}

impl From<PasswordError> for Problem {
    fn from(err: PasswordError) -> Problem {
        Problem::field("password", err.code(), &err.to_string())
    }
}

/// The owner of the bearer token and their scope.
pub struct ApiUser {
    user: User,
    scope: Scope,
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let unauthorized = || {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "Send a personal API token as 'Authorization: Bearer drifta_…' (create one under Account).",
            )
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(unauthorized)?;
        let user = state
            .store
            .user_for_token(token.trim())
            .await?
            .ok_or_else(unauthorized)?;
        let scope = state
            .store
            .scope_for(&user, &client_ip(parts, state))
            .await?;
        Ok(ApiUser { user, scope })
    }
}

/// A JSON body, with malformed input answered as a problem that says where it broke.
pub struct ApiJson<T>(T);

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<AppState> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Problem> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Body not readable",
                e.to_string(),
            )
        })?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "Malformed JSON", e.to_string()))
    }
}

fn parse_tenant(id: &str) -> Result<TenantId, Problem> {
    TenantId::parse(id).map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "Bad id", e.to_string()))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn no_such_endpoint() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "No such endpoint",
        "See /api/v1/openapi.json for the API.",
    )
}

async fn me(State(state): State<AppState>, api: ApiUser) -> Result<Json<Value>, Problem> {
    let grants: Vec<Value> = state
        .store
        .list_tenants(&api.scope)
        .await?
        .into_iter()
        .map(|t| {
            json!({
                "tenant_id": t.id,
                "tenant_name": t.name,
                "roles": api.scope.roles_in(&t.id).collect::<Vec<Role>>(),
            })
        })
        .collect();
    Ok(Json(json!({
        "id": api.user.id,
        "username": api.user.username,
        "display_name": api.user.display_name,
        "email": api.user.email,
        "language": api.user.language,
        "scope": grants,
    })))
}

async fn tenants(State(state): State<AppState>, api: ApiUser) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.list_tenants(&api.scope).await? }),
    ))
}

async fn tenant(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let id = parse_tenant(&id)?;
    Ok(Json(json!(state.store.get_tenant(&api.scope, &id).await?)))
}

async fn locations(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let id = parse_tenant(&id)?;
    // 404 for a tenant outside the scope rather than an empty list that confirms it exists.
    state.store.get_tenant(&api.scope, &id).await?;
    Ok(Json(
        json!({ "items": state.store.list_locations(&api.scope, Some(&id)).await? }),
    ))
}

#[derive(Deserialize)]
struct UsersQuery {
    tenant: Option<String>,
}

async fn users(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<UsersQuery>,
) -> Result<Json<Value>, Problem> {
    if !api.scope.can_anywhere(Permission::ManageUsers) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Only provider administrators list users.",
        ));
    }
    let tenant = q.tenant.as_deref().map(parse_tenant).transpose()?;
    Ok(Json(
        json!({ "items": state.store.list_users(&api.scope, tenant.as_ref()).await? }),
    ))
}

async fn user(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let id = UserId::parse(&id)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "Bad id", e.to_string()))?;
    let user = state.store.get_user(&api.scope, &id).await?;
    let grants: Vec<Value> = state
        .store
        .grants_of(&api.scope, &id)
        .await?
        .into_iter()
        .map(|(t, r)| json!({ "tenant_id": t, "role": r }))
        .collect();
    let mut body = json!(user);
    body["grants"] = Value::Array(grants);
    Ok(Json(body))
}

#[derive(Deserialize)]
struct GrantInput {
    tenant_id: String,
    role: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUserInput {
    tenant_id: String,
    username: String,
    email: String,
    display_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    grants: Vec<GrantInput>,
}

async fn create_user(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(input): ApiJson<CreateUserInput>,
) -> Result<Response, Problem> {
    let tenant = parse_tenant(&input.tenant_id)?;
    let language = match input.language.as_deref() {
        None | Some("") => None,
        Some(code) => Some(Language::from_code(code).ok_or_else(|| {
            Problem::field("language", "language-unknown", "must be nb, da or en")
        })?),
    };
    let mut grants = Vec::new();
    for g in &input.grants {
        let role = Role::parse(&g.role).ok_or_else(|| {
            Problem::field(
                "grants.role",
                "role-unknown",
                "must be provider_admin, technician, coordinator, requester or auditor",
            )
        })?;
        grants.push((parse_tenant(&g.tenant_id)?, role));
    }
    let password_hash = match &input.password {
        Some(p) => {
            password::check_policy(p, &input.username)?;
            let hasher = state.hasher.clone();
            let p = p.clone();
            Some(
                tokio::task::spawn_blocking(move || hasher.hash(&p))
                    .await
                    .map_err(|e| {
                        Problem::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "Internal error",
                            e.to_string(),
                        )
                    })??,
            )
        }
        None => None,
    };
    let user = state
        .store
        .create_user(
            &api.scope,
            NewUser {
                tenant_id: tenant,
                username: input.username,
                email: input.email,
                display_name: input.display_name,
                phone: input.phone,
                language,
                password_hash,
            },
        )
        .await?;
    if !grants.is_empty() {
        state
            .store
            .set_grants(&api.scope, &user.id, &grants)
            .await?;
    }
    Ok((StatusCode::CREATED, Json(json!(user))).into_response())
}

#[derive(Deserialize)]
struct AuditQuery {
    tenant: Option<String>,
    object_type: Option<String>,
    before: Option<String>,
    limit: Option<String>,
}

fn int_param(name: &str, value: Option<&str>) -> Result<Option<i64>, Problem> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| Problem::field(name, "not-a-number", "must be a whole number"))
        })
        .transpose()
}

async fn audit(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, Problem> {
    let filter = AuditFilter {
        tenant: q.tenant.as_deref().map(parse_tenant).transpose()?,
        object_type: q.object_type,
        before_seq: int_param("before", q.before.as_deref())?,
        limit: int_param("limit", q.limit.as_deref())?.unwrap_or(100),
    };
    let page = state.store.list_audit(&api.scope, &filter).await?;
    Ok(Json(
        json!({ "items": page.entries, "next_before": page.next_before_seq }),
    ))
}

async fn find_ticket(state: &AppState, api: &ApiUser, number: &str) -> Result<Ticket, Problem> {
    let n: i64 = number.parse().map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "Bad ticket number",
            "Ticket numbers are whole numbers such as 1042.",
        )
    })?;
    Ok(state.store.ticket_by_number(&api.scope, n).await?)
}

#[derive(Deserialize)]
struct TicketsQuery {
    tag: Option<String>,
    view: Option<String>,
    status: Option<String>,
    tenant: Option<String>,
    requester: Option<String>,
    priority: Option<String>,
    limit: Option<String>,
}

async fn list_tickets(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<TicketsQuery>,
) -> Result<Json<Value>, Problem> {
    let view = match q.view.as_deref() {
        None | Some("all") => QueueView::All,
        Some("mine") => QueueView::Mine,
        Some("unassigned") => QueueView::Unassigned,
        Some("team") => QueueView::MyTeams,
        Some(_) => {
            return Err(Problem::field(
                "view",
                "view-unknown",
                "must be all, mine, team or unassigned",
            ));
        }
    };
    let status = match q.status.as_deref() {
        None | Some("active") => StatusFilter::Active,
        Some("done") => StatusFilter::Done,
        Some("any") => StatusFilter::Any,
        Some(other) => match TicketStatus::parse(other) {
            Some(s) => StatusFilter::Only(s),
            None => {
                return Err(Problem::field(
                    "status",
                    "status-filter-unknown",
                    "must be active, done, any or one status (new, open, waiting_requester, waiting_supplier, resolved, closed)",
                ));
            }
        },
    };
    let priority = match q.priority.as_deref() {
        None | Some("") => None,
        Some(p) => Some(Priority::parse(&p.to_lowercase()).ok_or_else(|| {
            Problem::field("priority", "priority-unknown", "must be p1, p2, p3 or p4")
        })?),
    };
    let requester = q
        .requester
        .as_deref()
        .map(|r| {
            UserId::parse(r)
                .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "Bad id", e.to_string()))
        })
        .transpose()?;
    let filter = QueueFilter {
        view,
        status,
        tenant: q.tenant.as_deref().map(parse_tenant).transpose()?,
        requester,
        tag: q.tag.filter(|t| !t.is_empty()),
        priority,
        limit: int_param("limit", q.limit.as_deref())?.unwrap_or(100),
    };
    Ok(Json(
        json!({ "items": state.store.list_tickets(&api.scope, &filter).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTicketInput {
    tenant_id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    impact: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    requester_id: Option<String>,
    #[serde(default)]
    location_id: Option<String>,
    #[serde(default)]
    category: String,
}

fn level(field: &str, value: Option<&str>) -> Result<Level, Problem> {
    match value {
        None => Ok(Level::Medium),
        Some(v) => Level::parse(v)
            .ok_or_else(|| Problem::field(field, "level-unknown", "must be high, medium or low")),
    }
}

async fn create_ticket(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(input): ApiJson<CreateTicketInput>,
) -> Result<Response, Problem> {
    let kind = match input.kind.as_deref() {
        None => TicketKind::Incident,
        Some(k) => TicketKind::parse(k).ok_or_else(|| {
            Problem::field(
                "kind",
                "kind-unknown",
                "must be incident or service_request",
            )
        })?,
    };
    let requester_id = match input.requester_id.as_deref() {
        Some(r) => Some(
            UserId::parse(r)
                .map_err(|e| Problem::field("requester_id", "id-invalid", &e.to_string()))?,
        ),
        // A requester filing through the API files for themselves.
        None if !api.scope.can_anywhere(Permission::Operate) => Some(api.user.id.clone()),
        None => None,
    };
    let location_id = input
        .location_id
        .as_deref()
        .map(|l| {
            LocationId::parse(l)
                .map_err(|e| Problem::field("location_id", "id-invalid", &e.to_string()))
        })
        .transpose()?;
    let ticket = state
        .store
        .create_ticket(
            &api.scope,
            NewTicket {
                tenant_id: parse_tenant(&input.tenant_id)?,
                kind,
                title: input.title,
                description: input.description,
                requester_id,
                location_id,
                category: input.category,
                impact: level("impact", input.impact.as_deref())?,
                urgency: level("urgency", input.urgency.as_deref())?,
                channel: "api".into(),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(ticket))).into_response())
}

async fn ticket(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(json!(find_ticket(&state, &api, &number).await?)))
}

async fn ticket_events(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
) -> Result<Json<Value>, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    Ok(Json(
        json!({ "items": state.store.ticket_events(&api.scope, &t).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentInput {
    body: String,
    #[serde(default)]
    internal: bool,
}

async fn comment(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<CommentInput>,
) -> Result<Json<Value>, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    Ok(Json(json!(
        state
            .store
            .add_comment(&api.scope, &t.id, &input.body, !input.internal)
            .await?
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusInput {
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<StatusInput>,
) -> Result<Json<Value>, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    let next = TicketStatus::parse(&input.status).ok_or_else(|| {
        Problem::field(
            "status",
            "status-unknown",
            "must be new, open, waiting_requester, waiting_supplier, resolved or closed",
        )
    })?;
    Ok(Json(json!(
        state.store.set_status(&api.scope, &t.id, next).await?
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignInput {
    assignee_id: Option<String>,
}

async fn assign(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<AssignInput>,
) -> Result<Json<Value>, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    let assignee = input
        .assignee_id
        .as_deref()
        .map(|a| {
            UserId::parse(a)
                .map_err(|e| Problem::field("assignee_id", "id-invalid", &e.to_string()))
        })
        .transpose()?;
    Ok(Json(json!(
        state
            .store
            .assign_ticket(&api.scope, &t.id, assignee.as_ref())
            .await?
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeInput {
    minutes: i64,
    #[serde(default = "yes")]
    billable: bool,
    #[serde(default)]
    note: String,
}

fn yes() -> bool {
    true
}

async fn add_time(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<TimeInput>,
) -> Result<Response, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    state
        .store
        .add_time(
            &api.scope,
            &t.id,
            input.minutes,
            input.billable,
            &input.note,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct CallersQuery {
    #[serde(default)]
    q: String,
}

async fn callers(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<CallersQuery>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.search_callers(&api.scope, &q.q, 20).await? }),
    ))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Value>, Problem> {
    let limit = int_param("limit", q.limit.as_deref())?.unwrap_or(50);
    Ok(Json(
        json!({ "items": state.store.search_tickets(&api.scope, &q.q, limit).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagInput {
    tag: String,
}

async fn add_tag(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<TagInput>,
) -> Result<Json<Value>, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    state.store.add_tag(&api.scope, &t.id, &input.tag).await?;
    Ok(Json(json!(
        state.store.get_ticket(&api.scope, &t.id).await?
    )))
}

async fn remove_tag(
    State(state): State<AppState>,
    api: ApiUser,
    Path((number, tag)): Path<(String, String)>,
) -> Result<Json<Value>, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    state.store.remove_tag(&api.scope, &t.id, &tag).await?;
    Ok(Json(json!(
        state.store.get_ticket(&api.scope, &t.id).await?
    )))
}

#[derive(Deserialize)]
struct UploadQuery {
    filename: Option<String>,
}

/// The request body is the file itself; its type is judged from the bytes.
async fn upload(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
    Query(q): Query<UploadQuery>,
    body: Bytes,
) -> Result<Response, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    let filename = q.filename.unwrap_or_else(|| "vedlegg".into());
    let a = state
        .store
        .add_attachment(&api.scope, &t.id, &filename, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(a))).into_response())
}

async fn download(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (a, bytes) = state.store.get_attachment(&api.scope, &id).await?;
    Ok(crate::pages::attachment_response(&a, bytes))
}

#[derive(Deserialize)]
struct ArticlesQuery {
    tenant: Option<String>,
    q: Option<String>,
    published: Option<String>,
    limit: Option<String>,
}

/// Knowledge-base articles the token owner may read; drafts only where they are staff.
async fn articles(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<ArticlesQuery>,
) -> Result<Json<Value>, Problem> {
    let published_only = match q.published.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(Problem::field(
                "published",
                "not-a-boolean",
                "must be true or false",
            ));
        }
    };
    let filter = ArticleFilter {
        tenant: q.tenant.as_deref().map(parse_tenant).transpose()?,
        published_only,
        text: q.q.unwrap_or_default(),
        limit: int_param("limit", q.limit.as_deref())?.unwrap_or(100),
    };
    Ok(Json(
        json!({ "items": state.store.list_articles(&api.scope, &filter).await? }),
    ))
}

async fn article(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    Ok(Json(json!(state.store.get_article(&api.scope, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateArticleInput {
    tenant_id: String,
    title: String,
    #[serde(default)]
    body_markdown: String,
    #[serde(default)]
    published: bool,
}

async fn create_article(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(input): ApiJson<CreateArticleInput>,
) -> Result<Response, Problem> {
    let article = state
        .store
        .create_article(
            &api.scope,
            NewArticle {
                tenant_id: parse_tenant(&input.tenant_id)?,
                title: input.title,
                body_markdown: input.body_markdown,
                published: input.published,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(article))).into_response())
}

async fn teams(State(state): State<AppState>, api: ApiUser) -> Result<Json<Value>, Problem> {
    Ok(Json(
        json!({ "items": state.store.list_teams(&api.scope).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamInput {
    team_id: Option<String>,
}

async fn set_team(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<TeamInput>,
) -> Result<Json<Value>, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    state
        .store
        .set_ticket_team(&api.scope, &t.id, input.team_id.as_deref())
        .await?;
    Ok(Json(json!(
        state.store.get_ticket(&api.scope, &t.id).await?
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchInput {
    watch: bool,
}

async fn watch(
    State(state): State<AppState>,
    api: ApiUser,
    Path(number): Path<String>,
    ApiJson(input): ApiJson<WatchInput>,
) -> Result<Response, Problem> {
    let t = find_ticket(&state, &api, &number).await?;
    state
        .store
        .watch_ticket(&api.scope, &t.id, input.watch)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct TimeReportQuery {
    tenant: Option<String>,
    month: Option<String>,
}

/// Time spent in one municipality in one calendar month (in its time zone).
async fn time_report(
    State(state): State<AppState>,
    api: ApiUser,
    Query(q): Query<TimeReportQuery>,
) -> Result<Json<Value>, Problem> {
    let tenant_id = parse_tenant(q.tenant.as_deref().unwrap_or_default())?;
    let tenant = state.store.get_tenant(&api.scope, &tenant_id).await?;
    let month = q.month.unwrap_or_default();
    let bad_month = || Problem::field("month", "month-invalid", "must be a month like 2026-11");
    let first: jiff::civil::Date = format!("{month}-01").parse().map_err(|_| bad_month())?;
    let next = first
        .checked_add(jiff::Span::new().months(1))
        .map_err(|_| bad_month())?;
    let tz = jiff::tz::TimeZone::get(&tenant.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let ms = |d: jiff::civil::Date| {
        d.to_zoned(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|_| bad_month())
    };
    let entries = state
        .store
        .time_entries(&api.scope, &tenant_id, ms(first)?, ms(next)?)
        .await?;
    let total: i64 = entries.iter().map(|e| e.minutes).sum();
    let billable: i64 = entries
        .iter()
        .filter(|e| e.billable)
        .map(|e| e.minutes)
        .sum();
    Ok(Json(json!({
        "tenant_id": tenant_id,
        "month": month,
        "total_minutes": total,
        "billable_minutes": billable,
        "items": entries,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkInput {
    numbers: Vec<i64>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    assign_to_me: bool,
    #[serde(default)]
    unassign: bool,
    #[serde(default)]
    tag: Option<String>,
}

/// Applies one change to many tickets; each goes through the same rules as alone, and the
/// answer says which were refused and why.
async fn bulk(
    State(state): State<AppState>,
    api: ApiUser,
    ApiJson(input): ApiJson<BulkInput>,
) -> Result<Json<Value>, Problem> {
    let status = input
        .status
        .as_deref()
        .map(|s| {
            TicketStatus::parse(s)
                .ok_or_else(|| Problem::field("status", "status-unknown", "is not a ticket status"))
        })
        .transpose()?;
    if input.numbers.len() > 500 {
        return Err(Problem::field(
            "numbers",
            "too-many",
            "at most 500 tickets at a time",
        ));
    }
    let mut changed = Vec::new();
    let mut refused = Vec::new();
    for n in input.numbers {
        let result = async {
            let t = state.store.ticket_by_number(&api.scope, n).await?;
            if let Some(s) = status {
                state.store.set_status(&api.scope, &t.id, s).await?;
            }
            if input.assign_to_me {
                state
                    .store
                    .assign_ticket(&api.scope, &t.id, Some(&api.user.id))
                    .await?;
            }
            if input.unassign {
                state.store.assign_ticket(&api.scope, &t.id, None).await?;
            }
            if let Some(tag) = &input.tag {
                state.store.add_tag(&api.scope, &t.id, tag).await?;
            }
            Ok::<(), StoreError>(())
        }
        .await;
        match result {
            Ok(()) => changed.push(n),
            Err(e) => refused.push(json!({ "number": n, "reason": e.to_string() })),
        }
    }
    Ok(Json(json!({ "changed": changed, "refused": refused })))
}

async fn desk_settings(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let tenant = parse_tenant(&id)?;
    let (settings, targets) = state.store.desk_settings(&api.scope, &tenant).await?;
    let sla: Vec<Value> = targets
        .iter()
        .map(|(p, a, b)| json!({ "priority": p, "first_response_minutes": a, "resolution_minutes": b }))
        .collect();
    Ok(Json(json!({ "settings": settings, "sla": sla })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlaInput {
    priority: String,
    first_response_minutes: Option<i64>,
    resolution_minutes: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeskInput {
    settings: drifta_core::desk::DeskSettings,
    sla: Vec<SlaInput>,
}

async fn save_desk_settings(
    State(state): State<AppState>,
    api: ApiUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DeskInput>,
) -> Result<Json<Value>, Problem> {
    let tenant = parse_tenant(&id)?;
    let t = state.store.get_tenant(&api.scope, &tenant).await?;
    if let Err(e) = input.settings.calendar(t.country, &t.time_zone) {
        return Err(Problem::field(
            e.field,
            e.code,
            &format!("line {}: {}", e.line, e.message),
        ));
    }
    let mut targets = Vec::new();
    for s in &input.sla {
        let p = Priority::parse(&s.priority.to_lowercase()).ok_or_else(|| {
            Problem::field(
                "sla.priority",
                "priority-unknown",
                "must be p1, p2, p3 or p4",
            )
        })?;
        targets.push((p, s.first_response_minutes, s.resolution_minutes));
    }
    state
        .store
        .save_desk_settings(&api.scope, &tenant, &input.settings, &targets)
        .await?;
    desk_settings(State(state), api, Path(id)).await
}
