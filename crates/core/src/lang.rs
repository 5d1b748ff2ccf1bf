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

/// Text in someone's language for what the store writes by itself (an outage ticket's title,
/// its recovery note). The catalogue lives in the web crate; `serve` passes it in, because the
/// store must not depend on the web.
pub trait Texts: Send + Sync + std::fmt::Debug {
    fn text(&self, lang: Language, key: &str, args: &[(&str, &str)]) -> String;
}

/// Without a catalogue: the key and its arguments. Recognisable in tests and logs; a running
/// server always has the catalogue.
#[derive(Debug)]
pub struct KeysOnly;

impl Texts for KeysOnly {
    fn text(&self, _lang: Language, key: &str, args: &[(&str, &str)]) -> String {
        let mut out = key.to_string();
        for (name, value) in args {
            out.push_str(&format!(" {name}={value}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_catalogue_the_key_and_arguments_show() {
        assert_eq!(
            KeysOnly.text(Language::Nb, "outage-recovered", &[("monitor", "Lønn")]),
            "outage-recovered monitor=Lønn"
        );
    }

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
