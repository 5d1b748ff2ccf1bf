//! Typed identifiers. Every id is a UUIDv7 in text form: sortable by creation
//! time, identical on SQLite and PostgreSQL, and safe to show in URLs.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            /// Accepts only canonical UUID text, so ids from URLs and forms
            /// cannot smuggle anything else into a query.
            pub fn parse(text: &str) -> Result<Self, crate::ids::IdError> {
                uuid::Uuid::try_parse(text)
                    .map(|u| Self(u.to_string()))
                    .map_err(|_| crate::ids::IdError { text: text.chars().take(64).collect() })
            }

            /// Wraps text read back from the database, which only ever holds ids we generated.
            pub fn from_db(text: String) -> Self {
                Self(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Text that should have been an id but is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{text}' is not a valid id (expected a UUID such as 0190f7a4-5c1e-7d3a-9b2e-4f6a8c0d1e2f)"
)]
pub struct IdError {
    pub text: String,
}

typed_id!(
    /// A provider or a municipality.
    TenantId
);
typed_id!(
    /// A place inside a municipality: town hall, school, care home.
    LocationId
);
typed_id!(
    /// A person who signs in.
    UserId
);
typed_id!(
    /// A personal API token.
    TokenId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_and_sort_by_creation() {
        let a = TenantId::generate();
        let b = TenantId::generate();
        assert_eq!(TenantId::parse(a.as_str()).unwrap(), a);
        assert!(a < b, "UUIDv7 ids must sort by creation time");
    }

    #[test]
    fn rejects_anything_but_a_uuid() {
        for bad in [
            "",
            "1",
            "x' OR '1'='1",
            "0190f7a4-5c1e-7d3a-9b2e-4f6a8c0d1e2",
        ] {
            let err = UserId::parse(bad).unwrap_err();
            assert!(err.to_string().contains("not a valid id"), "{bad}");
        }
    }

    #[test]
    fn parse_normalises_case() {
        let id = LocationId::parse("0190F7A4-5C1E-7D3A-9B2E-4F6A8C0D1E2F").unwrap();
        assert_eq!(id.as_str(), "0190f7a4-5c1e-7d3a-9b2e-4f6a8c0d1e2f");
    }
}
