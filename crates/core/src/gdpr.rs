//! Records of processing activities (GDPR art. 30(1)) drawn from the application
//! portfolio, with the gaps a data protection officer must follow up.
//!
//! The store loads the portfolio fields of each application and the web layer
//! translates the codes; only the rules are here. A gap is a question for the DPO,
//! not a verdict: the answer may exist on paper before it reaches the portfolio.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The lawful basis of the processing, art. 6(1)(a)-(f). A municipality mostly
/// relies on a legal obligation (c) or a task in the public interest (e).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// (a) Rarely valid for an authority: refusing the municipality is seldom a
    /// free choice (recital 43).
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    /// (e) A task in the public interest or in the exercise of official authority.
    PublicTask,
    /// (f) Not for an authority's own tasks; see [`Gap::LegitimateInterestsByAuthority`].
    LegitimateInterests,
}

codes!(LegalBasis {
    Consent => "consent", Contract => "contract", LegalObligation => "legal_obligation",
    VitalInterests => "vital_interests", PublicTask => "public_task",
    LegitimateInterests => "legitimate_interests",
});

/// How far an application is from the reference architecture of a cloud move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppClass {
    Legacy,
    Hybrid,
    Modern,
}

codes!(AppClass { Legacy => "legacy", Hybrid => "hybrid", Modern => "modern" });

/// Where an application runs, which decides whether someone else holds its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hosting {
    /// On the municipality's own machines (or its shared operations centre's).
    OnPremises,
    /// In the supplier's own data centre.
    ProviderHosted,
    Iaas,
    Paas,
    Saas,
}

codes!(Hosting {
    OnPremises => "on_premises", ProviderHosted => "provider_hosted", Iaas => "iaas",
    Paas => "paas", Saas => "saas",
});

impl Hosting {
    /// Whether the host holds the data on the municipality's behalf, which makes
    /// it a processor (art. 4(8), art. 28). Even bare IaaS stores the disks.
    pub fn is_external(self) -> bool {
        self != Hosting::OnPremises
    }
}

/// Where an application is in a migration plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationStatus {
    #[default]
    NotPlanned,
    Planned,
    InProgress,
    Migrated,
    Retired,
}

codes!(MigrationStatus {
    NotPlanned => "not_planned", Planned => "planned", InProgress => "in_progress",
    Migrated => "migrated", Retired => "retired",
});

/// What came of evaluating a free-software alternative, which some
/// municipalities require before each new solution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlternativeDecision {
    #[default]
    NotEvaluated,
    Rejected,
    Adopted,
    Piloting,
}

codes!(AlternativeDecision {
    NotEvaluated => "not_evaluated", Rejected => "rejected", Adopted => "adopted",
    Piloting => "piloting",
});

/// The application-portfolio fields of one application item. Public fields,
/// because they arrive from forms, imports and the database alike; [`validate`]
/// checks them wherever they came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Portfolio {
    pub class: Option<AppClass>,
    pub hosting: Option<Hosting>,
    /// Where the data is stored or processed, ISO 3166-1 alpha-2 codes.
    pub data_location: Vec<String>,
    /// Where backups are kept: a copy abroad is a transfer too.
    pub backup_location: Vec<String>,
    pub security_zone: String,
    /// Art. 30(1)(b).
    pub purpose: String,
    /// Art. 30(1)(c): residents, pupils, employees, patients...
    pub data_subjects: String,
    pub personal_data: bool,
    /// Art. 30(1)(c): the categories of personal data.
    pub data_categories: Vec<String>,
    /// The art. 9(1) categories among them (health, religion, ethnic origin...).
    pub special_categories: Vec<String>,
    pub legal_basis: Option<LegalBasis>,
    /// A written processor agreement exists (art. 28(3)).
    pub dpa_on_file: bool,
    /// When it was signed, if known.
    pub dpa_date: Option<Date>,
    /// A data protection impact assessment is done (art. 35).
    pub dpia_done: bool,
    /// The free-software alternatives considered.
    pub alternatives: String,
    pub alternative_decision: AlternativeDecision,
    pub migration_status: MigrationStatus,
    pub migration_wave: String,
}

impl Portfolio {
    /// Whether the application processes personal data. Listed special
    /// categories count even with the flag off: art. 9 data is personal data
    /// by definition, and a contradiction must not hide gaps.
    pub fn processes_personal_data(&self) -> bool {
        self.personal_data || self.special_categories.iter().any(|c| !c.trim().is_empty())
    }

    /// Whether someone outside the municipality processes the data: a supplier
    /// (who runs or can reach the system) or an external host.
    pub fn processor_is_external(&self, has_supplier: bool) -> bool {
        has_supplier || self.hosting.is_some_and(Hosting::is_external)
    }
}

/// EU member states (ISO codes: Greece is GR, not the EU's own EL).
const EU: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// EEA members outside the EU, bound by the GDPR through the EEA agreement.
const EEA_EFTA: [&str; 3] = ["IS", "LI", "NO"];

/// Parts of member states with ISO codes of their own that are inside the EU:
/// Åland (Finland) and France's outermost regions (art. 355(1) TFEU).
const EU_TERRITORIES: [&str; 7] = ["AX", "GF", "GP", "MQ", "RE", "YT", "MF"];

/// Whether a country code is inside the EU/EEA, where personal data moves freely.
/// Anywhere else is a transfer under chapter V (art. 44-49): even with an
/// adequacy decision (CH, GB) it belongs in the record (art. 30(1)(e)).
/// Case-insensitive; surrounding spaces are ignored.
pub fn is_eea(code: &str) -> bool {
    let code = code.trim();
    EU.iter()
        .chain(&EEA_EFTA)
        .chain(&EU_TERRITORIES)
        .any(|c| c.eq_ignore_ascii_case(code))
}

/// The codes outside the EU/EEA, upper-cased, each once, in order. Blank entries
/// are skipped; a malformed code counts as outside, since nobody can say it is inside.
pub fn outside_eea(codes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for code in codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let code = code.to_ascii_uppercase();
        if !is_eea(&code) && !out.contains(&code) {
            out.push(code);
        }
    }
    out
}

/// How urgently a gap needs the DPO. Ordered: `High > Low`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The record is incomplete (art. 30); the processing may well be lawful.
    Low,
    /// The processing itself may be unlawful until this is fixed.
    High,
}

codes!(Severity { Low => "low", High => "high" });

/// Something missing or doubtful in the record of one application.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Gap {
    /// Processing needs one of the bases in art. 6(1).
    NoLegalBasis,
    /// An external processor needs a written agreement (art. 28(3)).
    NoProcessorAgreement,
    /// Data stored or processed outside the EU/EEA: a transfer (chapter V).
    DataOutsideEea { countries: Vec<String> },
    /// Backups outside the EU/EEA: a transfer too, and easily forgotten.
    BackupOutsideEea { countries: Vec<String> },
    /// Art. 35(3)(b) requires a DPIA for special categories on a large scale,
    /// which a municipality's registers of residents usually are.
    SpecialCategoriesWithoutDpia,
    /// Art. 6(1), last subparagraph: legitimate interests cannot be a public
    /// authority's basis for its tasks; usually the basis is really (c) or (e).
    LegitimateInterestsByAuthority,
    /// Art. 30(1)(b): the purposes.
    NoPurpose,
    /// Art. 30(1)(c): the categories of data subjects.
    NoDataSubjects,
    /// Art. 30(1)(c): the categories of personal data.
    NoCategories,
    /// Without a location nobody can tell whether data leaves the EEA (art. 30(1)(e)).
    NoDataLocation,
    /// Signed more than [`DPA_REVIEW_YEARS`] ago: suppliers, sub-processors and
    /// transfer clauses change, so the agreement is due for review (art. 28(2)-(4)).
    StaleProcessorAgreement { signed: Date },
}

/// Age in years after which a processor agreement is due for review.
pub const DPA_REVIEW_YEARS: i16 = 5;

impl Gap {
    /// A stable kebab-case code, used as the translation key.
    pub fn code(&self) -> &'static str {
        match self {
            Gap::NoLegalBasis => "no-legal-basis",
            Gap::NoProcessorAgreement => "no-processor-agreement",
            Gap::DataOutsideEea { .. } => "data-outside-eea",
            Gap::BackupOutsideEea { .. } => "backup-outside-eea",
            Gap::SpecialCategoriesWithoutDpia => "special-categories-without-dpia",
            Gap::LegitimateInterestsByAuthority => "legitimate-interests-by-authority",
            Gap::NoPurpose => "no-purpose",
            Gap::NoDataSubjects => "no-data-subjects",
            Gap::NoCategories => "no-categories",
            Gap::NoDataLocation => "no-data-location",
            Gap::StaleProcessorAgreement { .. } => "stale-processor-agreement",
        }
    }

    /// High when the processing itself may be unlawful, Low when the record is incomplete.
    pub fn severity(&self) -> Severity {
        match self {
            Gap::NoLegalBasis
            | Gap::NoProcessorAgreement
            | Gap::DataOutsideEea { .. }
            | Gap::BackupOutsideEea { .. }
            | Gap::SpecialCategoriesWithoutDpia => Severity::High,
            Gap::LegitimateInterestsByAuthority
            | Gap::NoPurpose
            | Gap::NoDataSubjects
            | Gap::NoCategories
            | Gap::NoDataLocation
            | Gap::StaleProcessorAgreement { .. } => Severity::Low,
        }
    }
}

/// The gaps of one application, most severe first, always in the same order.
///
/// Purpose and data location are asked of every application: without them nobody
/// can check that it really holds no personal data. The rest concern personal
/// data only ([`Portfolio::processes_personal_data`]). Processor agreements are
/// asked for only when `processor_is_external` (see
/// [`Portfolio::processor_is_external`]): the municipality's own system on its
/// own machines has no processor.
pub fn gaps(portfolio: &Portfolio, processor_is_external: bool, today: Date) -> Vec<Gap> {
    let p = portfolio;
    let personal = p.processes_personal_data();
    let none_listed = |items: &[String]| items.iter().all(|i| i.trim().is_empty());
    let mut out = Vec::new();
    if personal {
        if p.legal_basis.is_none() {
            out.push(Gap::NoLegalBasis);
        }
        if processor_is_external && !p.dpa_on_file {
            out.push(Gap::NoProcessorAgreement);
        }
        let countries = outside_eea(&p.data_location);
        if !countries.is_empty() {
            out.push(Gap::DataOutsideEea { countries });
        }
        let countries = outside_eea(&p.backup_location);
        if !countries.is_empty() {
            out.push(Gap::BackupOutsideEea { countries });
        }
        if !none_listed(&p.special_categories) && !p.dpia_done {
            out.push(Gap::SpecialCategoriesWithoutDpia);
        }
        if p.legal_basis == Some(LegalBasis::LegitimateInterests) {
            out.push(Gap::LegitimateInterestsByAuthority);
        }
    }
    if p.purpose.trim().is_empty() {
        out.push(Gap::NoPurpose);
    }
    if personal && p.data_subjects.trim().is_empty() {
        out.push(Gap::NoDataSubjects);
    }
    if personal && none_listed(&p.data_categories) {
        out.push(Gap::NoCategories);
    }
    if none_listed(&p.data_location) {
        out.push(Gap::NoDataLocation);
    }
    if let Some(signed) = p.dpa_date
        && personal
        && processor_is_external
        && p.dpa_on_file
        && signed.saturating_add(DPA_REVIEW_YEARS.years()) < today
    {
        out.push(Gap::StaleProcessorAgreement { signed });
    }
    out
}

/// One application in a municipality's record of processing activities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordEntry {
    pub municipality: String,
    pub application: String,
    /// The processor in the record; empty for an in-house system.
    pub supplier: String,
    pub portfolio: Portfolio,
    pub gaps: Vec<Gap>,
}

/// Column codes of the record (CSV header, HTML table), in order: art. 30(1)(a)-(g)
/// as the portfolio holds them, then the gaps.
pub const RECORD_COLUMNS: &[&str] = &[
    "municipality",
    "application",
    "purpose",
    "data_subjects",
    "data_categories",
    "special_categories",
    "legal_basis",
    "processor",
    "dpa_on_file",
    "dpa_date",
    "data_location",
    "backup_location",
    "transfer_outside_eea",
    "dpia_done",
    "security_zone",
    "gaps",
];

/// One cell per [`RECORD_COLUMNS`]: codes for enums (the web layer translates
/// them), "yes"/"no" for flags, ISO dates, lists joined with ", ", and as
/// transfers the third countries of data and backups together (art. 30(1)(e)
/// asks for them by name).
///
/// Cells are raw text: a CSV writer must still neutralise cells a spreadsheet
/// would run as formulas (a purpose starting with "=").
pub fn record_row(entry: &RecordEntry) -> Vec<String> {
    fn join(items: impl IntoIterator<Item = String>) -> String {
        let items: Vec<String> = items.into_iter().filter(|i| !i.is_empty()).collect();
        items.join(", ")
    }
    let trimmed = |items: &[String]| join(items.iter().map(|i| i.trim().to_string()));
    let upper = |codes: &[String]| join(codes.iter().map(|c| c.trim().to_ascii_uppercase()));
    let yes_no = |flag: bool| if flag { "yes" } else { "no" }.to_string();
    let p = &entry.portfolio;
    let mut transfers = outside_eea(&p.data_location);
    for code in outside_eea(&p.backup_location) {
        if !transfers.contains(&code) {
            transfers.push(code);
        }
    }
    vec![
        entry.municipality.trim().to_string(),
        entry.application.trim().to_string(),
        p.purpose.trim().to_string(),
        p.data_subjects.trim().to_string(),
        trimmed(&p.data_categories),
        trimmed(&p.special_categories),
        p.legal_basis.map_or("", LegalBasis::as_str).to_string(),
        entry.supplier.trim().to_string(),
        yes_no(p.dpa_on_file),
        p.dpa_date.map(|d| d.to_string()).unwrap_or_default(),
        upper(&p.data_location),
        upper(&p.backup_location),
        join(transfers),
        yes_no(p.dpia_done),
        p.security_zone.trim().to_string(),
        join(entry.gaps.iter().map(|g| g.code().to_string())),
    ]
}

/// Longest free texts, in characters: a paragraph, short enough for a table cell.
pub const MAX_PURPOSE: usize = 2000;
pub const MAX_DATA_SUBJECTS: usize = 1000;
pub const MAX_ALTERNATIVES: usize = 2000;
pub const MAX_SECURITY_ZONE: usize = 100;
pub const MAX_MIGRATION_WAVE: usize = 100;
/// Longest entry of a category list, and most entries in any list.
pub const MAX_CATEGORY: usize = 200;
pub const MAX_LIST: usize = 100;

/// A refused portfolio, naming the form field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortfolioError {
    #[error("{field}: '{value}' is not a two-letter country code (ISO 3166-1 alpha-2)")]
    CountryCode { field: &'static str, value: String },
    #[error("dpa_date: a signing date needs a processor agreement on file")]
    DpaDateWithoutAgreement,
    #[error("special_categories: special categories are personal data")]
    SpecialCategoriesWithoutPersonalData,
    #[error("{field}: an entry is empty")]
    EmptyItem { field: &'static str },
    #[error("{field}: at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field}: at most {max} entries")]
    TooMany { field: &'static str, max: usize },
    #[error("{field}: is required")]
    Required { field: &'static str },
}

impl PortfolioError {
    /// The form field the error belongs to.
    pub fn field(&self) -> &'static str {
        match self {
            PortfolioError::CountryCode { field, .. }
            | PortfolioError::EmptyItem { field }
            | PortfolioError::TooLong { field, .. }
            | PortfolioError::TooMany { field, .. }
            | PortfolioError::Required { field } => field,
            PortfolioError::DpaDateWithoutAgreement => "dpa_date",
            PortfolioError::SpecialCategoriesWithoutPersonalData => "special_categories",
        }
    }

    /// A machine code the web shell turns into a sentence in the reader's language.
    pub fn code(&self) -> &'static str {
        match self {
            PortfolioError::CountryCode { .. } => "country-code",
            PortfolioError::DpaDateWithoutAgreement => "dpa-date-without-agreement",
            PortfolioError::SpecialCategoriesWithoutPersonalData => {
                "special-categories-without-personal-data"
            }
            PortfolioError::EmptyItem { .. } => "empty-item",
            PortfolioError::TooLong { .. } => "too-long",
            PortfolioError::TooMany { .. } => "too-many",
            PortfolioError::Required { .. } => "required",
        }
    }
}

/// Checks a portfolio in form order and returns the first error. Country codes
/// may be lower-case or padded, but must be two ASCII letters, or [`is_eea`]
/// could not judge them.
pub fn validate(portfolio: &Portfolio) -> Result<(), PortfolioError> {
    let p = portfolio;
    let text = |field: &'static str, value: &str, max: usize| {
        if value.trim().chars().count() > max {
            return Err(PortfolioError::TooLong { field, max });
        }
        Ok(())
    };
    let list = |field: &'static str, items: &[String]| {
        if items.len() > MAX_LIST {
            return Err(PortfolioError::TooMany {
                field,
                max: MAX_LIST,
            });
        }
        if items.iter().any(|i| i.trim().is_empty()) {
            return Err(PortfolioError::EmptyItem { field });
        }
        Ok(())
    };
    let locations = [
        ("data_location", &p.data_location),
        ("backup_location", &p.backup_location),
    ];
    for (field, codes) in locations {
        list(field, codes)?;
        if let Some(bad) = codes.iter().map(|c| c.trim()).find(|c| !is_country_code(c)) {
            let value = bad.to_string();
            return Err(PortfolioError::CountryCode { field, value });
        }
    }
    text("security_zone", &p.security_zone, MAX_SECURITY_ZONE)?;
    text("purpose", &p.purpose, MAX_PURPOSE)?;
    text("data_subjects", &p.data_subjects, MAX_DATA_SUBJECTS)?;
    for (field, items) in [
        ("data_categories", &p.data_categories),
        ("special_categories", &p.special_categories),
    ] {
        list(field, items)?;
        items
            .iter()
            .try_for_each(|i| text(field, i, MAX_CATEGORY))?;
    }
    if !p.personal_data && !p.special_categories.is_empty() {
        return Err(PortfolioError::SpecialCategoriesWithoutPersonalData);
    }
    if p.dpa_date.is_some() && !p.dpa_on_file {
        return Err(PortfolioError::DpaDateWithoutAgreement);
    }
    text("alternatives", &p.alternatives, MAX_ALTERNATIVES)?;
    // A decision about an alternative nobody named cannot be followed up.
    if p.alternative_decision != AlternativeDecision::NotEvaluated
        && p.alternatives.trim().is_empty()
    {
        return Err(PortfolioError::Required {
            field: "alternatives",
        });
    }
    text("migration_wave", &p.migration_wave, MAX_MIGRATION_WAVE)
}

/// Two ASCII letters: the shape of an ISO 3166-1 alpha-2 code, whether or not assigned.
fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn today() -> Date {
        date(2026, 3, 1)
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// A complete, lawful record: no gaps whatever the processor.
    fn complete() -> Portfolio {
        Portfolio {
            class: Some(AppClass::Modern),
            hosting: Some(Hosting::Saas),
            data_location: strings(&["NO"]),
            backup_location: strings(&["SE"]),
            security_zone: "standard".into(),
            purpose: "Case handling for home care".into(),
            data_subjects: "Residents receiving home care".into(),
            personal_data: true,
            data_categories: strings(&["name", "address"]),
            special_categories: strings(&["health"]),
            legal_basis: Some(LegalBasis::PublicTask),
            dpa_on_file: true,
            dpa_date: Some(date(2023, 5, 10)),
            dpia_done: true,
            ..Portfolio::default()
        }
    }

    fn codes(p: &Portfolio, external: bool) -> Vec<&'static str> {
        gaps(p, external, today()).iter().map(Gap::code).collect()
    }

    #[test]
    fn enum_codes_round_trip() {
        macro_rules! round_trip {
            ($($t:ty),+) => {$(
                for v in <$t>::ALL {
                    assert_eq!(<$t>::parse(v.as_str()), Some(*v));
                }
            )+};
        }
        round_trip!(
            LegalBasis,
            AppClass,
            Hosting,
            MigrationStatus,
            AlternativeDecision,
            Severity
        );
        assert_eq!(LegalBasis::ALL.len(), 6);
        assert_eq!(LegalBasis::LegalObligation.as_str(), "legal_obligation");
        assert_eq!(MigrationStatus::InProgress.as_str(), "in_progress");
        assert_eq!(Hosting::parse("On_Premises"), None);
    }

    #[test]
    fn eea_membership_ignores_case() {
        for inside in [
            "NO", "IS", "LI", "SE", "DK", "FI", "DE", "GR", "AX", "no", "Is", " li ",
        ] {
            assert!(is_eea(inside), "{inside}");
        }
        for outside in [
            "GB", "US", "CH", "gb", "us", "ch", "SJ", "FO", "GL", "EL", "UK", "", "NOR",
        ] {
            assert!(!is_eea(outside), "{outside}");
        }
        assert_eq!(EU.len() + EEA_EFTA.len(), 30);
        assert_eq!(
            outside_eea(&strings(&["us", "NO", " US", "", "ch"])),
            ["US", "CH"]
        );
    }

    #[test]
    fn each_gap_triggered_and_not() {
        type Edit = fn(&mut Portfolio);
        // An edit of the complete portfolio, and its gaps with an external processor.
        #[rustfmt::skip]
        let cases: [(Edit, &[&str]); 18] = [
            (|_| {}, &[]),
            (|p| p.legal_basis = None, &["no-legal-basis"]),
            (|p| p.dpa_on_file = false, &["no-processor-agreement"]),
            (|p| p.data_location = strings(&["NO", "us"]), &["data-outside-eea"]),
            (|p| p.backup_location = strings(&["GB", "CH"]), &["backup-outside-eea"]),
            (|p| p.data_location = strings(&["IS", "LI", "dk"]), &[]),
            (|p| p.dpia_done = false, &["special-categories-without-dpia"]),
            (|p| (p.dpia_done, p.special_categories) = (false, vec![]), &[]),
            (|p| p.legal_basis = Some(LegalBasis::LegitimateInterests), &["legitimate-interests-by-authority"]),
            (|p| p.purpose = " ".into(), &["no-purpose"]),
            (|p| p.data_subjects.clear(), &["no-data-subjects"]),
            (|p| p.data_categories = strings(&[" "]), &["no-categories"]),
            (|p| p.data_location.clear(), &["no-data-location"]),
            (|p| p.dpa_date = Some(date(2021, 2, 28)), &["stale-processor-agreement"]),
            // Exactly five years is not older than five; an unknown date is not flagged.
            (|p| p.dpa_date = Some(date(2021, 3, 1)), &[]),
            (|p| p.dpa_date = None, &[]),
            // No personal data: only the portfolio gaps.
            (|p| *p = Portfolio { data_location: strings(&["US"]), ..Default::default() }, &["no-purpose"]),
            // Listed special categories are personal data whatever the flag says.
            (|p| (p.personal_data, p.dpia_done) = (false, false), &["special-categories-without-dpia"]),
        ];
        for (i, (edit, external)) in cases.into_iter().enumerate() {
            let mut p = complete();
            edit(&mut p);
            assert_eq!(codes(&p, true), external, "case {i}, external processor");
            // The municipality's own system has no processor and no agreement to ask for.
            let own = external
                .iter()
                .filter(|c| !c.ends_with("processor-agreement"));
            assert!(codes(&p, false).iter().eq(own), "case {i}, own system");
        }
        let mut p = complete();
        p.backup_location = strings(&["gb", "SE", "GB", "ch"]);
        let countries = strings(&["GB", "CH"]);
        assert_eq!(
            gaps(&p, true, today()),
            [Gap::BackupOutsideEea { countries }]
        );
    }

    #[test]
    fn external_processors() {
        let mut p = complete();
        for h in Hosting::ALL {
            p.hosting = Some(*h);
            assert_eq!(
                p.processor_is_external(false),
                *h != Hosting::OnPremises,
                "{h}"
            );
            assert!(
                p.processor_is_external(true),
                "a supplier running it is a processor"
            );
        }
        p.hosting = None;
        assert!(!p.processor_is_external(false));
    }

    #[test]
    fn gaps_come_most_severe_first() {
        let p = Portfolio {
            personal_data: true,
            data_location: strings(&["US"]),
            backup_location: strings(&["CH"]),
            special_categories: strings(&["health"]),
            legal_basis: Some(LegalBasis::LegitimateInterests),
            ..Portfolio::default()
        };
        let mut all = gaps(&p, true, today());
        // The gaps the portfolio above cannot have at the same time.
        let p = Portfolio {
            personal_data: true,
            purpose: "payroll".into(),
            data_subjects: "employees".into(),
            data_categories: strings(&["salary"]),
            dpa_on_file: true,
            dpa_date: Some(date(2020, 1, 1)),
            ..Portfolio::default()
        };
        all.extend(gaps(&p, true, today()));
        let codes: Vec<_> = all.iter().map(Gap::code).collect();
        assert_eq!(
            codes,
            [
                "no-processor-agreement",
                "data-outside-eea",
                "backup-outside-eea",
                "special-categories-without-dpia",
                "legitimate-interests-by-authority",
                "no-purpose",
                "no-data-subjects",
                "no-categories",
                "no-legal-basis",
                "no-data-location",
                "stale-processor-agreement",
            ]
        );
        let (first, second) = all.split_at(8);
        for part in [first, second] {
            assert!(part.windows(2).all(|w| w[0].severity() >= w[1].severity()));
        }
        assert_eq!(
            all.iter()
                .filter(|g| g.severity() == Severity::High)
                .count(),
            5
        );
        assert!(Severity::High > Severity::Low);
    }

    #[test]
    fn record_row_has_one_cell_per_column() {
        let mut portfolio = complete();
        portfolio.data_location = strings(&["no", "US"]);
        portfolio.backup_location = strings(&["us", "gb"]);
        portfolio.legal_basis = None;
        let mut entry = RecordEntry {
            municipality: " Lurøy ".into(),
            application: "Home care".into(),
            supplier: "Acme AS".into(),
            gaps: gaps(&portfolio, true, today()),
            portfolio,
        };
        let row = record_row(&entry);
        assert_eq!(row.len(), RECORD_COLUMNS.len());
        let cell =
            |name: &str| row[RECORD_COLUMNS.iter().position(|c| *c == name).unwrap()].clone();
        assert_eq!(cell("municipality"), "Lurøy");
        assert_eq!(cell("data_categories"), "name, address");
        assert_eq!(cell("legal_basis"), "");
        assert_eq!(cell("processor"), "Acme AS");
        assert_eq!(
            (cell("dpa_on_file"), cell("dpa_date")),
            ("yes".into(), "2023-05-10".into())
        );
        assert_eq!(cell("data_location"), "NO, US");
        assert_eq!(cell("transfer_outside_eea"), "US, GB");
        assert_eq!(
            cell("gaps"),
            "no-legal-basis, data-outside-eea, backup-outside-eea"
        );

        entry.portfolio = complete();
        entry.portfolio.legal_basis = Some(LegalBasis::LegalObligation);
        entry.gaps.clear();
        let row = record_row(&entry);
        assert_eq!(row.len(), RECORD_COLUMNS.len());
        assert_eq!(
            (row[6].as_str(), row[12].as_str(), row[15].as_str()),
            ("legal_obligation", "", "")
        );
    }

    #[test]
    fn validation_errors() {
        type Edit = fn(&mut Portfolio);
        // An edit of the complete portfolio, and the field and code of its error.
        #[rustfmt::skip]
        let cases: [(Edit, &str, &str); 13] = [
            (|p| p.data_location = strings(&["NO", "NOR"]), "data_location", "country-code"),
            (|p| p.data_location = strings(&["N1"]), "data_location", "country-code"),
            (|p| p.data_location = strings(&["NØ"]), "data_location", "country-code"),
            (|p| p.backup_location = strings(&["E"]), "backup_location", "country-code"),
            (|p| p.backup_location = strings(&["SE", " "]), "backup_location", "empty-item"),
            (|p| p.dpa_on_file = false, "dpa_date", "dpa-date-without-agreement"),
            (|p| p.migration_wave = "w".repeat(101), "migration_wave", "too-long"),
            (|p| p.purpose = "p".repeat(MAX_PURPOSE + 1), "purpose", "too-long"),
            (|p| p.security_zone = "z".repeat(101), "security_zone", "too-long"),
            (|p| p.data_categories = strings(&["x"; MAX_LIST + 1]), "data_categories", "too-many"),
            (|p| p.special_categories = vec!["h".repeat(201)], "special_categories", "too-long"),
            (|p| p.personal_data = false, "special_categories", "special-categories-without-personal-data"),
            (|p| p.alternative_decision = AlternativeDecision::Rejected, "alternatives", "required"),
        ];
        for (edit, field, code) in cases {
            let mut p = complete();
            edit(&mut p);
            let err = validate(&p).unwrap_err();
            assert_eq!((err.field(), err.code()), (field, code), "{err}");
        }

        let mut p = complete();
        p.migration_wave = "ø".repeat(100);
        p.data_location = strings(&[" no "]);
        (p.alternatives, p.alternative_decision) =
            ("Nextcloud".into(), AlternativeDecision::Piloting);
        assert!(
            validate(&p).is_ok(),
            "characters, not bytes; lower-case codes accepted"
        );
        let err = PortfolioError::CountryCode {
            field: "data_location",
            value: "NOR".into(),
        };
        assert_eq!(
            err.to_string(),
            "data_location: 'NOR' is not a two-letter country code (ISO 3166-1 alpha-2)"
        );
    }
}
