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
use drifta_core::password::{self, PasswordError};
use drifta_core::{Language, Permission, Role, Scope, TenantId, UserId};
use drifta_store::{ArticleFilter, AuditFilter, NewArticle, NewUser, StoreError, User};
use serde::Deserialize;
use serde_json::{Value, json};

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
        .route("/kb", get(articles).post(create_article))
        .route("/kb/{id}", get(article))
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
