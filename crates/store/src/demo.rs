//! Demo data: a fictional provider and five fictional municipalities. All names are invented.

use crate::db::Store;
use crate::error::StoreError;
use crate::tenants::{NewLocation, NewTenant};
use crate::users::NewUser;
use drifta_core::password::PasswordHasher;
use drifta_core::tenant::LocationKind;
use drifta_core::{Actor, Country, Language, Role, TenantId};

/// Every demo account signs in with this password.
pub const DEMO_PASSWORD: &str = "drifta-demo";

/// A demo account, printed by `drifta demo`.
#[derive(Clone, Debug)]
pub struct DemoLogin {
    pub username: &'static str,
    pub description: &'static str,
}

struct Municipality {
    slug: &'static str,
    name: &'static str,
    country: Country,
    locations: &'static [(&'static str, LocationKind)],
}

const MUNICIPALITIES: &[Municipality] = &[
    Municipality {
        slug: "fjordvik",
        name: "Fjordvik kommune",
        country: Country::No,
        locations: &[
            ("Fjordvik rådhus", LocationKind::TownHall),
            ("Fjordvik skole", LocationKind::School),
            ("Nesbakken oppvekstsenter", LocationKind::School),
            ("Fjordvik omsorgssenter", LocationKind::CareHome),
        ],
    },
    Municipality {
        slug: "lysberg",
        name: "Lysberg kommune",
        country: Country::No,
        locations: &[
            ("Lysberg rådhus", LocationKind::TownHall),
            ("Lysberg ungdomsskole", LocationKind::School),
            ("Bjørkely barneskole", LocationKind::School),
            ("Solsiden barnehage", LocationKind::Kindergarten),
            ("Lysberg helse- og omsorgssenter", LocationKind::CareHome),
        ],
    },
    Municipality {
        slug: "egeholm",
        name: "Egeholm Kommune",
        country: Country::Dk,
        locations: &[
            ("Egeholm Rådhus", LocationKind::TownHall),
            ("Egeholm Skole", LocationKind::School),
            ("Kildevang Skole", LocationKind::School),
            ("Plejecenter Lindely", LocationKind::CareHome),
        ],
    },
    Municipality {
        slug: "skjaervag",
        name: "Skjærvåg kommune",
        country: Country::No,
        locations: &[
            ("Skjærvåg rådhus", LocationKind::TownHall),
            ("Øyriket driftssenter", LocationKind::OperationsCentre),
            ("Skjærvåg skole", LocationKind::School),
            ("Havtun sykehjem", LocationKind::CareHome),
        ],
    },
    Municipality {
        slug: "vindaa",
        name: "Vindå Kommune",
        country: Country::Dk,
        locations: &[
            ("Vindå Rådhus", LocationKind::TownHall),
            ("Vindå Borgerservice", LocationKind::Office),
            ("Nørremark Skole", LocationKind::School),
            ("Plejehjemmet Åbo", LocationKind::CareHome),
        ],
    },
];

struct DemoUser {
    username: &'static str,
    name: &'static str,
    /// `None` for provider staff (home tenant is the provider).
    home: Option<&'static str>,
    language: Option<Language>,
    phone: &'static str,
    /// (slug or "" for the provider, role)
    grants: &'static [(&'static str, Role)],
    description: &'static str,
}

const USERS: &[DemoUser] = &[
    DemoUser {
        username: "admin",
        name: "Ingrid Vassbotn",
        home: None,
        language: Some(Language::Nb),
        phone: "+47 400 10 001",
        grants: &[("", Role::ProviderAdmin)],
        description: "provider administrator, Nordkyst IT",
    },
    DemoUser {
        username: "tekniker",
        name: "Sindre Myrvold",
        home: None,
        language: Some(Language::Nb),
        phone: "+47 400 10 002",
        grants: &[("", Role::Technician)],
        description: "technician, all municipalities",
    },
    DemoUser {
        username: "tekniker.nord",
        name: "Mari Holtan",
        home: None,
        language: None,
        phone: "+47 400 10 003",
        grants: &[
            ("fjordvik", Role::Technician),
            ("skjaervag", Role::Technician),
        ],
        description: "technician, Fjordvik and Skjærvåg",
    },
    DemoUser {
        username: "tekniker.dk",
        name: "Rasmus Kjærgaard",
        home: None,
        language: Some(Language::Da),
        phone: "+45 20 10 00 04",
        grants: &[("egeholm", Role::Technician), ("vindaa", Role::Technician)],
        description: "technician, Egeholm and Vindå",
    },
    DemoUser {
        username: "revisor",
        name: "Aud Rønningen",
        home: None,
        language: Some(Language::En),
        phone: "",
        grants: &[("", Role::Auditor)],
        description: "auditor, all municipalities (read-only, sees the audit log)",
    },
    DemoUser {
        username: "koordinator.fjordvik",
        name: "Tone Fjeldstad",
        home: Some("fjordvik"),
        language: Some(Language::Nb),
        phone: "+47 400 20 001",
        grants: &[("fjordvik", Role::Coordinator)],
        description: "municipal coordinator, Fjordvik",
    },
    DemoUser {
        username: "laerer.fjordvik",
        name: "Even Sletta",
        home: Some("fjordvik"),
        language: Some(Language::Nb),
        phone: "+47 400 20 002",
        grants: &[("fjordvik", Role::Requester)],
        description: "teacher (requester), Fjordvik skole",
    },
    DemoUser {
        username: "koordinator.lysberg",
        name: "Hanne Brekkestø",
        home: Some("lysberg"),
        language: Some(Language::Nb),
        phone: "+47 400 30 001",
        grants: &[("lysberg", Role::Coordinator)],
        description: "municipal coordinator, Lysberg (cloud migration)",
    },
    DemoUser {
        username: "koordinator.egeholm",
        name: "Mette Skovgaard",
        home: Some("egeholm"),
        language: Some(Language::Da),
        phone: "+45 30 40 00 01",
        grants: &[("egeholm", Role::Coordinator)],
        description: "municipal coordinator, Egeholm",
    },
    DemoUser {
        username: "dpo.egeholm",
        name: "Jens Bødker",
        home: Some("egeholm"),
        language: Some(Language::Da),
        phone: "",
        grants: &[("egeholm", Role::Auditor)],
        description: "data protection officer (auditor), Egeholm",
    },
    DemoUser {
        username: "sygeplejerske.vindaa",
        name: "Lone Mikkelsen",
        home: Some("vindaa"),
        language: Some(Language::Da),
        phone: "+45 30 50 00 02",
        grants: &[("vindaa", Role::Requester)],
        description: "nurse (requester), Vindå",
    },
    DemoUser {
        username: "driftssjef.skjaervag",
        name: "Kjell Ottesen",
        home: Some("skjaervag"),
        language: Some(Language::Nb),
        phone: "+47 400 40 001",
        grants: &[("skjaervag", Role::Coordinator)],
        description: "head of the shared operations centre, Skjærvåg (coordinator)",
    },
];

/// The demo accounts, for printing.
pub fn demo_logins() -> Vec<DemoLogin> {
    USERS
        .iter()
        .map(|u| DemoLogin {
            username: u.username,
            description: u.description,
        })
        .collect()
}

impl Store {
    /// True when the database holds no tenant yet.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let (n,): (i64,) = self
            .fetch_optional(crate::sql::Sql::new("SELECT COUNT(*) FROM tenants"))
            .await?
            .unwrap_or((0,));
        Ok(n == 0)
    }

    /// Fills an empty database with the demo provider, municipalities, locations and users.
    /// The demo's inventory: thousands of items, SD-WAN sites with backup links, the host
    /// municipality's shared servers and an application portfolio mid-migration. Apart
    /// from [`Store::seed_demo`] because it takes seconds, which every web test would pay;
    /// `drifta demo` seeds both. Returns a one-line summary.
    pub async fn seed_demo_inventory(&self) -> Result<String, StoreError> {
        let scope = self
            .installation_scope(Actor::system("drifta demo"))
            .await?;
        let summary = crate::demo_inventory::seed_inventory(self, &scope)
            .await?
            .to_string();
        let portfolios = self.seed_demo_portfolios(&scope).await?;
        Ok(format!("{summary}; {portfolios} application portfolios"))
    }

    /// The application portfolio mid-migration: hosting, data locations, personal data and
    /// waves, with a few honest gaps for the data protection officer to find (a US cloud, a
    /// missing agreement, health data without an impact assessment).
    async fn seed_demo_portfolios(&self, scope: &drifta_core::Scope) -> Result<usize, StoreError> {
        use drifta_core::gdpr::{
            AlternativeDecision as Alt, AppClass, Hosting, LegalBasis as Basis,
            MigrationStatus as Mig, Portfolio,
        };
        type Row = (
            &'static str,
            AppClass,
            Hosting,
            &'static [&'static str],
            &'static [&'static str],
            &'static str,
            &'static [&'static str],
            &'static [&'static str],
            Option<Basis>,
            Option<&'static str>,
            bool,
            Mig,
            &'static str,
            Alt,
        );
        #[rustfmt::skip]
        const ROWS: &[Row] = &[
            ("Arkivhuset", AppClass::Hybrid, Hosting::ProviderHosted, &["NO"], &["NO"], "Innbyggere, ansatte", &["navn", "fødselsnummer", "saksopplysninger"], &[], Some(Basis::LegalObligation), Some("2023-03-01"), true, Mig::Planned, "Bølge 2 (2027)", Alt::NotEvaluated),
            ("Nordøk ERP", AppClass::Legacy, Hosting::ProviderHosted, &["NO"], &["NO"], "Ansatte, leverandører", &["navn", "lønn", "bankkonto"], &[], Some(Basis::LegalObligation), Some("2019-05-01"), false, Mig::InProgress, "Bølge 1 (2026)", Alt::Rejected),
            ("Omsorgsjournal", AppClass::Legacy, Hosting::ProviderHosted, &["NO"], &["NO"], "Brukere av hjemmetjenesten", &["navn", "fødselsnummer"], &["helse"], Some(Basis::PublicTask), Some("2022-09-15"), true, Mig::Planned, "Bølge 2 (2027)", Alt::NotEvaluated),
            ("Meldingsformidler", AppClass::Hybrid, Hosting::Paas, &["NO"], &["NO"], "Pasienter", &["navn"], &["helse"], Some(Basis::PublicTask), None, true, Mig::NotPlanned, "", Alt::NotEvaluated),
            ("Trygghetsalarm", AppClass::Modern, Hosting::Saas, &["NO"], &["SE"], "Alarmbrukere", &["navn", "adresse", "kontaktpersoner"], &["helse"], Some(Basis::PublicTask), Some("2024-01-10"), false, Mig::Migrated, "Bølge 1 (2026)", Alt::NotEvaluated),
            ("Elev-iPad MDM", AppClass::Modern, Hosting::Saas, &["US"], &["US"], "Elever", &["navn", "klasse", "enhets-ID"], &[], Some(Basis::PublicTask), Some("2023-08-01"), false, Mig::Migrated, "", Alt::Rejected),
            ("FreeRADIUS", AppClass::Modern, Hosting::OnPremises, &["NO"], &[], "", &[], &[], None, None, false, Mig::NotPlanned, "", Alt::Adopted),
            ("Active Directory", AppClass::Hybrid, Hosting::Iaas, &["NO", "IE"], &["NO"], "Ansatte, elever", &["navn", "brukernavn", "e-post"], &[], Some(Basis::LegalObligation), Some("2024-02-01"), false, Mig::InProgress, "Bølge 1 (2026)", Alt::Piloting),
            ("Fjernskrivebord", AppClass::Legacy, Hosting::OnPremises, &["NO"], &["NO"], "Ansatte", &["brukernavn"], &[], Some(Basis::LegalObligation), None, false, Mig::Planned, "Bølge 3 (2028)", Alt::Piloting),
            ("Filtjeneste", AppClass::Legacy, Hosting::OnPremises, &["NO"], &["NO"], "Ansatte, innbyggere", &["dokumenter"], &[], None, None, false, Mig::InProgress, "Bølge 1 (2026)", Alt::Adopted),
            ("Utskriftstjeneste", AppClass::Legacy, Hosting::OnPremises, &["NO"], &[], "", &[], &[], None, None, false, Mig::Retired, "", Alt::NotEvaluated),
            ("Nextcloud", AppClass::Modern, Hosting::ProviderHosted, &["NO"], &["NO"], "Ansatte", &["dokumenter", "navn"], &[], Some(Basis::PublicTask), None, false, Mig::Migrated, "Bølge 1 (2026)", Alt::Adopted),
            ("Proxmox Backup", AppClass::Modern, Hosting::OnPremises, &["NO"], &["NO"], "", &[], &[], None, None, false, Mig::NotPlanned, "", Alt::Adopted),
            ("Zabbix", AppClass::Modern, Hosting::OnPremises, &["NO"], &[], "", &[], &[], None, None, false, Mig::NotPlanned, "", Alt::Adopted),
            ("Microsoft 365", AppClass::Modern, Hosting::Saas, &["IE", "NL"], &["US"], "Ansatte, innbyggere", &["navn", "e-post", "dokumenter"], &[], Some(Basis::PublicTask), Some("2021-06-01"), false, Mig::Migrated, "Bølge 1 (2026)", Alt::Rejected),
        ];
        let apps = self
            .list_items(
                scope,
                &crate::ItemFilter {
                    item_type: Some(drifta_core::cmdb::ItemType::Application),
                    limit: 1000,
                    ..crate::ItemFilter::default()
                },
            )
            .await?;
        let list = |codes: &[&str]| codes.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let mut done = 0;
        for app in apps {
            let Some(row) = ROWS.iter().find(|r| app.name.starts_with(r.0)) else {
                continue;
            };
            let personal = !row.6.is_empty() || !row.7.is_empty();
            let portfolio = Portfolio {
                class: Some(row.1),
                hosting: Some(row.2),
                data_location: list(row.3),
                backup_location: list(row.4),
                security_zone: if row.2 == Hosting::Saas {
                    "Sky"
                } else {
                    "Intern"
                }
                .into(),
                purpose: format!("Drift av {}", app.name),
                data_subjects: row.5.into(),
                personal_data: personal,
                data_categories: list(row.6),
                special_categories: list(row.7),
                legal_basis: row.8,
                dpa_on_file: row.9.is_some(),
                dpa_date: row.9.and_then(|d| d.parse().ok()),
                dpia_done: row.10,
                alternatives: match row.13 {
                    Alt::NotEvaluated => String::new(),
                    Alt::Adopted => "Fri programvare i bruk".into(),
                    _ => "Nextcloud, LibreOffice og Collabora Online vurdert".into(),
                },
                alternative_decision: row.13,
                migration_status: row.11,
                migration_wave: row.12.into(),
            };
            self.set_portfolio(scope, &app.id, portfolio).await?;
            done += 1;
        }
        Ok(done)
    }

    pub async fn seed_demo(&self, hasher: &PasswordHasher) -> Result<(), StoreError> {
        let actor = Actor::system("drifta demo");
        let provider = self
            .create_provider(
                &actor,
                NewTenant {
                    name: "Nordkyst IT".into(),
                    slug: "nordkyst".into(),
                    country: Country::No,
                    time_zone: None,
                    language: None,
                },
            )
            .await?;
        let mut scope = self.installation_scope(actor.clone()).await?;
        let mut slugs: Vec<(&str, TenantId)> = vec![("", provider.id.clone())];
        for m in MUNICIPALITIES {
            let tenant = self
                .create_municipality(
                    &scope,
                    &provider.id,
                    NewTenant {
                        name: m.name.into(),
                        slug: m.slug.into(),
                        country: m.country,
                        time_zone: None,
                        language: None,
                    },
                )
                .await?;
            scope = self.installation_scope(actor.clone()).await?;
            for (name, kind) in m.locations {
                self.create_location(
                    &scope,
                    &tenant.id,
                    NewLocation {
                        name: (*name).into(),
                        kind: *kind,
                        address: String::new(),
                    },
                )
                .await?;
            }
            slugs.push((m.slug, tenant.id));
        }
        let tenant_of = |slug: &str| {
            slugs
                .iter()
                .find(|(s, _)| *s == slug)
                .map(|(_, id)| id.clone())
                .ok_or(StoreError::NotFound)
        };
        let hash = hasher
            .hash(DEMO_PASSWORD)
            .map_err(|e| StoreError::Connect {
                url: String::new(),
                reason: e.to_string(),
            })?;
        for u in USERS {
            let user = self
                .create_user(
                    &scope,
                    NewUser {
                        tenant_id: tenant_of(u.home.unwrap_or(""))?,
                        username: u.username.into(),
                        email: format!("{}@demo.drifta.invalid", u.username),
                        display_name: u.name.into(),
                        phone: u.phone.into(),
                        language: u.language,
                        password_hash: Some(hash.clone()),
                    },
                )
                .await?;
            let grants = u
                .grants
                .iter()
                .map(|(slug, role)| Ok((tenant_of(slug)?, *role)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.set_grants(&scope, &user.id, &grants).await?;
        }
        self.seed_demo_tickets(&scope).await?;
        self.seed_demo_articles(
            &scope,
            &provider.id,
            &tenant_of("egeholm")?,
            &tenant_of("fjordvik")?,
        )
        .await
    }

    /// Knowledge-base articles: one for every municipality of the provider, one Danish
    /// municipality's own, and a draft that only staff see.
    async fn seed_demo_articles(
        &self,
        scope: &drifta_core::Scope,
        provider: &TenantId,
        egeholm: &TenantId,
        fjordvik: &TenantId,
    ) -> Result<(), StoreError> {
        use crate::kb::NewArticle;
        let as_user = |username: &'static str| async move {
            let user = self.find_user_by_username(scope, username).await?;
            self.scope_for(&user, "").await
        };
        let tekniker = as_user("tekniker").await?;
        let tekniker_dk = as_user("tekniker.dk").await?;
        let articles = [
            (
                &tekniker,
                NewArticle {
                    tenant_id: provider.clone(),
                    title: "Slik kobler du til skolens Wi-Fi".into(),
                    body_markdown: WIFI_ARTICLE.into(),
                    published: true,
                },
            ),
            (
                &tekniker_dk,
                NewArticle {
                    tenant_id: egeholm.clone(),
                    title: "Sådan logger du på rådhusets pc'er med MitID".into(),
                    body_markdown: MITID_ARTICLE.into(),
                    published: true,
                },
            ),
            (
                &tekniker,
                NewArticle {
                    tenant_id: fjordvik.clone(),
                    title: "Utkast: Nye skrivere på Fjordvik rådhus".into(),
                    body_markdown: PRINTER_DRAFT.into(),
                    published: false,
                },
            ),
        ];
        for (author, article) in articles {
            self.create_article(author, article).await?;
        }
        Ok(())
    }

    /// Where demo callers sit, and a few tickets in different states in every municipality.
    async fn seed_demo_tickets(&self, scope: &drifta_core::Scope) -> Result<(), StoreError> {
        use crate::tickets::NewTicket;
        use drifta_core::ticket::{Level, TicketKind, TicketStatus};
        let locations = self.list_locations(scope, None).await?;
        let place = |name: &str| {
            locations
                .iter()
                .find(|l| l.name == name)
                .map(|l| l.id.clone())
        };
        for (username, location) in [
            ("laerer.fjordvik", "Fjordvik skole"),
            ("koordinator.fjordvik", "Fjordvik rådhus"),
            ("sygeplejerske.vindaa", "Plejehjemmet Åbo"),
            ("koordinator.egeholm", "Egeholm Rådhus"),
            ("koordinator.lysberg", "Lysberg rådhus"),
            ("driftssjef.skjaervag", "Øyriket driftssenter"),
        ] {
            let user = self.find_user_by_username(scope, username).await?;
            self.set_user_location(scope, &user.id, place(location).as_ref())
                .await?;
        }
        let tickets: &[(&str, &str, &str, Level, Level, TicketStatus)] = &[
            (
                "laerer.fjordvik",
                "Prosjektoren i klasserom 3 viser ikke bilde",
                "Fjordvik skole",
                Level::Medium,
                Level::High,
                TicketStatus::Open,
            ),
            (
                "laerer.fjordvik",
                "Ny app til iPadene i 5. klasse",
                "Fjordvik skole",
                Level::Low,
                Level::Medium,
                TicketStatus::New,
            ),
            (
                "koordinator.fjordvik",
                "Skriveren i ekspedisjonen skriver ut blanke ark",
                "Fjordvik rådhus",
                Level::Low,
                Level::Low,
                TicketStatus::WaitingRequester,
            ),
            (
                "koordinator.lysberg",
                "Kan ikke logge inn i sak/arkiv etter migreringen",
                "Lysberg rådhus",
                Level::High,
                Level::High,
                TicketStatus::Open,
            ),
            (
                "sygeplejerske.vindaa",
                "Trygghedsalarm i lejlighed 12 melder lavt batteri",
                "Plejehjemmet Åbo",
                Level::High,
                Level::Medium,
                TicketStatus::New,
            ),
            (
                "koordinator.egeholm",
                "Ny medarbejder skal have adgang til NemID/MitID-administration",
                "Egeholm Rådhus",
                Level::Low,
                Level::Medium,
                TicketStatus::WaitingSupplier,
            ),
            (
                "driftssjef.skjaervag",
                "Backup av filserveren rapporterte feil i natt",
                "Øyriket driftssenter",
                Level::High,
                Level::High,
                TicketStatus::Resolved,
            ),
        ];
        for (username, title, location, impact, urgency, status) in tickets {
            let requester = self.find_user_by_username(scope, username).await?;
            let ticket = self
                .create_ticket(
                    scope,
                    NewTicket {
                        tenant_id: requester.tenant_id.clone(),
                        kind: if title.starts_with("Ny") {
                            TicketKind::ServiceRequest
                        } else {
                            TicketKind::Incident
                        },
                        title: (*title).into(),
                        description: String::new(),
                        requester_id: Some(requester.id.clone()),
                        location_id: place(location),
                        category: String::new(),
                        impact: *impact,
                        urgency: *urgency,
                        channel: "phone".into(),
                    },
                )
                .await?;
            let path: &[TicketStatus] = match status {
                TicketStatus::New => &[],
                TicketStatus::Open => &[TicketStatus::Open],
                TicketStatus::WaitingRequester => {
                    &[TicketStatus::Open, TicketStatus::WaitingRequester]
                }
                TicketStatus::WaitingSupplier => {
                    &[TicketStatus::Open, TicketStatus::WaitingSupplier]
                }
                _ => &[TicketStatus::Open, TicketStatus::Resolved],
            };
            for next in path {
                self.set_status(scope, &ticket.id, *next).await?;
            }
        }
        Ok(())
    }
}

const WIFI_ARTICLE: &str = "Alle skoler i kommunene våre har to trådløse nett:

- **Skole** for ansatte og elever med skolekonto
- **Gjest** for besøkende (ingen tilgang til skrivere eller fellesområder)

## Slik kobler du til *Skole*

1. Åpne Wi-Fi-innstillingene og velg **Skole**.
2. Logg på med skolekontoen din, for eksempel `ola.nordmann@skole.no`, og passordet ditt.
3. Godta sertifikatet hvis du blir spurt. Det skal være utstedt til `radius.nordkyst.no`.

## Virker det ikke?

- Slå Wi-Fi av og på, og prøv igjen.
- På iPad: velg **Glem dette nettverket** og koble til på nytt.
- Har du byttet passord nylig, må du skrive inn det nye.

Fortsatt problemer? Meld en sak under **Saker**, og skriv hvilket rom du er i.
";

const MITID_ARTICLE: &str =
    "Fra 1. marts logger alle medarbejdere på rådhusets pc'er med MitID Erhverv.

## Første gang

1. Tænd pc'en og vælg **Log på med MitID**.
2. Åbn MitID-appen på din telefon og godkend.
3. Vælg din medarbejderidentitet i **Egeholm Kommune**.

## Hvis det ikke virker

- Tjek at telefonen har forbindelse til internettet.
- Har du fået ny telefon, skal MitID-appen aktiveres igen.

Ring til servicedesk på 20 10 00 04, hvis du stadig ikke kan logge på.
";

const PRINTER_DRAFT: &str = "Nye multifunksjonsskrivere settes opp i uke 12.

- [ ] Bekreft plassering med ekspedisjonen
- [ ] Legg inn skriverkø `RH-1-MFP` på alle PC-er

*Utkast: ikke publiser før skriverne er på plass.*
";
