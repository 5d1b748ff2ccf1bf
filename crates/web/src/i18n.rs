//! The translation catalogue: Fluent files for nb, da and en, compiled into the binary.
//!
//! Every string a person reads goes through [`Tr::t`]. A test checks that the three
//! catalogues hold the same keys and that every key the templates and code use exists.

use drifta_core::Language;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::LazyLock;

pub(crate) const SOURCES: [(Language, &str); 3] = [
    (Language::Nb, include_str!("../locales/nb.ftl")),
    (Language::Da, include_str!("../locales/da.ftl")),
    (Language::En, include_str!("../locales/en.ftl")),
];

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("translation catalogue {lang}: {detail}")]
    Invalid { lang: &'static str, detail: String },
}

/// The catalogues are constants compiled into the binary; a test proves they parse, and
/// [`check`] lets start-up fail with a clear message rather than serve keys.
static CATALOG: LazyLock<Result<Catalog, CatalogError>> = LazyLock::new(Catalog::load);

pub fn check() -> Result<(), &'static CatalogError> {
    CATALOG.as_ref().map(|_| ())
}

pub struct Catalog {
    bundles: Vec<(Language, FluentBundle<FluentResource>)>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").finish_non_exhaustive()
    }
}

impl Catalog {
    pub fn load() -> Result<Catalog, CatalogError> {
        let mut bundles = Vec::new();
        for (lang, source) in SOURCES {
            let invalid = |detail: String| CatalogError::Invalid {
                lang: lang.code(),
                detail,
            };
            let resource = FluentResource::try_new(source.to_string())
                .map_err(|(_, errs)| invalid(format!("{errs:?}")))?;
            let id: unic_langid::LanguageIdentifier =
                lang.code().parse().map_err(|e| invalid(format!("{e}")))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Bidi isolation marks would end up inside HTML attributes and CSV cells.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errs| invalid(format!("{errs:?}")))?;
            bundles.push((lang, bundle));
        }
        Ok(Catalog { bundles })
    }

    fn bundle(&self, lang: Language) -> Option<&FluentBundle<FluentResource>> {
        self.bundles
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, b)| b)
    }

    fn format(&self, lang: Language, key: &str, args: Option<&FluentArgs>) -> Option<String> {
        let bundle = self.bundle(lang)?;
        let pattern = bundle.get_message(key)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        Some(text.into_owned())
    }

    pub fn has(&self, lang: Language, key: &str) -> bool {
        self.bundle(lang).is_some_and(|b| b.has_message(key))
    }
}

/// The catalogue bound to one reader's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tr {
    pub lang: Language,
}

impl Tr {
    pub fn new(lang: Language) -> Tr {
        Tr { lang }
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    fn format(&self, key: &str, args: Option<&FluentArgs>) -> String {
        let Ok(catalog) = CATALOG.as_ref() else {
            return key.to_string();
        };
        catalog
            .format(self.lang, key, args)
            .or_else(|| catalog.format(Language::En, key, args))
            .unwrap_or_else(|| key.to_string())
    }

    /// The text for `key`; falls back to English, then to the key itself, so a missing
    /// translation shows up as a visible key rather than as an error page.
    pub fn t(&self, key: &str) -> String {
        self.format(key, None)
    }

    /// The text for `key` with named arguments (`{ $name }` in the catalogue).
    pub fn t_with(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut fargs = FluentArgs::new();
        for (k, v) in args {
            fargs.set(*k, FluentValue::from(*v));
        }
        self.format(key, Some(&fargs))
    }

    /// The text for `key` with a count, so plural forms come out right in each language.
    pub fn t_count(&self, key: &str, count: i64) -> String {
        self.t_count_with(key, count, &[])
    }

    /// [`Tr::t_count`] with further named arguments.
    pub fn t_count_with(&self, key: &str, count: i64, args: &[(&str, &str)]) -> String {
        let mut fargs = FluentArgs::new();
        fargs.set("count", FluentValue::from(count));
        for (k, v) in args {
            fargs.set(*k, FluentValue::from(*v));
        }
        self.format(key, Some(&fargs))
    }
}

/// Picks the best of our languages from an Accept-Language header, honouring q-values.
/// The catalogue as the store's [`drifta_core::lang::Texts`], for text it writes by itself.
#[derive(Debug)]
pub struct CatalogueTexts;

impl drifta_core::lang::Texts for CatalogueTexts {
    fn text(&self, lang: Language, key: &str, args: &[(&str, &str)]) -> String {
        Tr::new(lang).t_with(key, args)
    }
}

pub fn from_accept_language(header: &str) -> Option<Language> {
    accept_language::parse_with_quality(header)
        .into_iter()
        .filter(|(_, q)| *q > 0.0)
        .find_map(|(tag, _)| Language::from_code(&tag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use drifta_core::lang::Texts;
    use std::collections::BTreeSet;

    #[test]
    fn the_store_writes_outage_tickets_in_the_municipality_language() {
        let args = [("monitor", "Lønn"), ("reason", "HTTP 503")];
        for key in [
            "outage-ticket-title",
            "outage-ticket-description",
            "outage-recovered",
            "outage-heartbeat-recovered",
            "outage-paused",
        ] {
            for lang in Language::ALL {
                let text = CatalogueTexts.text(lang, key, &args);
                assert!(
                    text.contains("Lønn") && !text.contains(key),
                    "{lang:?} {key}: {text}"
                );
            }
        }
        assert_eq!(
            CatalogueTexts.text(Language::Nb, "outage-recovered", &args),
            "Lønn er oppe igjen."
        );
        assert_eq!(
            CatalogueTexts.text(Language::Da, "outage-recovered", &args),
            "Lønn er oppe igen."
        );
    }

    fn keys(source: &str) -> BTreeSet<String> {
        source
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .map(|k| k.trim().to_string())
            .collect()
    }

    #[test]
    fn catalogues_parse_and_hold_the_same_keys() {
        Catalog::load().unwrap();
        let en = keys(SOURCES[2].1);
        assert!(en.len() > 50, "{}", en.len());
        for (lang, source) in SOURCES {
            let k = keys(source);
            let missing: Vec<_> = en.difference(&k).collect();
            let extra: Vec<_> = k.difference(&en).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang:?}: missing {missing:?}, extra {extra:?}"
            );
        }
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let catalog = Catalog::load().unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = BTreeSet::new();
        let mut files = Vec::new();
        let mut dirs: Vec<_> = ["templates", "src", "static"]
            .iter()
            .map(|d| root.join(d))
            .collect();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if !path.ends_with("i18n.rs") {
                    // This file's own tests look up a key that must not exist.
                    files.push(path);
                }
            }
        }
        {
            for path in files {
                let text = std::fs::read_to_string(path).unwrap();
                for marker in [".t(\"", ".t_with(\"", ".t_count(\"", ".t_count_with(\""] {
                    for piece in text.split(marker).skip(1) {
                        if let Some(key) = piece.split('"').next()
                            && !key.is_empty()
                            && key
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())
                        {
                            used.insert(key.to_string());
                        }
                    }
                }
            }
        }
        assert!(
            used.len() > 30,
            "found only {} keys; is the scan broken?",
            used.len()
        );
        for key in used {
            for lang in Language::ALL {
                assert!(catalog.has(lang, &key), "{lang:?} lacks {key}");
            }
        }
    }

    #[test]
    fn translates_with_arguments_and_plurals() {
        let nb = Tr::new(Language::Nb);
        let en = Tr::new(Language::En);
        assert_eq!(en.t("nav-dashboard"), "Dashboard");
        assert_ne!(nb.t("nav-dashboard"), en.t("nav-dashboard"));
        assert!(
            en.t_with("signed-in-as", &[("name", "Kari")])
                .contains("Kari")
        );
        assert_eq!(en.t_count("location-count", 1), "1 location");
        assert_eq!(en.t_count("location-count", 3), "3 locations");
        assert_eq!(nb.t_count("bulk-done", 1), "1 sak endret.");
        assert_eq!(nb.t_count("bulk-done", 3), "3 saker endret.");
        assert_eq!(
            Tr::new(Language::Da).t_count_with("bulk-partly", 1, &[("refused", "#1004")]),
            "1 sag ændret; ikke tilladt for #1004."
        );
        assert_eq!(en.t("no-such-key"), "no-such-key");
    }

    #[test]
    fn accept_language() {
        assert_eq!(
            from_accept_language("da-DK,da;q=0.9,en;q=0.8"),
            Some(Language::Da)
        );
        assert_eq!(
            from_accept_language("en;q=0.5, nb;q=0.9"),
            Some(Language::Nb)
        );
        assert_eq!(from_accept_language("sv-SE, de;q=0.8"), None);
        assert_eq!(from_accept_language("no;q=0, en"), Some(Language::En));
        assert_eq!(from_accept_language(""), None);
        assert_eq!(from_accept_language(";;;,q=x"), None);
    }
}
