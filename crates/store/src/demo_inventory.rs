//! Demo inventory: suppliers and contracts of the provider, and what each demo municipality
//! runs: PCs, pupils' iPads, thin clients, phones and printers per location, a site router
//! with a fibre link and a 4G/5G backup, safety alarms in the care homes, and the shared
//! servers, databases and applications of the host municipality's operations centre that
//! all five use through their services.
//!
//! Deterministic: a fixed-seed generator and dates counted from the store's clock (so the
//! warranties and contracts that end "soon" do so whenever the demo is created). Everything
//! goes through the ordinary store calls, audited, as the demo's provider administrator.

use crate::db::Store;
use crate::error::StoreError;
use crate::inventory::{ItemInput, NewContract, NewItem, NewSupplier};
use crate::tickets::{QueueFilter, StatusFilter};
use drifta_core::cmdb::{Disposal, ItemType, Lifecycle, RelationType};
use drifta_core::tenant::{LocationKind, TenantKind};
use drifta_core::{Country, Scope, TenantId};
use jiff::Span;
use jiff::civil::Date;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

/// What [`seed_inventory`] created, for the log line of `drifta demo`.
#[derive(Clone, Debug, Default)]
pub(crate) struct InventoryCounts {
    /// Items per municipality (in creation order) and type.
    pub items: Vec<(String, BTreeMap<&'static str, usize>)>,
    pub suppliers: usize,
    pub contracts: usize,
    pub contracts_ending_90_days: usize,
    pub relations: usize,
    pub ticket_links: usize,
    pub retired: usize,
    pub disposed: usize,
    pub warranty_ending_90_days: usize,
    pub elapsed: Duration,
}

impl InventoryCounts {
    pub fn total_items(&self) -> usize {
        self.items
            .iter()
            .map(|(_, m)| m.values().sum::<usize>())
            .sum()
    }

    fn add(&mut self, municipality: &str, item_type: ItemType) {
        let entry = match self.items.iter().position(|(m, _)| m == municipality) {
            Some(i) => &mut self.items[i].1,
            None => {
                self.items.push((municipality.to_string(), BTreeMap::new()));
                &mut self.items.last_mut().expect("just pushed").1
            }
        };
        *entry.entry(item_type.as_str()).or_default() += 1;
    }
}

impl fmt::Display for InventoryCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} items, {} relations, {} suppliers, {} contracts ({} ending within 90 days), \
             {} ticket links, {} retired, {} disposed, {} warranties ending within 90 days, \
             in {} ms",
            self.total_items(),
            self.relations,
            self.suppliers,
            self.contracts,
            self.contracts_ending_90_days,
            self.ticket_links,
            self.retired,
            self.disposed,
            self.warranty_ending_90_days,
            self.elapsed.as_millis()
        )?;
        for (municipality, types) in &self.items {
            let list: Vec<String> = types.iter().map(|(t, n)| format!("{t} {n}")).collect();
            write!(
                f,
                "\n  {municipality}: {} ({})",
                types.values().sum::<usize>(),
                list.join(", ")
            )?;
        }
        Ok(())
    }
}

/// SplitMix64: tiny, fixed forever (a library generator may change its stream between
/// versions, and the demo should look the same after an upgrade).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1).max(1) as u64) as i64
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| *self.pick(alphabet) as char).collect()
    }

    fn digits(&mut self, n: usize) -> String {
        self.chars(b"0123456789", n)
    }

    fn mac(&mut self) -> String {
        let bytes: Vec<String> = (0..6)
            .map(|i| {
                let b = (self.next() & 0xff) as u8;
                // Unicast, globally administered, as a vendor's card would be.
                format!("{:02x}", if i == 0 { b & 0xfc } else { b })
            })
            .collect();
        bytes.join(":")
    }
}

const SERIAL_CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";

/// How each demo municipality is equipped.
struct Profile {
    slug: &'static str,
    /// Prefix of host names and (upper-case) asset tags.
    code: &'static str,
    /// Percent of the base equipment of each location.
    scale: u32,
    /// Moved everything to the public cloud: laptops only, no desktop PCs.
    cloud: bool,
    /// Second octet of the municipality's addresses.
    net: u8,
}

const PROFILES: &[Profile] = &[
    Profile {
        slug: "fjordvik",
        code: "fjv",
        scale: 60,
        cloud: false,
        net: 10,
    },
    Profile {
        slug: "lysberg",
        code: "lys",
        scale: 100,
        cloud: true,
        net: 20,
    },
    Profile {
        slug: "egeholm",
        code: "ege",
        scale: 90,
        cloud: false,
        net: 30,
    },
    Profile {
        slug: "skjaervag",
        code: "skv",
        scale: 110,
        cloud: false,
        net: 40,
    },
    Profile {
        slug: "vindaa",
        code: "vin",
        scale: 150,
        cloud: false,
        net: 50,
    },
];

/// The host municipality, whose operations centre runs the shared servers.
const HOST: &str = "skjaervag";

/// Base equipment of a location of a kind, before a municipality's scale.
#[derive(Clone, Copy, Default)]
struct Mix {
    workstations: u32,
    laptops: u32,
    tablets: u32,
    thin_clients: u32,
    phones: u32,
    printers: u32,
    access_points: u32,
    alarms: u32,
}

fn mix(kind: LocationKind) -> Mix {
    let m =
        |workstations, laptops, tablets, thin_clients, phones, printers, access_points, alarms| {
            Mix {
                workstations,
                laptops,
                tablets,
                thin_clients,
                phones,
                printers,
                access_points,
                alarms,
            }
        };
    match kind {
        LocationKind::TownHall => m(24, 30, 4, 0, 20, 4, 4, 0),
        LocationKind::School => m(8, 18, 80, 0, 4, 3, 8, 0),
        LocationKind::CareHome => m(6, 6, 12, 0, 16, 2, 4, 36),
        LocationKind::Kindergarten => m(0, 4, 8, 0, 5, 1, 2, 0),
        LocationKind::OperationsCentre => m(12, 14, 0, 0, 12, 2, 2, 0),
        LocationKind::Office => m(4, 4, 0, 18, 10, 3, 2, 0),
        LocationKind::Other => m(2, 2, 0, 0, 2, 1, 1, 0),
    }
}

/// A supplier of the provider: key, name, organisation number, contact.
const SUPPLIERS: &[(&str, &str, &str, &str)] = &[
    (
        "net",
        "Fjordnett AS",
        "NO 921 004 117",
        "Kundesenter +47 55 10 20 30, kunde@fjordnett.demo.drifta.invalid",
    ),
    (
        "mobile",
        "Kystmobil AS",
        "NO 918 332 605",
        "Bedriftsservice +47 55 40 50 60, bedrift@kystmobil.demo.drifta.invalid",
    ),
    (
        "net_dk",
        "Dansk Fibernet A/S",
        "DK 39 10 44 72",
        "Driftscenter +45 70 20 30 40, drift@fibernet.demo.drifta.invalid",
    ),
    (
        "cloud",
        "Nordlys Skytjenester AS",
        "NO 926 118 540",
        "Servicedesk +47 21 00 40 00, support@nordlys-sky.demo.drifta.invalid",
    ),
    (
        "pc",
        "Datakompaniet Nord AS",
        "NO 914 772 031",
        "Ordre +47 75 50 60 70, ordre@datakompaniet.demo.drifta.invalid",
    ),
    (
        "pc_dk",
        "IT-Grossisten Jylland A/S",
        "DK 35 82 19 06",
        "Salg +45 86 10 20 30, salg@itgrossisten.demo.drifta.invalid",
    ),
    (
        "ipad",
        "Læringsteknikk AS",
        "NO 923 561 884",
        "Skoleteam +47 22 30 40 50, skole@laeringsteknikk.demo.drifta.invalid",
    ),
    (
        "print",
        "Kontorteknikk Nord AS",
        "NO 912 840 376",
        "Service +47 75 20 30 40, service@kontorteknikk.demo.drifta.invalid",
    ),
    (
        "print_dk",
        "Kopicentralen Fyn ApS",
        "DK 41 27 63 90",
        "Service +45 66 10 20 30, service@kopicentralen.demo.drifta.invalid",
    ),
    (
        "server",
        "Serverhuset Bergen AS",
        "NO 917 223 409",
        "Teknisk support +47 55 60 70 80, support@serverhuset.demo.drifta.invalid",
    ),
    (
        "erp",
        "Nordøk Systemer AS",
        "NO 985 410 226",
        "Kundestøtte +47 73 10 20 30, support@nordok.demo.drifta.invalid",
    ),
    (
        "journal",
        "Omsorgsdata AS",
        "NO 979 652 113",
        "Brukerstøtte +47 22 80 90 00, brukerstotte@omsorgsdata.demo.drifta.invalid",
    ),
    (
        "archive",
        "Arkivhuset AS",
        "NO 988 031 574",
        "Support +47 22 40 50 60, support@arkivhuset.demo.drifta.invalid",
    ),
    (
        "welfare",
        "Trygghetsteknikk AS",
        "NO 915 604 882",
        "Døgnvakt +47 800 10 020, vakt@trygghetsteknikk.demo.drifta.invalid",
    ),
    (
        "welfare_dk",
        "Dansk Velfærdsteknik ApS",
        "DK 38 71 05 24",
        "Døgnservice +45 70 11 22 33, service@velfaerdsteknik.demo.drifta.invalid",
    ),
    (
        "recycler",
        "Grønn Retur AS",
        "NO 919 447 160",
        "Henting +47 51 20 30 40, henting@gronnretur.demo.drifta.invalid",
    ),
];

/// A contract: key, supplier key, name, start and end in days from today (no end: running
/// until terminated), notice months, annual cost, currency, and the municipality that holds
/// it ("" for the provider).
type ContractRow = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<i64>,
    i64,
    i64,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
const CONTRACTS: &[ContractRow] = &[
    ("sdwan", "net", "SD-WAN og fiber, alle norske lokasjoner", -1100, Some(330), 6, 1_240_000, "NOK", ""),
    ("mobile", "mobile", "4G/5G-reserve og mobilabonnement", -400, Some(60), 3, 186_000, "NOK", ""),
    ("wan_dk", "net_dk", "WAN-aftale: fiber og 5G-backup", -900, Some(520), 6, 455_000, "DKK", ""),
    ("pc", "pc", "PC-avtale: leie og service", -1300, Some(160), 6, 2_350_000, "NOK", ""),
    ("pc_dk", "pc_dk", "Rammeaftale: pc'er, tynde klienter og iPads", -700, Some(760), 6, 1_890_000, "DKK", ""),
    ("ipad", "ipad", "Leie av elev-iPader", -500, Some(960), 3, 1_120_000, "NOK", ""),
    ("print", "print", "Skriverleie med service", -1400, Some(35), 3, 342_000, "NOK", ""),
    ("print_dk", "print_dk", "Printaftale: leasing og service", -300, Some(1100), 3, 198_000, "DKK", ""),
    ("server", "server", "Serverplattform og lagring, Øyriket driftssenter", -900, Some(930), 6, 720_000, "NOK", ""),
    ("erp", "erp", "Nordøk ERP: lisens og drift", -1500, Some(45), 6, 1_460_000, "NOK", ""),
    ("journal", "journal", "Omsorgsjournal: lisens og vedlikehold", -800, Some(1030), 12, 985_000, "NOK", ""),
    ("archive", "archive", "Sak/arkiv: lisens og support", -1800, Some(80), 3, 615_000, "NOK", ""),
    ("welfare", "welfare", "Trygghetsalarmer: leie og mottaksplattform", -600, Some(500), 6, 412_000, "NOK", ""),
    ("welfare_vin", "welfare_dk", "Tryghedsalarmer, Vindå Kommune", -200, Some(1260), 6, 284_000, "DKK", "vindaa"),
    ("welfare_ege", "welfare_dk", "Tryghedsalarmer, Egeholm Kommune", -1000, Some(20), 3, 131_000, "DKK", "egeholm"),
    ("cloud_lys", "cloud", "Skytjenester og lisenser, Lysberg", -420, Some(675), 3, 760_000, "NOK", "lysberg"),
    ("recycling", "recycler", "Gjenvinning av EE-avfall med sertifisert sletting", -250, None, 1, 38_000, "NOK", ""),
];

/// Shared applications of the operations centre: key, name, VM key, database key (or ""),
/// contract key (or ""), version.
#[rustfmt::skip]
const APPS: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("archive", "Arkivhuset Sak/arkiv", "sak01", "db_archive", "archive", "2024.2"),
    ("erp", "Nordøk ERP", "erp01", "db_erp", "erp", "11.4"),
    ("journal", "Omsorgsjournal", "jrn01", "db_journal", "journal", "8.1.3"),
    ("messages", "Meldingsformidler helse (e-meldinger)", "msg01", "", "journal", "3.6"),
    ("alarm", "Trygghetsalarm mottaksplattform", "alarm01", "db_alarm", "welfare", "5.2"),
    ("mdm", "Elev-iPad MDM", "mdm01", "", "ipad", "10.54"),
    ("radius", "FreeRADIUS skole-Wi-Fi", "radius01", "", "", "3.2.3"),
    ("identity", "Active Directory og Entra ID Connect", "dc01", "", "", "2022"),
    ("rds", "Fjernskrivebord (RDS)", "rdgw01", "", "", "2022"),
    ("files", "Filtjeneste og fellesområder", "fil01", "", "", "2019"),
    ("print", "Utskriftstjeneste", "print01", "", "print", "22.1"),
    ("nextcloud", "Nextcloud", "nc01", "db_nextcloud", "", "29.0.4"),
    ("backup", "Proxmox Backup Server", "backup01", "", "server", "3.2"),
    ("monitoring", "Zabbix overvåking", "mon01", "", "", "7.0"),
];

/// Virtual machines of the operations centre: key, purpose, operating system, cores, GB.
#[rustfmt::skip]
const VMS: &[(&str, &str, &str, i64, i64)] = &[
    ("sak01", "sak/arkiv applikasjon", "Windows Server 2022", 8, 32),
    ("sakdb01", "sak/arkiv database", "Ubuntu 22.04 LTS", 8, 64),
    ("erp01", "ERP applikasjon", "Windows Server 2022", 8, 32),
    ("erpdb01", "ERP database", "Windows Server 2022", 16, 128),
    ("jrn01", "omsorgsjournal applikasjon", "Windows Server 2022", 8, 32),
    ("jrndb01", "omsorgsjournal database", "Ubuntu 24.04 LTS", 8, 64),
    ("msg01", "meldingsformidler", "Ubuntu 22.04 LTS", 4, 8),
    ("alarm01", "trygghetsalarm mottak", "Ubuntu 22.04 LTS", 4, 16),
    ("mdm01", "iPad-administrasjon", "Ubuntu 22.04 LTS", 4, 16),
    ("radius01", "RADIUS for skole-Wi-Fi", "Debian 12", 2, 4),
    ("radius02", "RADIUS for skole-Wi-Fi (replika)", "Debian 12", 2, 4),
    ("dc01", "domenekontroller", "Windows Server 2022", 4, 16),
    ("dc02", "domenekontroller (replika)", "Windows Server 2022", 4, 16),
    ("fil01", "filserver", "Windows Server 2019", 4, 32),
    ("print01", "utskriftsserver", "Windows Server 2022", 4, 8),
    ("rdgw01", "RDS gateway og megler", "Windows Server 2022", 4, 16),
    ("rds01", "RDS sesjonsvert", "Windows Server 2022", 16, 128),
    ("rds02", "RDS sesjonsvert", "Windows Server 2022", 16, 128),
    ("rds03", "RDS sesjonsvert", "Windows Server 2022", 16, 128),
    ("rds04", "RDS sesjonsvert", "Windows Server 2022", 16, 128),
    ("nc01", "Nextcloud", "Debian 12", 8, 32),
    ("backup01", "backupserver", "Debian 12", 8, 64),
    ("mon01", "overvåking", "Debian 12", 4, 16),
    ("web01", "intranett", "Debian 12", 2, 8),
];

/// Databases: key, name, VM key, engine, version.
#[rustfmt::skip]
const DATABASES: &[(&str, &str, &str, &str, &str)] = &[
    ("db_archive", "Sak/arkiv-database", "sakdb01", "PostgreSQL", "15.7"),
    ("db_erp", "ERP-database", "erpdb01", "Microsoft SQL Server", "2019"),
    ("db_journal", "Omsorgsjournal-database", "jrndb01", "PostgreSQL", "16.3"),
    ("db_alarm", "Alarmdatabase", "alarm01", "MariaDB", "10.11"),
    ("db_nextcloud", "Nextcloud-database", "nc01", "PostgreSQL", "15.7"),
];

/// A municipality's services: Norwegian name, Danish name, service hours (no, da), the
/// shared applications they depend on.
#[rustfmt::skip]
const SERVICES: &[(&str, &str, &str, &str, &[&str])] = &[
    ("Hjemmetjeneste journal", "Hjemmeplejejournal", "Døgnet rundt", "Døgnet rundt", &["journal", "messages"]),
    ("Sak/arkiv", "Sag og arkiv", "Hverdager 07–17", "Hverdage 07–17", &["archive", "identity"]),
    ("Økonomi og lønn", "Økonomi og løn", "Hverdager 07–17", "Hverdage 07–17", &["erp"]),
    ("Skole-Wi-Fi", "Skole-Wi-Fi", "Skoledager 07–17", "Skoledage 07–17", &["radius"]),
    ("Trygghetsalarm", "Tryghedsalarm", "Døgnet rundt", "Døgnet rundt", &["alarm"]),
    ("Elev-iPad", "Elev-iPad", "Skoledager 07–17", "Skoledage 07–17", &["mdm"]),
    ("Pålogging og fellesområder", "Log-in og fællesdrev", "Hverdager 07–17", "Hverdage 07–17", &["identity", "files"]),
    ("Utskrift", "Print", "Hverdager 07–17", "Hverdage 07–17", &["print"]),
];

/// One location of a municipality, with its short code for host names.
struct Site {
    id: String,
    name: String,
    kind: LocationKind,
    code: String,
    /// Third octet of its addresses.
    subnet: u32,
}

/// The municipality being equipped.
struct Muni<'p> {
    profile: &'p Profile,
    tenant: TenantId,
    name: String,
    danish: bool,
}

impl Muni<'_> {
    fn t<'s>(&self, no: &'s str, da: &'s str) -> &'s str {
        if self.danish { da } else { no }
    }
}

struct Gen<'a> {
    store: &'a Store,
    scope: &'a Scope,
    rng: Rng,
    today: Date,
    counts: InventoryCounts,
    suppliers: HashMap<&'static str, String>,
    contracts: HashMap<&'static str, String>,
    /// Natural keys used so far, per municipality.
    keys: HashSet<(String, String)>,
    /// Asset tags handed out per municipality.
    tags: HashMap<String, u32>,
    /// Item ids by (municipality slug, item name), for relations and ticket links.
    named: HashMap<(&'static str, String), String>,
}

/// Fields of an item other than its name and type.
#[derive(Default)]
struct Extra {
    location: Option<String>,
    owner: String,
    supplier: &'static str,
    contract: &'static str,
    serial: Option<String>,
    hostname: Option<String>,
    asset_tag: bool,
    /// Years of warranty from the purchase date; 0 for items bought without one.
    warranty_years: i64,
    lifecycle: Option<Lifecycle>,
    attributes: Vec<(&'static str, String)>,
}

impl Gen<'_> {
    fn day(&self, offset: i64) -> String {
        self.today
            .saturating_add(Span::new().days(offset))
            .to_string()
    }

    /// A key (serial number, host name) not used before in the municipality.
    fn unique(&mut self, slug: &str, mut make: impl FnMut(&mut Rng) -> String) -> String {
        loop {
            let key = make(&mut self.rng);
            if self.keys.insert((slug.to_string(), key.clone())) {
                return key;
            }
        }
    }

    fn serial(&mut self, slug: &str, prefix: &str, len: usize) -> String {
        self.unique(slug, |r| format!("{prefix}{}", r.chars(SERIAL_CHARS, len)))
    }

    /// Mostly in use; some spare, some at the repairer, some retired.
    fn lifecycle(&mut self) -> Lifecycle {
        match self.rng.range(0, 99) {
            0..=2 => Lifecycle::InStock,
            3 => Lifecycle::InRepair,
            4..=8 => Lifecycle::Retired,
            _ => Lifecycle::Deployed,
        }
    }

    async fn item(
        &mut self,
        m: &Muni<'_>,
        item_type: ItemType,
        name: String,
        x: Extra,
    ) -> Result<String, StoreError> {
        let lifecycle = x.lifecycle.unwrap_or(Lifecycle::Deployed);
        let (purchased_on, warranty_until) = if x.warranty_years > 0 {
            let age = if lifecycle == Lifecycle::Retired {
                self.rng.range(1500, 2600)
            } else {
                self.rng.range(20, 1750)
            };
            let bought = self.today.saturating_add(Span::new().days(-age));
            let until = bought.saturating_add(Span::new().years(x.warranty_years));
            (Some(bought.to_string()), Some(until))
        } else {
            (None, None)
        };
        if let Some(until) = warranty_until
            && until >= self.today
            && until <= self.today.saturating_add(Span::new().days(90))
            && lifecycle != Lifecycle::Retired
        {
            self.counts.warranty_ending_90_days += 1;
        }
        let asset_tag = if x.asset_tag {
            let n = self.tags.entry(m.profile.slug.to_string()).or_insert(0);
            *n += 1;
            Some(format!("{}-{:05}", m.profile.code.to_uppercase(), *n))
        } else {
            None
        };
        let id = self
            .store
            .create_item(
                self.scope,
                NewItem {
                    tenant_id: m.tenant.clone(),
                    item_type,
                    lifecycle,
                    input: ItemInput {
                        name: name.clone(),
                        location_id: x.location,
                        owner: x.owner,
                        supplier_id: self.suppliers.get(x.supplier).cloned(),
                        contract_id: self.contracts.get(x.contract).cloned(),
                        serial_number: x.serial,
                        hostname: x.hostname,
                        asset_tag,
                        purchased_on,
                        warranty_until: warranty_until.map(|d| d.to_string()),
                        attributes: x
                            .attributes
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect(),
                    },
                },
            )
            .await?
            .summary
            .id;
        self.counts.add(&m.name, item_type);
        if lifecycle == Lifecycle::Retired {
            self.counts.retired += 1;
        }
        self.named
            .entry((m.profile.slug, name))
            .or_insert_with(|| id.clone());
        Ok(id)
    }

    async fn relate(
        &mut self,
        from: &str,
        relation: RelationType,
        to: &str,
    ) -> Result<(), StoreError> {
        self.store
            .relate_items(self.scope, from, relation, to)
            .await?;
        self.counts.relations += 1;
        Ok(())
    }

    fn id_of(&self, slug: &'static str, name: &str) -> Option<String> {
        self.named.get(&(slug, name.to_string())).cloned()
    }

    async fn seed_suppliers_and_contracts(
        &mut self,
        provider: &TenantId,
        tenant_of: &HashMap<&str, TenantId>,
    ) -> Result<(), StoreError> {
        for (key, name, org_number, contact) in SUPPLIERS {
            let supplier = self
                .store
                .create_supplier(
                    self.scope,
                    provider,
                    NewSupplier {
                        name: (*name).into(),
                        org_number: (*org_number).into(),
                        contact: (*contact).into(),
                    },
                )
                .await?;
            self.suppliers.insert(*key, supplier.id);
            self.counts.suppliers += 1;
        }
        for (key, supplier, name, starts, ends, notice, cost, currency, holder) in CONTRACTS {
            let tenant = if holder.is_empty() {
                provider.clone()
            } else {
                tenant_of.get(holder).cloned().ok_or(StoreError::NotFound)?
            };
            let contract = self
                .store
                .create_contract(
                    self.scope,
                    &tenant,
                    NewContract {
                        supplier_id: self.suppliers[supplier].clone(),
                        name: (*name).into(),
                        starts_on: Some(self.day(*starts)),
                        ends_on: ends.map(|e| self.day(e)),
                        notice_months: *notice,
                        annual_cost: *cost,
                        currency: (*currency).into(),
                    },
                )
                .await?;
            self.contracts.insert(*key, contract.id);
            self.counts.contracts += 1;
            if ends.is_some_and(|e| (0..=90).contains(&e)) {
                self.counts.contracts_ending_90_days += 1;
            }
        }
        Ok(())
    }

    /// The operations centre's platform: hosts, cluster, storage, VMs, databases and the
    /// applications every municipality uses. Returns application ids by key.
    async fn seed_shared(
        &mut self,
        m: &Muni<'_>,
        centre: &Site,
        core_switch: &str,
    ) -> Result<HashMap<&'static str, String>, StoreError> {
        let owner = "Øyriket IT-drift".to_string();
        let slug = m.profile.slug;
        let base = |x: Extra| Extra {
            location: Some(centre.id.clone()),
            owner: owner.clone(),
            ..x
        };
        let ip = |n: u32| format!("10.{}.100.{n}", m.profile.net);
        // Two data-centre switches, each uplinked to the core.
        let mut dc_switches = Vec::new();
        for (i, side) in ["A", "B"].iter().enumerate() {
            let serial = self.serial(slug, "CN", 8);
            let id = self
                .item(
                    m,
                    ItemType::NetworkDevice,
                    format!("Datasenter-svitsj {side}"),
                    base(Extra {
                        serial: Some(serial),
                        hostname: Some(format!("oyr-dcsw0{}", i + 1)),
                        asset_tag: true,
                        warranty_years: 5,
                        supplier: "net",
                        contract: "sdwan",
                        attributes: vec![
                            ("model", "Aruba CX 8360".into()),
                            ("device_role", "switch".into()),
                            ("ip_address", ip(2 + i as u32)),
                            ("firmware", "AOS-CX 10.13".into()),
                        ],
                        ..Extra::default()
                    }),
                )
                .await?;
            self.relate(&id, RelationType::ConnectsTo, core_switch)
                .await?;
            dc_switches.push(id);
        }
        // Four hosts; the cluster needs one of them (connects_to is the one relation
        // where an item needs only one of several).
        let mut hosts = Vec::new();
        for n in 1..=4u32 {
            let serial = self.serial(slug, "", 7);
            let id = self
                .item(
                    m,
                    ItemType::PhysicalServer,
                    format!("oyr-pve0{n}"),
                    base(Extra {
                        serial: Some(serial),
                        hostname: Some(format!("oyr-pve0{n}")),
                        asset_tag: true,
                        warranty_years: 5,
                        supplier: "server",
                        contract: "server",
                        attributes: vec![
                            ("model", "Dell PowerEdge R760".into()),
                            ("operating_system", "Proxmox VE 8.2".into()),
                            ("ip_address", ip(10 + n)),
                            ("cpu_cores", "64".into()),
                            ("memory_gb", "768".into()),
                        ],
                        ..Extra::default()
                    }),
                )
                .await?;
            for switch in &dc_switches {
                self.relate(&id, RelationType::ConnectsTo, switch).await?;
            }
            hosts.push(id);
        }
        // The VMware host the cluster replaced, waiting for the recycler.
        let serial = self.serial(slug, "", 7);
        self.item(
            m,
            ItemType::PhysicalServer,
            "oyr-esx03 (gammel VMware-vert)".into(),
            base(Extra {
                serial: Some(serial),
                hostname: Some("oyr-esx03".into()),
                asset_tag: true,
                warranty_years: 5,
                lifecycle: Some(Lifecycle::Retired),
                supplier: "server",
                attributes: vec![
                    ("model", "HPE ProLiant DL380 Gen9".into()),
                    ("operating_system", "VMware ESXi 6.7".into()),
                    ("cpu_cores", "24".into()),
                    ("memory_gb", "256".into()),
                ],
                ..Extra::default()
            }),
        )
        .await?;
        let serial = self.serial(slug, "TN", 8);
        let san = self
            .item(
                m,
                ItemType::Storage,
                "Øyriket SAN".into(),
                base(Extra {
                    serial: Some(serial),
                    hostname: Some("oyr-san01".into()),
                    asset_tag: true,
                    warranty_years: 5,
                    supplier: "server",
                    contract: "server",
                    attributes: vec![
                        ("model", "TrueNAS M50".into()),
                        ("capacity_tb", "240".into()),
                    ],
                    ..Extra::default()
                }),
            )
            .await?;
        let serial = self.serial(slug, "SY", 8);
        let backup_store = self
            .item(
                m,
                ItemType::Storage,
                "Øyriket backup-lager".into(),
                base(Extra {
                    serial: Some(serial),
                    hostname: Some("oyr-bak01".into()),
                    asset_tag: true,
                    warranty_years: 5,
                    supplier: "server",
                    contract: "server",
                    attributes: vec![
                        ("model", "Synology HD6500".into()),
                        ("capacity_tb", "480".into()),
                    ],
                    ..Extra::default()
                }),
            )
            .await?;
        let offsite = self
            .item(
                m,
                ItemType::Storage,
                "Off-site backup, Stockholm".into(),
                Extra {
                    owner: owner.clone(),
                    supplier: "cloud",
                    attributes: vec![
                        ("model", "Objektlagring (S3), EU".into()),
                        ("capacity_tb", "500".into()),
                    ],
                    ..Extra::default()
                },
            )
            .await?;
        self.relate(&san, RelationType::ConnectsTo, &dc_switches[0])
            .await?;
        self.relate(&san, RelationType::ConnectsTo, &dc_switches[1])
            .await?;
        self.relate(&offsite, RelationType::BacksUp, &backup_store)
            .await?;
        let cluster = self
            .item(
                m,
                ItemType::HypervisorCluster,
                "Øyriket Proxmox-klynge".into(),
                base(Extra {
                    supplier: "server",
                    contract: "server",
                    attributes: vec![("platform", "proxmox".into()), ("host_count", "4".into())],
                    ..Extra::default()
                }),
            )
            .await?;
        for host in &hosts {
            self.relate(&cluster, RelationType::ConnectsTo, host)
                .await?;
        }
        self.relate(&cluster, RelationType::DependsOn, &san).await?;

        let mut vms = HashMap::new();
        for (i, (key, purpose, os, cores, memory)) in VMS.iter().enumerate() {
            let host = format!("oyr-{key}");
            let id = self
                .item(
                    m,
                    ItemType::VirtualMachine,
                    host.clone(),
                    Extra {
                        location: Some(centre.id.clone()),
                        owner: format!("{owner} ({purpose})"),
                        hostname: Some(host),
                        attributes: vec![
                            ("operating_system", (*os).into()),
                            ("ip_address", format!("10.{}.110.{}", m.profile.net, 10 + i)),
                            ("cpu_cores", cores.to_string()),
                            ("memory_gb", memory.to_string()),
                        ],
                        ..Extra::default()
                    },
                )
                .await?;
            self.relate(&id, RelationType::RunsOn, &cluster).await?;
            self.relate(&backup_store, RelationType::BacksUp, &id)
                .await?;
            vms.insert(*key, id);
        }
        for (replica, primary) in [("radius02", "radius01"), ("dc02", "dc01")] {
            self.relate(&vms[replica], RelationType::BacksUp, &vms[primary])
                .await?;
        }
        let mut databases = HashMap::new();
        for (key, name, vm, engine, version) in DATABASES {
            let id = self
                .item(
                    m,
                    ItemType::Database,
                    (*name).into(),
                    Extra {
                        location: Some(centre.id.clone()),
                        owner: owner.clone(),
                        attributes: vec![
                            ("engine", (*engine).into()),
                            ("version", (*version).into()),
                        ],
                        ..Extra::default()
                    },
                )
                .await?;
            self.relate(&id, RelationType::RunsOn, &vms[vm]).await?;
            databases.insert(*key, id);
        }
        let mut apps = HashMap::new();
        for (key, name, vm, database, contract, version) in APPS {
            let supplier = match *contract {
                "archive" | "erp" | "journal" | "welfare" | "ipad" | "print" | "server" => {
                    *contract
                }
                _ => "",
            };
            let id = self
                .item(
                    m,
                    ItemType::Application,
                    (*name).into(),
                    Extra {
                        owner: owner.clone(),
                        supplier,
                        contract,
                        attributes: vec![("version", (*version).into())],
                        ..Extra::default()
                    },
                )
                .await?;
            self.relate(&id, RelationType::RunsOn, &vms[vm]).await?;
            if !database.is_empty() {
                self.relate(&id, RelationType::DependsOn, &databases[database])
                    .await?;
            }
            apps.insert(*key, id);
        }
        for (from, to) in [
            ("journal", "messages"),
            ("journal", "identity"),
            ("archive", "identity"),
            ("erp", "identity"),
            ("rds", "identity"),
            ("rds", "files"),
            ("files", "identity"),
            ("print", "identity"),
            ("radius", "identity"),
        ] {
            self.relate(&apps[from], RelationType::DependsOn, &apps[to])
                .await?;
        }
        self.relate(&apps["backup"], RelationType::DependsOn, &backup_store)
            .await?;
        Ok(apps)
    }

    /// The municipality's firewall and core switch at its main site.
    async fn seed_core(
        &mut self,
        m: &Muni<'_>,
        site: &Site,
    ) -> Result<(String, String), StoreError> {
        let slug = m.profile.slug;
        let (supplier, contract) = network_contract(m);
        let serial = self.serial(slug, "FG1HF", 9);
        let firewall = self
            .item(
                m,
                ItemType::NetworkDevice,
                format!("{} {}", m.t("Brannmur", "Firewall"), short_name(&m.name)),
                Extra {
                    location: Some(site.id.clone()),
                    owner: "IT".into(),
                    supplier,
                    contract,
                    serial: Some(serial),
                    hostname: Some(format!("{}-{}-fw01", m.profile.code, site.code)),
                    asset_tag: true,
                    warranty_years: 5,
                    attributes: vec![
                        ("model", "Fortinet FortiGate 100F".into()),
                        ("device_role", "firewall".into()),
                        ("ip_address", format!("10.{}.0.1", m.profile.net)),
                        ("firmware", "FortiOS 7.4.4".into()),
                    ],
                    ..Extra::default()
                },
            )
            .await?;
        let serial = self.serial(slug, "SG", 8);
        let switch = self
            .item(
                m,
                ItemType::NetworkDevice,
                format!(
                    "{} {}",
                    m.t("Kjernesvitsj", "Core-switch"),
                    short_name(&m.name)
                ),
                Extra {
                    location: Some(site.id.clone()),
                    owner: "IT".into(),
                    supplier,
                    contract,
                    serial: Some(serial),
                    hostname: Some(format!("{}-{}-sw01", m.profile.code, site.code)),
                    asset_tag: true,
                    warranty_years: 5,
                    attributes: vec![
                        ("model", "Aruba CX 6300M".into()),
                        ("device_role", "switch".into()),
                        ("ip_address", format!("10.{}.0.2", m.profile.net)),
                        ("firmware", "AOS-CX 10.13".into()),
                    ],
                    ..Extra::default()
                },
            )
            .await?;
        self.relate(&switch, RelationType::ConnectsTo, &firewall)
            .await?;
        Ok((firewall, switch))
    }

    /// A site's router with its fibre and 4G/5G backup. Returns the router's id.
    async fn seed_site_network(
        &mut self,
        m: &Muni<'_>,
        site: &Site,
        core: &(String, String),
    ) -> Result<String, StoreError> {
        let slug = m.profile.slug;
        let (supplier, contract) = network_contract(m);
        let serial = self.serial(slug, "FGT40F", 8);
        let router = self
            .item(
                m,
                ItemType::NetworkDevice,
                format!("{} SD-WAN-{}", site.name, m.t("ruter", "router")),
                Extra {
                    location: Some(site.id.clone()),
                    owner: "IT".into(),
                    supplier,
                    contract,
                    serial: Some(serial),
                    hostname: Some(format!("{}-{}-sdw01", m.profile.code, site.code)),
                    asset_tag: true,
                    warranty_years: 5,
                    attributes: vec![
                        ("model", "Fortinet FortiGate 40F".into()),
                        ("device_role", "sdwan_edge".into()),
                        (
                            "ip_address",
                            format!("10.{}.{}.1", m.profile.net, site.subnet),
                        ),
                        ("firmware", "FortiOS 7.4.4".into()),
                    ],
                    ..Extra::default()
                },
            )
            .await?;
        let bandwidth = match site.kind {
            LocationKind::TownHall | LocationKind::OperationsCentre => "1000",
            LocationKind::School | LocationKind::Office => "500",
            _ => "250",
        };
        let circuit = self.unique(slug, |r| format!("FN-{}", r.digits(7)));
        let circuit = if m.danish {
            circuit.replacen("FN-", "DF-", 1)
        } else {
            circuit
        };
        let fibre = self
            .item(
                m,
                ItemType::NetworkLink,
                format!("Fiber {}", site.name),
                Extra {
                    location: Some(site.id.clone()),
                    owner: "IT".into(),
                    supplier,
                    contract,
                    attributes: vec![
                        ("medium", "fibre".into()),
                        ("primary", "true".into()),
                        ("bandwidth_mbps", bandwidth.into()),
                        ("circuit_id", circuit),
                    ],
                    ..Extra::default()
                },
            )
            .await?;
        let five_g = self.rng.percent(40);
        let (backup_supplier, backup_contract) = if m.danish {
            ("net_dk", "wan_dk")
        } else {
            ("mobile", "mobile")
        };
        let circuit = self.unique(slug, |r| format!("KM-{}", r.digits(8)));
        let backup = self
            .item(
                m,
                ItemType::NetworkLink,
                format!(
                    "{}-{} {}",
                    if five_g { "5G" } else { "4G" },
                    m.t("reserve", "backup"),
                    site.name
                ),
                Extra {
                    location: Some(site.id.clone()),
                    owner: "IT".into(),
                    supplier: backup_supplier,
                    contract: backup_contract,
                    attributes: vec![
                        ("medium", if five_g { "5g" } else { "4g" }.into()),
                        ("primary", "false".into()),
                        ("bandwidth_mbps", if five_g { "300" } else { "100" }.into()),
                        ("circuit_id", circuit),
                    ],
                    ..Extra::default()
                },
            )
            .await?;
        self.relate(&router, RelationType::ConnectsTo, &fibre)
            .await?;
        self.relate(&router, RelationType::ConnectsTo, &backup)
            .await?;
        // The fibre ends in the core switch; the backup goes out to the internet through
        // the firewall.
        self.relate(&fibre, RelationType::ConnectsTo, &core.1)
            .await?;
        self.relate(&backup, RelationType::ConnectsTo, &core.0)
            .await?;
        Ok(router)
    }

    /// End-user equipment, access points and safety alarms of one site.
    async fn seed_site_devices(
        &mut self,
        m: &Muni<'_>,
        site: &Site,
        router: &str,
        apps: &HashMap<&'static str, String>,
    ) -> Result<(), StoreError> {
        let mut mix = mix(site.kind);
        if m.profile.cloud {
            mix.laptops += mix.workstations;
            mix.workstations = 0;
        }
        if m.danish && matches!(site.kind, LocationKind::TownHall | LocationKind::CareHome) {
            let thin = mix.workstations * 2 / 3;
            mix.thin_clients += thin;
            mix.workstations -= thin;
        }
        let scale = |n: u32| -> u32 {
            if n == 0 {
                0
            } else {
                ((n * m.profile.scale + 50) / 100).max(1)
            }
        };
        let slug = m.profile.slug;
        let code = format!("{}-{}", m.profile.code, site.code);
        let owner = department(m, site);
        let (pc_supplier, pc_contract) = if m.danish {
            ("pc_dk", "pc_dk")
        } else {
            ("pc", "pc")
        };
        let ip = |host: u32| format!("10.{}.{}.{host}", m.profile.net, site.subnet);

        for i in 0..scale(mix.workstations) {
            let host = format!("{code}-pc{:03}", i + 1);
            let name = if site.kind == LocationKind::School {
                format!(
                    "{} {}",
                    m.t("Lærer-PC klasserom", "Lærer-pc klasselokale"),
                    i + 1
                )
            } else {
                host.to_uppercase()
            };
            let (model, prefix) = *self.rng.pick(&[
                ("HP EliteDesk 800 G6 Mini", "CZC"),
                ("Lenovo ThinkCentre M70q Gen 3", "MJ"),
                ("Dell OptiPlex 7010 Micro", ""),
            ]);
            let lifecycle = if i < 4 {
                Lifecycle::Deployed
            } else {
                self.lifecycle()
            };
            let serial = self.serial(slug, prefix, 8 - prefix.len().min(2));
            let mac = self.rng.mac();
            let id = self
                .item(
                    m,
                    ItemType::Workstation,
                    name,
                    Extra {
                        location: Some(site.id.clone()),
                        owner: owner.clone(),
                        supplier: pc_supplier,
                        contract: pc_contract,
                        serial: Some(serial),
                        hostname: Some(host),
                        asset_tag: true,
                        warranty_years: 3,
                        lifecycle: Some(lifecycle),
                        attributes: vec![
                            ("model", model.into()),
                            ("operating_system", windows(lifecycle).into()),
                            ("mac_address", mac),
                        ],
                    },
                )
                .await?;
            if lifecycle == Lifecycle::Deployed {
                self.relate(&id, RelationType::ConnectsTo, router).await?;
            }
        }
        for i in 0..scale(mix.laptops) {
            let host = format!("{code}-lt{:03}", i + 1);
            let (model, prefix) = *self.rng.pick(&[
                ("Lenovo ThinkPad T14 Gen 4", "PF"),
                ("HP EliteBook 840 G10", "5CG"),
                ("Dell Latitude 5440", ""),
            ]);
            let lifecycle = if i < 4 {
                Lifecycle::Deployed
            } else {
                self.lifecycle()
            };
            let serial = self.serial(slug, prefix, 8 - prefix.len().min(2));
            let mac = self.rng.mac();
            let os = if m.profile.cloud && lifecycle != Lifecycle::Retired {
                "Windows 11 Enterprise 23H2 (Intune)"
            } else {
                windows(lifecycle)
            };
            self.item(
                m,
                ItemType::Laptop,
                host.to_uppercase(),
                Extra {
                    location: Some(site.id.clone()),
                    owner: owner.clone(),
                    supplier: pc_supplier,
                    contract: pc_contract,
                    serial: Some(serial),
                    hostname: Some(host),
                    asset_tag: true,
                    warranty_years: 3,
                    lifecycle: Some(lifecycle),
                    attributes: vec![
                        ("model", model.into()),
                        ("operating_system", os.into()),
                        ("mac_address", mac),
                    ],
                },
            )
            .await?;
        }
        let thin = scale(mix.thin_clients);
        for i in 0..thin {
            let host = format!("{code}-tc{:03}", i + 1);
            // A replacement wave: the last few are on order.
            let lifecycle = if slug == "vindaa" && i + 4 >= thin {
                Lifecycle::Ordered
            } else if i < 4 {
                Lifecycle::Deployed
            } else {
                self.lifecycle()
            };
            let serial = self.serial(slug, "IG", 10);
            let mac = self.rng.mac();
            let id = self
                .item(
                    m,
                    ItemType::ThinClient,
                    host.to_uppercase(),
                    Extra {
                        location: Some(site.id.clone()),
                        owner: owner.clone(),
                        supplier: pc_supplier,
                        contract: pc_contract,
                        serial: Some(serial),
                        hostname: Some(host),
                        asset_tag: true,
                        warranty_years: if lifecycle == Lifecycle::Ordered {
                            0
                        } else {
                            5
                        },
                        lifecycle: Some(lifecycle),
                        attributes: vec![
                            ("model", "IGEL UD3 M350C".into()),
                            ("operating_system", "IGEL OS 12".into()),
                            ("mac_address", mac),
                        ],
                    },
                )
                .await?;
            if lifecycle == Lifecycle::Deployed {
                self.relate(&id, RelationType::ConnectsTo, router).await?;
                // A thin client is useless without the session servers behind it.
                self.relate(&id, RelationType::DependsOn, &apps["rds"])
                    .await?;
            }
        }
        let tablets = scale(mix.tablets);
        let classes = classes(m, site, tablets);
        let per_class = tablets.div_ceil(classes.len() as u32).max(1);
        for i in 0..tablets {
            let name = match site.kind {
                LocationKind::School => format!(
                    "Elev-iPad {}-{:02}",
                    classes[(i / per_class) as usize % classes.len()],
                    i % per_class + 1
                ),
                LocationKind::CareHome => {
                    format!(
                        "iPad {} {:02}",
                        m.t("hjemmetjenesten", "hjemmeplejen"),
                        i + 1
                    )
                }
                LocationKind::Kindergarten => {
                    format!("{} {:02}", m.t("Barnehage-iPad", "Børnehave-iPad"), i + 1)
                }
                _ => format!("iPad {} {:02}", site.name, i + 1),
            };
            let (supplier, contract) = if m.danish {
                ("pc_dk", "pc_dk")
            } else {
                ("ipad", "ipad")
            };
            let lifecycle = if i < 4 {
                Lifecycle::Deployed
            } else {
                self.lifecycle()
            };
            let serial = self.serial(slug, "DMP", 9);
            let mac = self.rng.mac();
            let generation = if lifecycle == Lifecycle::Retired {
                m.t("Apple iPad (7. generasjon)", "Apple iPad (7. generation)")
            } else {
                m.t("Apple iPad (9. generasjon)", "Apple iPad (9. generation)")
            };
            self.item(
                m,
                ItemType::Tablet,
                name,
                Extra {
                    location: Some(site.id.clone()),
                    owner: if site.kind == LocationKind::School {
                        "Elever".to_string()
                    } else {
                        owner.clone()
                    },
                    supplier,
                    contract,
                    serial: Some(serial),
                    asset_tag: true,
                    warranty_years: 2,
                    lifecycle: Some(lifecycle),
                    attributes: vec![
                        ("model", generation.into()),
                        ("operating_system", "iPadOS 17.5".into()),
                        ("mac_address", mac),
                    ],
                    ..Extra::default()
                },
            )
            .await?;
        }
        for i in 0..scale(mix.phones) {
            let model = if site.kind == LocationKind::CareHome {
                "Samsung Galaxy XCover6 Pro"
            } else {
                *self
                    .rng
                    .pick(&["Apple iPhone 13", "Apple iPhone 15", "Samsung Galaxy A54"])
            };
            let number = if m.danish {
                let d = self.rng.digits(7);
                format!("+45 2{} {} {} {}", &d[..1], &d[1..3], &d[3..5], &d[5..])
            } else {
                let d = self.rng.digits(7);
                format!("+47 4{} {} {}", &d[..2], &d[2..4], &d[4..])
            };
            let imei = self.unique(slug, |r| format!("35{}", r.digits(13)));
            let serial = self.serial(slug, "R5C", 8);
            let lifecycle = if i < 4 {
                Lifecycle::Deployed
            } else {
                self.lifecycle()
            };
            self.item(
                m,
                ItemType::Phone,
                format!("Mobil {} {:02}", site.name, i + 1),
                Extra {
                    location: Some(site.id.clone()),
                    owner: owner.clone(),
                    supplier: if m.danish { "net_dk" } else { "mobile" },
                    contract: if m.danish { "wan_dk" } else { "mobile" },
                    serial: Some(serial),
                    asset_tag: true,
                    warranty_years: 2,
                    lifecycle: Some(lifecycle),
                    attributes: vec![
                        ("model", model.into()),
                        ("phone_number", number),
                        ("imei", imei),
                    ],
                    ..Extra::default()
                },
            )
            .await?;
        }
        let printer_names = printer_names(m, site.kind);
        for i in 0..scale(mix.printers) {
            let name = printer_names
                .get(i as usize)
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("{} {}", m.t("Skriver", "Printer"), i + 1));
            let (model, prefix) = *self.rng.pick(&[
                ("Canon imageRUNNER ADVANCE DX C3826i", "3TB"),
                ("Konica Minolta bizhub C300i", "AA2"),
                ("HP Color LaserJet Pro MFP 4301fdw", "VNB"),
            ]);
            let serial = self.serial(slug, prefix, 7);
            let id = self
                .item(
                    m,
                    ItemType::Printer,
                    name,
                    Extra {
                        location: Some(site.id.clone()),
                        owner: owner.clone(),
                        supplier: if m.danish { "print_dk" } else { "print" },
                        contract: if m.danish { "print_dk" } else { "print" },
                        serial: Some(serial),
                        hostname: Some(format!("{code}-mfp{:02}", i + 1)),
                        asset_tag: true,
                        warranty_years: 3,
                        attributes: vec![("model", model.into()), ("ip_address", ip(20 + i))],
                        ..Extra::default()
                    },
                )
                .await?;
            self.relate(&id, RelationType::ConnectsTo, router).await?;
        }
        for i in 0..scale(mix.access_points) {
            let (supplier, contract) = network_contract(m);
            let serial = self.serial(slug, "CNR", 7);
            let host = format!("{code}-ap{:02}", i + 1);
            let id = self
                .item(
                    m,
                    ItemType::NetworkDevice,
                    host.to_uppercase(),
                    Extra {
                        location: Some(site.id.clone()),
                        owner: "IT".into(),
                        supplier,
                        contract,
                        serial: Some(serial),
                        hostname: Some(host),
                        asset_tag: true,
                        warranty_years: 5,
                        attributes: vec![
                            ("model", "Aruba AP-515".into()),
                            ("device_role", "access_point".into()),
                            ("ip_address", ip(100 + i)),
                            ("firmware", "ArubaOS 10.6".into()),
                        ],
                        ..Extra::default()
                    },
                )
                .await?;
            self.relate(&id, RelationType::ConnectsTo, router).await?;
        }
        let alarms = scale(mix.alarms);
        for i in 0..alarms {
            // The last two are spares in the cupboard.
            let spare = i + 2 >= alarms;
            let name = if spare {
                format!("Reservealarm {}", alarms - i)
            } else {
                format!(
                    "{} {} {}",
                    m.t("Trygghetsalarm", "Tryghedsalarm"),
                    m.t("leilighet", "lejlighed"),
                    i + 1
                )
            };
            let (supplier, contract) = match slug {
                "egeholm" => ("welfare_dk", "welfare_ege"),
                "vindaa" => ("welfare_dk", "welfare_vin"),
                _ => ("welfare", "welfare"),
            };
            let serial = self.serial(slug, "TA", 9);
            let sim = self.unique(slug, |r| {
                format!("89{}{}", if m.danish { "45" } else { "47" }, r.digits(15))
            });
            let id = self
                .item(
                    m,
                    ItemType::WelfareDevice,
                    name,
                    Extra {
                        location: Some(site.id.clone()),
                        owner: owner.clone(),
                        supplier,
                        contract,
                        serial: Some(serial),
                        asset_tag: true,
                        warranty_years: 3,
                        lifecycle: Some(if spare {
                            Lifecycle::InStock
                        } else {
                            Lifecycle::Deployed
                        }),
                        attributes: vec![
                            (
                                "model",
                                m.t("Trygg T4 digital (4G)", "VelTek Alarm 4G").into(),
                            ),
                            ("receiving_centre", receiving_centre(m).into()),
                            ("sim_number", sim),
                        ],
                        ..Extra::default()
                    },
                )
                .await?;
            if !spare {
                // Alarms call over the mobile network, not the site's: they need the
                // receiving platform, not the router.
                self.relate(&id, RelationType::DependsOn, &apps["alarm"])
                    .await?;
            }
        }
        Ok(())
    }

    /// The municipality's services and what they depend on.
    async fn seed_services(
        &mut self,
        m: &Muni<'_>,
        apps: &HashMap<&'static str, String>,
        cloud_app: Option<&str>,
    ) -> Result<(), StoreError> {
        let danish_only = m.danish;
        let mut services: Vec<(&str, &str, Vec<&str>)> = SERVICES
            .iter()
            .map(|(no, da, hours_no, hours_da, deps)| {
                (
                    if danish_only { *da } else { *no },
                    if danish_only { *hours_da } else { *hours_no },
                    deps.to_vec(),
                )
            })
            .collect();
        if m.danish {
            services.push(("Virtuelt skrivebord", "Hverdage 07–17", vec!["rds"]));
        }
        for (name, hours, deps) in services {
            let id = self
                .item(
                    m,
                    ItemType::Service,
                    name.to_string(),
                    Extra {
                        owner: m.t("Rådmannen", "Direktionen").into(),
                        attributes: vec![("service_hours", hours.into())],
                        ..Extra::default()
                    },
                )
                .await?;
            for dep in deps {
                // A service of the municipality depending on an application of the host
                // municipality: the relation crosses municipalities.
                self.relate(&id, RelationType::DependsOn, &apps[dep])
                    .await?;
            }
            if let Some(cloud) = cloud_app
                && name.starts_with("Pålogging")
            {
                self.relate(&id, RelationType::DependsOn, cloud).await?;
            }
        }
        Ok(())
    }

    /// Lysberg moved to the cloud: its own Microsoft 365, and the old servers on their way
    /// out, one of them already through certified disposal.
    async fn seed_cloud_migration(
        &mut self,
        m: &Muni<'_>,
        town_hall: &Site,
    ) -> Result<String, StoreError> {
        let m365 = self
            .item(
                m,
                ItemType::Application,
                "Microsoft 365 (Lysberg)".into(),
                Extra {
                    owner: "Rådmannen".into(),
                    supplier: "cloud",
                    contract: "cloud_lys",
                    attributes: vec![("version", "Enterprise E3".into())],
                    ..Extra::default()
                },
            )
            .await?;
        let old = [
            (
                "lys-fil01 (gammel filserver)",
                "lys-fil01",
                "HPE ProLiant ML350 Gen9",
            ),
            (
                "lys-ad01 (gammel domenekontroller)",
                "lys-ad01",
                "HPE ProLiant DL360 Gen9",
            ),
            (
                "lys-sak01 (gammel sak/arkiv-server)",
                "lys-sak01",
                "HPE ProLiant DL380 Gen8",
            ),
        ];
        let mut ids = Vec::new();
        for (name, host, model) in old {
            let serial = self.serial(m.profile.slug, "CZJ", 7);
            let id = self
                .item(
                    m,
                    ItemType::PhysicalServer,
                    name.into(),
                    Extra {
                        location: Some(town_hall.id.clone()),
                        owner: "IT".into(),
                        supplier: "server",
                        serial: Some(serial),
                        hostname: Some(host.into()),
                        asset_tag: true,
                        warranty_years: 5,
                        lifecycle: Some(Lifecycle::Retired),
                        attributes: vec![
                            ("model", model.into()),
                            ("operating_system", "Windows Server 2012 R2".into()),
                            ("cpu_cores", "12".into()),
                            ("memory_gb", "64".into()),
                        ],
                        ..Extra::default()
                    },
                )
                .await?;
            ids.push(id);
        }
        let last = ids.pop().ok_or(StoreError::NotFound)?;
        let recycler = SUPPLIERS
            .iter()
            .find(|s| s.0 == "recycler")
            .map(|s| s.1)
            .unwrap_or("Grønn Retur AS");
        let certificate = format!("GR-{}-0417", self.today.year());
        let disposal = Disposal::new(recycler, &certificate)
            .map_err(|e| StoreError::Inconsistent(format!("demo disposal record: {e}")))?;
        self.store
            .move_item(self.scope, &last, Lifecycle::Disposed, Some(disposal))
            .await?;
        self.counts.retired -= 1;
        self.counts.disposed += 1;
        Ok(m365)
    }

    /// Links demo tickets to the items they are about.
    async fn link_tickets(&mut self) -> Result<(), StoreError> {
        let tickets = self
            .store
            .list_tickets(
                self.scope,
                &QueueFilter {
                    status: StatusFilter::Any,
                    limit: 500,
                    ..QueueFilter::default()
                },
            )
            .await?;
        let links: &[(&str, &[(&'static str, &str)])] = &[
            (
                "Skriveren i ekspedisjonen",
                &[("fjordvik", "Skriver ekspedisjonen")],
            ),
            (
                "Prosjektoren i klasserom 3",
                &[("fjordvik", "Lærer-PC klasserom 3")],
            ),
            ("Ny app til iPadene", &[("fjordvik", "Elev-iPad")]),
            (
                "Kan ikke logge inn i sak/arkiv",
                &[("lysberg", "Sak/arkiv"), (HOST, "Arkivhuset Sak/arkiv")],
            ),
            (
                "Trygghedsalarm i lejlighed 12",
                &[("vindaa", "Tryghedsalarm lejlighed 12")],
            ),
            (
                "Backup av filserveren",
                &[
                    (HOST, "oyr-fil01"),
                    (HOST, "Øyriket backup-lager"),
                    (HOST, "Proxmox Backup Server"),
                ],
            ),
        ];
        for (title, items) in links {
            let Some(ticket) = tickets.iter().find(|t| t.title.starts_with(title)) else {
                continue;
            };
            for (slug, name) in *items {
                if let Some(item) = self.id_of(slug, name) {
                    self.store
                        .link_ticket_item(self.scope, &ticket.id, &item)
                        .await?;
                    self.counts.ticket_links += 1;
                }
            }
        }
        Ok(())
    }
}

fn network_contract(m: &Muni<'_>) -> (&'static str, &'static str) {
    if m.danish {
        ("net_dk", "wan_dk")
    } else {
        ("net", "sdwan")
    }
}

fn windows(lifecycle: Lifecycle) -> &'static str {
    if lifecycle == Lifecycle::Retired {
        "Windows 10 Pro 22H2"
    } else {
        "Windows 11 Pro 23H2"
    }
}

/// "Fjordvik kommune" → "Fjordvik".
fn short_name(name: &str) -> &str {
    name.split(' ').next().unwrap_or(name)
}

fn department(m: &Muni<'_>, site: &Site) -> String {
    match site.kind {
        LocationKind::TownHall => m.t(
            "Servicetorget og administrasjon",
            "Borgerservice og administration",
        ),
        LocationKind::School | LocationKind::Kindergarten => m.t("Oppvekst", "Børn og Unge"),
        LocationKind::CareHome => m.t("Helse og omsorg", "Ældre og Sundhed"),
        LocationKind::OperationsCentre => "Øyriket IT-drift",
        LocationKind::Office => m.t("Publikumsmottak", "Borgerservice"),
        LocationKind::Other => "IT",
    }
    .to_string()
}

fn printer_names(m: &Muni<'_>, kind: LocationKind) -> Vec<&'static str> {
    match (m.danish, kind) {
        (false, LocationKind::TownHall) => vec![
            "Skriver ekspedisjonen",
            "Skriver 1. etasje",
            "Skriver 2. etasje",
            "Skriver økonomi",
        ],
        (true, LocationKind::TownHall) => vec![
            "Printer borgerservice",
            "Printer stueetagen",
            "Printer 1. sal",
            "Printer økonomi",
        ],
        (false, LocationKind::School) => vec![
            "Skriver lærerværelset",
            "Skriver administrasjonen",
            "Skriver biblioteket",
        ],
        (true, LocationKind::School) => vec![
            "Printer lærerværelset",
            "Printer kontoret",
            "Printer biblioteket",
        ],
        (false, LocationKind::CareHome) => vec!["Skriver vaktrommet", "Skriver kontoret"],
        (true, LocationKind::CareHome) => vec!["Printer vagtstuen", "Printer kontoret"],
        (false, LocationKind::Kindergarten) => vec!["Skriver personalrommet"],
        (true, LocationKind::Kindergarten) => vec!["Printer personalestuen"],
        (_, LocationKind::OperationsCentre) => vec!["Skriver driftssenteret", "Skriver lager"],
        (true, LocationKind::Office) => vec![
            "Printer skranke 1",
            "Printer skranke 2",
            "Printer back office",
        ],
        _ => vec![],
    }
}

/// Class names of a school: lower and middle grades, or lower secondary.
fn classes(m: &Muni<'_>, site: &Site, tablets: u32) -> Vec<String> {
    let grades: Vec<u32> = if site.name.to_lowercase().contains("ungdomsskole") {
        (8..=10).collect()
    } else if m.danish {
        (0..=9).collect()
    } else {
        (1..=7).collect()
    };
    // Two parallel classes per grade where there are pupils for them.
    let sections: &[&str] = if tablets >= 25 * grades.len() as u32 {
        &["A", "B"]
    } else {
        &["A"]
    };
    let mut out = Vec::new();
    for grade in grades {
        for section in sections {
            out.push(if m.danish {
                format!("{grade}.{section}")
            } else {
                format!("{grade}{section}")
            });
        }
    }
    out
}

/// Who answers the safety alarms: the host municipality's response centre for the
/// Norwegian municipalities, the Danish host's for the Danish ones.
fn receiving_centre(m: &Muni<'_>) -> &'static str {
    if m.danish {
        "Vagtcentralen, Vindå Kommune"
    } else {
        "Øyriket responssenter, Skjærvåg kommune"
    }
}

/// A short code for host names: rh, sk1, oms1, bhg1, ds, kt1.
fn site_codes(sites: &mut [Site]) {
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for site in sites.iter_mut() {
        let prefix = match site.kind {
            LocationKind::TownHall => "rh",
            LocationKind::School => "sk",
            LocationKind::CareHome => "oms",
            LocationKind::Kindergarten => "bhg",
            LocationKind::OperationsCentre => "ds",
            LocationKind::Office => "kt",
            LocationKind::Other => "x",
        };
        let n = seen.entry(prefix).or_insert(0);
        *n += 1;
        site.code = if matches!(
            site.kind,
            LocationKind::TownHall | LocationKind::OperationsCentre
        ) && *n == 1
        {
            prefix.to_string()
        } else {
            format!("{prefix}{n}")
        };
    }
}

fn kind_order(kind: LocationKind) -> u8 {
    match kind {
        LocationKind::TownHall => 0,
        LocationKind::OperationsCentre => 1,
        LocationKind::Office => 2,
        LocationKind::School => 3,
        LocationKind::Kindergarten => 4,
        LocationKind::CareHome => 5,
        LocationKind::Other => 6,
    }
}

/// Seeds the demo inventory as the demo's provider administrator (who may operate every
/// municipality, so a municipality's service can depend on the host municipality's
/// application). `scope` only finds that user.
pub(crate) async fn seed_inventory(
    store: &Store,
    scope: &Scope,
) -> Result<InventoryCounts, StoreError> {
    let started = Instant::now();
    let admin = store.find_user_by_username(scope, "admin").await?;
    let scope = store.scope_for(&admin, "").await?;
    let tenants = store.list_tenants(&scope).await?;
    let provider = tenants
        .iter()
        .find(|t| t.kind == TenantKind::Provider)
        .ok_or(StoreError::NotFound)?;
    let tenant_of: HashMap<&str, TenantId> = tenants
        .iter()
        .map(|t| (t.slug.as_str(), t.id.clone()))
        .collect();
    let zone = jiff::tz::TimeZone::get(&provider.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut g = Gen {
        store,
        scope: &scope,
        rng: Rng(0x0D21_F7A0_2026_0001),
        today: store.now().to_zoned(zone).date(),
        counts: InventoryCounts::default(),
        suppliers: HashMap::new(),
        contracts: HashMap::new(),
        keys: HashSet::new(),
        tags: HashMap::new(),
        named: HashMap::new(),
    };
    g.seed_suppliers_and_contracts(&provider.id, &tenant_of)
        .await?;

    // The host municipality first: everyone's services depend on its applications.
    let mut order: Vec<&Profile> = PROFILES.iter().collect();
    order.sort_by_key(|p| p.slug != HOST);
    let mut apps = HashMap::new();
    for profile in order {
        let tenant = tenants
            .iter()
            .find(|t| t.slug == profile.slug)
            .ok_or(StoreError::NotFound)?;
        let m = Muni {
            profile,
            tenant: tenant.id.clone(),
            name: tenant.name.clone(),
            danish: tenant.country == Country::Dk,
        };
        let mut sites: Vec<Site> = store
            .list_locations(&scope, Some(&tenant.id))
            .await?
            .into_iter()
            .map(|l| Site {
                id: l.id.as_str().to_string(),
                name: l.name,
                kind: l.kind,
                code: String::new(),
                subnet: 0,
            })
            .collect();
        // Byte order of names, the same on both backends.
        sites.sort_by(|a, b| (kind_order(a.kind), &a.name).cmp(&(kind_order(b.kind), &b.name)));
        site_codes(&mut sites);
        for (i, site) in sites.iter_mut().enumerate() {
            site.subnet = (i as u32 + 1) * 10;
        }
        let main_site = sites
            .iter()
            .find(|s| s.kind == LocationKind::OperationsCentre)
            .or_else(|| sites.iter().find(|s| s.kind == LocationKind::TownHall))
            .or(sites.first())
            .ok_or(StoreError::NotFound)?;
        let core = g.seed_core(&m, main_site).await?;
        if profile.slug == HOST {
            apps = g.seed_shared(&m, main_site, &core.1).await?;
        }
        let cloud_app = if profile.cloud {
            let town_hall = sites
                .iter()
                .find(|s| s.kind == LocationKind::TownHall)
                .unwrap_or(main_site);
            Some(g.seed_cloud_migration(&m, town_hall).await?)
        } else {
            None
        };
        g.seed_services(&m, &apps, cloud_app.as_deref()).await?;
        for site in &sites {
            let router = g.seed_site_network(&m, site, &core).await?;
            g.seed_site_devices(&m, site, &router, &apps).await?;
        }
    }
    g.link_tickets().await?;
    let mut counts = g.counts;
    // Report in the demo's order of municipalities.
    counts.items.sort_by_key(|(name, _)| {
        PROFILES
            .iter()
            .position(|p| tenants.iter().any(|t| t.slug == p.slug && &t.name == name))
    });
    counts.elapsed = started.elapsed();
    Ok(counts)
}
