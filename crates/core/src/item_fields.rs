//! Type-specific fields of inventory items: a few built in per type (what every
//! municipality records about a network link or a safety alarm), and any number added by a
//! provider for its own needs without a new release.
//!
//! Values are kept as normalised text in one JSON object per item, so a new field needs no
//! schema change and an import, a form and the API all go through [`validate_attributes`].

use crate::cmdb::ItemType;
use std::collections::BTreeMap;

/// What a field holds, which decides how its text is checked and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Integer,
    /// ISO date, YYYY-MM-DD.
    Date,
    /// Stored as "true" or "false".
    Bool,
    /// One of a fixed list of codes.
    Choice(Vec<String>),
}

impl FieldKind {
    pub fn code(&self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Integer => "integer",
            FieldKind::Date => "date",
            FieldKind::Bool => "bool",
            FieldKind::Choice(_) => "choice",
        }
    }

    /// `choices` is a comma-separated list, used only for `choice`.
    pub fn parse(code: &str, choices: &str) -> Option<FieldKind> {
        Some(match code {
            "text" => FieldKind::Text,
            "integer" => FieldKind::Integer,
            "date" => FieldKind::Date,
            "bool" => FieldKind::Bool,
            "choice" => {
                let list: Vec<String> = choices
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect();
                if list.is_empty() {
                    return None;
                }
                FieldKind::Choice(list)
            }
            _ => return None,
        })
    }
}

/// One field of a type. Built-in fields are labelled through the translation catalogue
/// (`field-<key>`); a provider's own fields carry the label its staff typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub key: String,
    pub kind: FieldKind,
    /// Set for fields a provider added; `None` for built-in ones.
    pub custom_label: Option<String>,
}

impl FieldDef {
    fn builtin(key: &str, kind: FieldKind) -> FieldDef {
        FieldDef {
            key: key.to_string(),
            kind,
            custom_label: None,
        }
    }
}

fn choice(codes: &[&str]) -> FieldKind {
    FieldKind::Choice(codes.iter().map(|c| c.to_string()).collect())
}

/// The fields every item of `item_type` can carry without any configuration.
pub fn builtin_fields(item_type: ItemType) -> Vec<FieldDef> {
    use FieldKind::*;
    use ItemType::*;
    let b = FieldDef::builtin;
    match item_type {
        Workstation | Laptop | Tablet | ThinClient => vec![
            b("model", Text),
            b("operating_system", Text),
            b("mac_address", Text),
        ],
        Phone => vec![b("model", Text), b("phone_number", Text), b("imei", Text)],
        Printer => vec![b("model", Text), b("ip_address", Text)],
        PhysicalServer => vec![
            b("model", Text),
            b("operating_system", Text),
            b("ip_address", Text),
            b("cpu_cores", Integer),
            b("memory_gb", Integer),
        ],
        VirtualMachine => vec![
            b("operating_system", Text),
            b("ip_address", Text),
            b("cpu_cores", Integer),
            b("memory_gb", Integer),
        ],
        HypervisorCluster => vec![
            b(
                "platform",
                choice(&["vmware", "hyper_v", "proxmox", "nutanix", "other"]),
            ),
            b("host_count", Integer),
        ],
        Storage => vec![b("model", Text), b("capacity_tb", Integer)],
        NetworkDevice => vec![
            b("model", Text),
            b(
                "device_role",
                choice(&["router", "switch", "firewall", "access_point", "sdwan_edge"]),
            ),
            b("ip_address", Text),
            b("firmware", Text),
        ],
        // Which link is primary matters on the day the fibre is dug up: the site then runs
        // on its 4G/5G backup, and monitoring reports it as degraded, not down.
        NetworkLink => vec![
            b(
                "medium",
                choice(&["fibre", "sdwan", "4g", "5g", "radio", "copper"]),
            ),
            b("primary", Bool),
            b("bandwidth_mbps", Integer),
            b("circuit_id", Text),
        ],
        // A safety alarm is useless if nobody answers it: the receiving centre is recorded
        // with the device. No resident's name here; that belongs in the care journal.
        WelfareDevice => vec![
            b("model", Text),
            b("receiving_centre", Text),
            b("sim_number", Text),
        ],
        Database => vec![b("engine", Text), b("version", Text)],
        Application => vec![b("version", Text)],
        Service => vec![b("service_hours", Text)],
    }
}

/// Why an attribute was refused. `key` names the field so forms can show the message there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    #[error("{key}: no such field for this type")]
    Unknown { key: String },
    #[error("{key}: '{value}' is not a whole number")]
    NotInteger { key: String, value: String },
    #[error("{key}: '{value}' is not a date (use YYYY-MM-DD)")]
    NotDate { key: String, value: String },
    #[error("{key}: '{value}' is not yes or no")]
    NotBool { key: String, value: String },
    #[error("{key}: '{value}' is not one of {allowed}")]
    NotChoice {
        key: String,
        value: String,
        allowed: String,
    },
    #[error("{key}: at most 500 characters")]
    TooLong { key: String },
}

impl AttributeError {
    pub fn key(&self) -> &str {
        match self {
            AttributeError::Unknown { key }
            | AttributeError::NotInteger { key, .. }
            | AttributeError::NotDate { key, .. }
            | AttributeError::NotBool { key, .. }
            | AttributeError::NotChoice { key, .. }
            | AttributeError::TooLong { key } => key,
        }
    }

    /// A machine code the web shell turns into a sentence in the reader's language.
    pub fn code(&self) -> &'static str {
        match self {
            AttributeError::Unknown { .. } => "unknown-field",
            AttributeError::NotInteger { .. } => "bad-integer",
            AttributeError::NotDate { .. } => "bad-date",
            AttributeError::NotBool { .. } => "bad-bool",
            AttributeError::NotChoice { .. } => "bad-choice",
            AttributeError::TooLong { .. } => "too-long",
        }
    }
}

/// Normalises one value: trimmed, integers without leading zeros, dates as YYYY-MM-DD,
/// booleans as "true"/"false" (accepting ja/nei/nej/yes/no too, as people type them).
pub fn normalise_value(def: &FieldDef, value: &str) -> Result<String, AttributeError> {
    let value = value.trim();
    let key = || def.key.clone();
    if value.chars().count() > 500 {
        return Err(AttributeError::TooLong { key: key() });
    }
    match &def.kind {
        FieldKind::Text => Ok(value.to_string()),
        FieldKind::Integer => {
            value
                .parse::<i64>()
                .map(|n| n.to_string())
                .map_err(|_| AttributeError::NotInteger {
                    key: key(),
                    value: value.to_string(),
                })
        }
        FieldKind::Date => {
            parse_date(value)
                .map(|d| d.to_string())
                .ok_or_else(|| AttributeError::NotDate {
                    key: key(),
                    value: value.to_string(),
                })
        }
        FieldKind::Bool => {
            parse_bool(value)
                .map(|b| b.to_string())
                .ok_or_else(|| AttributeError::NotBool {
                    key: key(),
                    value: value.to_string(),
                })
        }
        FieldKind::Choice(list) => list
            .iter()
            .find(|c| c.eq_ignore_ascii_case(value))
            .cloned()
            .ok_or_else(|| AttributeError::NotChoice {
                key: key(),
                value: value.to_string(),
                allowed: list.join(", "),
            }),
    }
}

/// ISO dates only: forms send them, and imports convert Nordic spellings first.
pub fn parse_date(text: &str) -> Option<jiff::civil::Date> {
    let text = text.trim();
    if text.len() != 10 {
        return None;
    }
    text.parse::<jiff::civil::Date>().ok()
}

pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "ja" | "1" | "x" | "on" => Some(true),
        "false" | "no" | "nei" | "nej" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// Checks every attribute against the type's fields (built in, then `custom`) and returns
/// the normalised set. Empty values are dropped, so clearing a field removes it.
pub fn validate_attributes(
    item_type: ItemType,
    custom: &[FieldDef],
    attributes: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, AttributeError> {
    let fields = all_fields(item_type, custom);
    let mut out = BTreeMap::new();
    for (key, value) in attributes {
        let def = fields
            .iter()
            .find(|f| &f.key == key)
            .ok_or_else(|| AttributeError::Unknown { key: key.clone() })?;
        if value.trim().is_empty() {
            continue;
        }
        out.insert(key.clone(), normalise_value(def, value)?);
    }
    Ok(out)
}

/// Built-in fields first, then the provider's own, skipping any that reuse a built-in key.
pub fn all_fields(item_type: ItemType, custom: &[FieldDef]) -> Vec<FieldDef> {
    let mut fields = builtin_fields(item_type);
    for def in custom {
        if !fields.iter().any(|f| f.key == def.key) {
            fields.push(def.clone());
        }
    }
    fields
}

/// A key for a provider's own field: lower-case letters, digits and underscores,
/// starting with a letter, at most 40 characters (it becomes a CSV column and an API key).
pub fn valid_field_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && key.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_type_has_builtin_fields_with_unique_keys() {
        for t in ItemType::ALL {
            let fields = builtin_fields(*t);
            assert!(!fields.is_empty(), "{t}");
            let mut keys: Vec<_> = fields.iter().map(|f| f.key.as_str()).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), fields.len(), "{t}");
            assert!(fields.iter().all(|f| valid_field_key(&f.key)));
        }
    }

    #[test]
    fn values_are_normalised_by_kind() {
        let out = validate_attributes(
            ItemType::NetworkLink,
            &[],
            &attrs(&[
                ("medium", "FIBRE"),
                ("primary", "Ja"),
                ("bandwidth_mbps", " 1000 "),
                ("circuit_id", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            attrs(&[
                ("bandwidth_mbps", "1000"),
                ("medium", "fibre"),
                ("primary", "true")
            ])
        );
    }

    #[test]
    fn bad_values_name_their_field_and_code() {
        let cases = [
            (("cpu_cores", "many"), "bad-integer"),
            (("memory_gb", "1.5"), "bad-integer"),
            (("nonsense", "1"), "unknown-field"),
        ];
        for ((key, value), code) in cases {
            let err = validate_attributes(ItemType::VirtualMachine, &[], &attrs(&[(key, value)]))
                .unwrap_err();
            assert_eq!((err.key(), err.code()), (key, code));
        }
        let err = validate_attributes(
            ItemType::NetworkLink,
            &[],
            &attrs(&[("medium", "carrier pigeon")]),
        )
        .unwrap_err();
        assert_eq!(err.code(), "bad-choice");
        assert!(err.to_string().contains("fibre"));
        let err = validate_attributes(ItemType::NetworkLink, &[], &attrs(&[("primary", "maybe")]))
            .unwrap_err();
        assert_eq!(err.code(), "bad-bool");
        let long = "x".repeat(501);
        let err = validate_attributes(ItemType::Laptop, &[], &attrs(&[("model", long.as_str())]))
            .unwrap_err();
        assert_eq!(err.code(), "too-long");
    }

    #[test]
    fn custom_fields_extend_a_type_without_replacing_builtins() {
        let custom = vec![
            FieldDef {
                key: "installed_on".into(),
                kind: FieldKind::Date,
                custom_label: Some("Installert".into()),
            },
            FieldDef {
                key: "model".into(),
                kind: FieldKind::Integer,
                custom_label: Some("Shadow".into()),
            },
        ];
        let out = validate_attributes(
            ItemType::WelfareDevice,
            &custom,
            &attrs(&[("installed_on", "2026-02-03"), ("model", "Doro 8000")]),
        )
        .unwrap();
        assert_eq!(out["installed_on"], "2026-02-03");
        assert_eq!(out["model"], "Doro 8000", "the built-in text field wins");
        let err = validate_attributes(
            ItemType::WelfareDevice,
            &custom,
            &attrs(&[("installed_on", "3.2.2026")]),
        )
        .unwrap_err();
        assert_eq!(err.code(), "bad-date");
        assert_eq!(all_fields(ItemType::WelfareDevice, &custom).len(), 4);
    }

    #[test]
    fn field_kinds_parse_from_their_codes() {
        assert_eq!(FieldKind::parse("integer", ""), Some(FieldKind::Integer));
        assert_eq!(
            FieldKind::parse("choice", "a, b,,"),
            Some(FieldKind::Choice(vec!["a".into(), "b".into()]))
        );
        assert_eq!(FieldKind::parse("choice", " , "), None);
        assert_eq!(FieldKind::parse("colour", ""), None);
        for kind in [
            FieldKind::Text,
            FieldKind::Integer,
            FieldKind::Date,
            FieldKind::Bool,
        ] {
            assert_eq!(FieldKind::parse(kind.code(), ""), Some(kind));
        }
    }

    #[test]
    fn field_keys_are_plain() {
        assert!(valid_field_key("alarm_zone2"));
        for bad in ["", "2fa", "Zone", "with space", "æøå", &"a".repeat(41)] {
            assert!(!valid_field_key(bad), "{bad}");
        }
    }

    #[test]
    fn dates_must_be_iso() {
        assert!(parse_date("2026-11-23").is_some());
        for bad in ["23.11.2026", "2026-13-01", "2026-1-1", "tomorrow"] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }
}
