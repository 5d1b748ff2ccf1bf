//! The audit log, for auditors and administrators.

use super::dashboard::html;
use crate::AppState;
use crate::auth::Ctx;
use crate::error::PageError;
use crate::i18n::Tr;
use crate::shell::{Shell, local_time};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use drifta_core::audit::AuditEntry;
use drifta_core::{Permission, TenantId};
use drifta_store::AuditFilter;
use serde::Deserialize;
use serde_json::Value;

pub const OBJECT_TYPES: [&str; 18] = [
    "monitor",
    "maintenance",
    "alert_route",
    "mailbox",
    "priority_matrix",
    "tenant",
    "location",
    "user",
    "api_token",
    "session",
    "ticket",
    "kb_article",
    "desk_settings",
    "team",
    "item",
    "item_type",
    "supplier",
    "contract",
];

pub struct AuditRow {
    time: String,
    actor: String,
    ip: String,
    tenant: String,
    action: String,
    object: String,
    changes: Vec<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPageView {
    tr: Tr,
    shell: Option<Shell>,
    tenants: Vec<(String, String)>,
    object_types: Vec<(String, String)>,
    filter_tenant: String,
    filter_type: String,
    rows: Vec<AuditRow>,
    older: Option<String>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    tenant: Option<String>,
    object_type: Option<String>,
    before: Option<String>,
}

pub(crate) fn action_name(tr: &Tr, action: &str) -> String {
    let key = format!("action-{}", action.replace('_', "-"));
    let text = tr.t(&key);
    if text == key {
        action.to_string()
    } else {
        text
    }
}

pub(crate) fn object_name(tr: &Tr, object_type: &str) -> String {
    let key = format!("object-{}", object_type.replace('_', "-"));
    let text = tr.t(&key);
    if text == key {
        object_type.to_string()
    } else {
        text
    }
}

fn short(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => "∅".to_string(),
        other => other.to_string(),
    };
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

/// What changed between two JSON snapshots, one line per field.
pub(crate) fn describe_change(before: Option<&str>, after: Option<&str>) -> Vec<String> {
    let parse = |s: Option<&str>| s.and_then(|t| serde_json::from_str::<Value>(t).ok());
    match (parse(before), parse(after)) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| b.get(*k) != a.get(*k))
                .map(|k| {
                    format!(
                        "{k}: {} → {}",
                        b.get(k).map(short).unwrap_or_else(|| "∅".into()),
                        a.get(k).map(short).unwrap_or_else(|| "∅".into())
                    )
                })
                .collect()
        }
        (None, Some(Value::Object(a))) => a
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}: {}", short(v)))
            .collect(),
        (b, a) => match (b, a) {
            (None, None) => Vec::new(),
            (b, a) => vec![format!(
                "{} → {}",
                b.as_ref().map(short).unwrap_or_else(|| "∅".into()),
                a.as_ref().map(short).unwrap_or_else(|| "∅".into())
            )],
        },
    }
}

pub async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    if !ctx.scope.can_anywhere(Permission::ReadAudit) {
        return Err(PageError::Forbidden(ctx.tr));
    }
    let tenants = state
        .store
        .list_tenants(&ctx.scope)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let filter_tenant = q
        .tenant
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(TenantId::parse)
        .transpose()
        .map_err(|_| PageError::BadRequest(ctx.tr))?
        .or_else(|| ctx.session.active_tenant.clone());
    let object_type = q.object_type.filter(|t| OBJECT_TYPES.contains(&t.as_str()));
    let before_seq = match q.before.as_deref().filter(|b| !b.is_empty()) {
        Some(b) => Some(
            b.parse::<i64>()
                .map_err(|_| PageError::BadRequest(ctx.tr))?,
        ),
        None => None,
    };
    let filter = AuditFilter {
        tenant: filter_tenant.clone(),
        object_type: object_type.clone(),
        before_seq,
        limit: 50,
    };
    let page = state
        .store
        .list_audit(&ctx.scope, &filter)
        .await
        .map_err(|e| ctx.store_err(e))?;
    let zone = filter_tenant
        .as_ref()
        .and_then(|id| tenants.iter().find(|t| t.id == *id))
        .or_else(|| tenants.first())
        .map_or("UTC".to_string(), |t| t.time_zone.clone());
    let name_of = |id: &Option<TenantId>| {
        id.as_ref()
            .and_then(|id| tenants.iter().find(|t| t.id == *id))
            .map(|t| t.name.clone())
            .unwrap_or_else(|| "—".to_string())
    };
    let rows = page
        .entries
        .iter()
        .map(|e: &AuditEntry| AuditRow {
            time: local_time(e.at, &zone),
            actor: e.actor_name.clone(),
            ip: e.ip.clone(),
            tenant: name_of(&e.tenant_id),
            action: action_name(&ctx.tr, &e.action),
            object: object_name(&ctx.tr, &e.object_type),
            changes: describe_change(e.before.as_deref(), e.after.as_deref()),
        })
        .collect();
    let older = page.next_before_seq.map(|seq| {
        let mut params = vec![("before", seq.to_string())];
        if let Some(t) = &filter_tenant {
            params.push(("tenant", t.to_string()));
        }
        if let Some(o) = &object_type {
            params.push(("object_type", o.clone()));
        }
        format!(
            "/audit?{}",
            serde_urlencoded::to_string(params).unwrap_or_default()
        )
    });
    let view = AuditPageView {
        tr: ctx.tr,
        shell: Some(Shell::build(&state, &ctx, "/audit").await?),
        tenants: tenants
            .iter()
            .filter(|t| ctx.scope.can(&t.id, Permission::ReadAudit))
            .map(|t| (t.id.to_string(), t.name.clone()))
            .collect(),
        object_types: OBJECT_TYPES
            .iter()
            .map(|o| (o.to_string(), object_name(&ctx.tr, o)))
            .collect(),
        filter_tenant: filter_tenant.map(|t| t.to_string()).unwrap_or_default(),
        filter_type: object_type.unwrap_or_default(),
        rows,
        older,
    };
    html(ctx.tr, &view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use drifta_core::Language;

    #[test]
    fn describes_only_changed_fields() {
        let lines = describe_change(
            Some(r#"{"disabled":false,"name":"Kari"}"#),
            Some(r#"{"disabled":true,"name":"Kari"}"#),
        );
        assert_eq!(lines, vec!["disabled: false → true"]);
        assert_eq!(
            describe_change(None, Some(r#"{"a":"x","b":null}"#)),
            vec!["a: x"]
        );
        assert_eq!(describe_change(None, None), Vec::<String>::new());
        assert_eq!(describe_change(Some("[1]"), Some("[2]")), vec!["[1] → [2]"]);
    }

    #[test]
    fn every_audited_action_and_object_has_a_name() {
        let actions = [
            "create",
            "update",
            "disable",
            "enable",
            "grants",
            "password_change",
            "revoke",
            "sign_in",
            "sign_in_failed",
            "sign_in_blocked",
            "sign_out",
            "status",
            "assign",
            "time",
            "reply",
            "note",
            "tag",
            "untag",
            "attach",
            "team",
            "watch",
            "unwatch",
            "add_member",
            "remove_member",
            "publish",
            "unpublish",
            "link",
            "state",
        ];
        // Every action and object type the store writes, read from its source, so a new
        // one cannot reach the audit page without a name.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/src");
        let mut written = Vec::new();
        let mut files = Vec::new();
        let mut dirs = vec![dir];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        for path in files {
            let text = std::fs::read_to_string(path).unwrap();
            for marker in ["action: \"", "object_type: \""] {
                for part in text.split(marker).skip(1) {
                    let word: String = part.chars().take_while(|c| *c != '"').collect();
                    written.push((marker.starts_with("action"), word));
                }
            }
        }
        assert!(
            written.iter().any(|(a, w)| *a && w == "relate"),
            "scan found nothing"
        );
        for (is_action, word) in &written {
            if *is_action {
                for lang in Language::ALL {
                    assert_ne!(
                        action_name(&Tr::new(lang), word),
                        *word,
                        "{lang:?} action {word}"
                    );
                }
            } else {
                assert!(
                    OBJECT_TYPES.contains(&word.as_str()),
                    "object type {word} missing from OBJECT_TYPES"
                );
            }
        }
        for lang in Language::ALL {
            let tr = Tr::new(lang);
            for a in actions {
                assert_ne!(action_name(&tr, a), a, "{lang:?} {a}");
            }
            for o in OBJECT_TYPES {
                assert_ne!(object_name(&tr, o), o, "{lang:?} {o}");
            }
        }
    }
}
