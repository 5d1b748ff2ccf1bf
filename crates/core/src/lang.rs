//! The languages the interface speaks.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Nb,
    Da,
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Nb, Language::Da, Language::En];

    pub fn code(self) -> &'static str {
        match self {
            Language::Nb => "nb",
            Language::Da => "da",
            Language::En => "en",
        }
    }

    /// Accepts the codes browsers send too: Norwegian "no"/"nn"/"nb-NO" all map to bokmål,
    /// because bokmål is the only Norwegian we ship.
    pub fn from_code(code: &str) -> Option<Language> {
        let primary = code.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "nb" | "no" | "nn" => Some(Language::Nb),
            "da" => Some(Language::Da),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_browser_codes() {
        assert_eq!(Language::from_code("nb-NO"), Some(Language::Nb));
        assert_eq!(Language::from_code("no"), Some(Language::Nb));
        assert_eq!(Language::from_code("da_DK"), Some(Language::Da));
        assert_eq!(Language::from_code("EN-gb"), Some(Language::En));
        assert_eq!(Language::from_code("sv"), None);
        assert_eq!(Language::from_code(""), None);
        for l in Language::ALL {
            assert_eq!(Language::from_code(l.code()), Some(l));
        }
    }
}
