//! Providers, the municipalities they serve, and the places inside them.

pub use crate::calendar::Country;
use crate::ids::TenantId;
use crate::lang::Language;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantKind {
    /// The IT company or host municipality at the root.
    Provider,
    Municipality,
}

impl TenantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantKind::Provider => "provider",
            TenantKind::Municipality => "municipality",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "provider" => Some(TenantKind::Provider),
            "municipality" => Some(TenantKind::Municipality),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub parent_id: Option<TenantId>,
    pub kind: TenantKind,
    pub name: String,
    pub slug: String,
    pub country: Country,
    pub time_zone: String,
    pub language: Language,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    TownHall,
    School,
    CareHome,
    Kindergarten,
    OperationsCentre,
    Office,
    Other,
}

impl LocationKind {
    pub const ALL: [LocationKind; 7] = [
        LocationKind::TownHall,
        LocationKind::School,
        LocationKind::CareHome,
        LocationKind::Kindergarten,
        LocationKind::OperationsCentre,
        LocationKind::Office,
        LocationKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::TownHall => "town_hall",
            LocationKind::School => "school",
            LocationKind::CareHome => "care_home",
            LocationKind::Kindergarten => "kindergarten",
            LocationKind::OperationsCentre => "operations_centre",
            LocationKind::Office => "office",
            LocationKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        LocationKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for k in LocationKind::ALL {
            assert_eq!(LocationKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Country::parse(" dk "), Some(Country::Dk));
        assert_eq!(Country::parse("SE"), None);
        assert_eq!(TenantKind::parse("provider"), Some(TenantKind::Provider));
        assert_eq!(TenantKind::parse("x"), None);
    }

    #[test]
    fn country_defaults() {
        assert_eq!(Country::No.default_time_zone_name(), "Europe/Oslo");
        assert_eq!(Country::Dk.default_language(), Language::Da);
    }
}
