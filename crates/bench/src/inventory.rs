//! `drifta-bench inventory`: a generated provider network (a data centre shared by the
//! municipalities, and in each municipality a core, sites with primary and backup links,
//! access switches, access points and the devices behind them), bulk-loaded through
//! `Store::bulk_load_items`, then impact analysis, inventory list pages and CSV import
//! through the same store calls the pages use.
//!
//! Relations that forbid cycles (runs_on, depends_on, installed_on) only ever point down a
//! fixed order of layers (service → application → database → VM → cluster → storage;
//! client application → device), so the generated graph is acyclic where it must be
//! without checking. The extra relations that fill up to `--relations` are of types that
//! allow cycles (connects_to, backs_up, used_by).

use crate::desk::{self, Rng, World};
use crate::{Failure, Sample, measure_reads, ms, size, thousands};
use clap::Args;
use drifta_core::cmdb::{Effect, ItemType, Lifecycle, RelationType};
use drifta_core::tenant::LocationKind;
use drifta_core::{Actor, LocationId, Scope, TenantId, UserId};
use drifta_store::{
    Backend, BulkItem, BulkRelation, ConnectOptions, ImpactDirection, ImpactView, ImportMode,
    ItemFilter, NewLocation, Store, StoreError, redact_url,
};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

#[derive(Args, Clone)]
pub struct InventoryArgs {
    /// sqlite://PATH or postgres://USER@HOST:PORT/DATABASE; the database must be empty.
    #[arg(long)]
    database_url: String,
    /// Inventory items to generate, across the provider and its municipalities.
    #[arg(long, default_value_t = 200_000)]
    items: usize,
    /// Relations between them.
    #[arg(long, default_value_t = 500_000)]
    relations: usize,
    /// Municipalities under the provider (their sizes differ, the first is the largest).
    #[arg(long, default_value_t = 50)]
    municipalities: usize,
    /// Rows of the CSV file imported (twice: new items, then the same rows as updates);
    /// 0 skips the import.
    #[arg(long, default_value_t = 100_000)]
    import_rows: usize,
    /// Repetitions of each read measurement.
    #[arg(long, default_value_t = 100)]
    repeat: usize,
    /// Items per bulk-load transaction (relations go ten times as many per transaction).
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Each read measurement stops after this many seconds even if `--repeat` is not reached.
    #[arg(long, default_value_t = 60)]
    budget_seconds: u64,
    /// Measure the inventory an earlier run generated in this database instead of
    /// generating one (for example to compare before and after a migration).
    #[arg(long)]
    reuse: bool,
    /// Print the figures as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

const DAY_MS: i64 = 86_400_000;
/// What the impact page asks for (drifta-web `pages::inventory`): the first 100 rows of
/// the list and the first 12 items of each column of the diagram.
const PAGE_VIEW: ImpactView = ImpactView {
    offset: 0,
    limit: 100,
    per_depth: 12,
};
/// Endpoints per access switch and per access point.
const PER_SWITCH: usize = 40;
const PER_ACCESS_POINT: usize = 25;
/// Sites with a 4G backup link beside their fibre.
const BACKUP_SHARE: f64 = 0.75;

/// A site of a municipality: a location with a router and the devices behind it.
struct Site {
    location: LocationId,
    kind: LocationKind,
}

struct Municipality<'w> {
    index: usize,
    world: &'w desk::Municipality,
    sites: Vec<Site>,
}

/// Numbers of what was generated, for the report.
#[derive(Default)]
struct Generated {
    items: usize,
    relations: usize,
    sites: usize,
    by_type: BTreeMap<&'static str, usize>,
    by_relation: BTreeMap<&'static str, usize>,
}

/// Builds items and relations in memory; indices into `items` stand for the items.
struct Network {
    rng: Rng,
    now: i64,
    today: jiff::civil::Date,
    items: Vec<BulkItem>,
    relations: Vec<BulkRelation>,
    seen: HashSet<(u32, RelationType, u32)>,
    serial: u64,
}

fn model(item_type: ItemType, rng: &mut Rng) -> &'static str {
    use ItemType::*;
    let models: &[&str] = match item_type {
        Workstation => &[
            "HP EliteDesk 800 G6",
            "Lenovo ThinkCentre M70q",
            "Dell OptiPlex 7010",
        ],
        Laptop => &[
            "HP EliteBook 840 G8",
            "Lenovo ThinkPad T14",
            "Dell Latitude 5440",
            "Chromebook 314",
        ],
        Tablet => &["iPad 10.2", "iPad Air", "Samsung Galaxy Tab A8"],
        ThinClient => &["HP t640", "IGEL UD3"],
        Phone => &["iPhone 13", "iPhone SE", "Samsung Galaxy XCover 6"],
        Printer => &["Ricoh IM C3000", "HP LaserJet M507", "Canon iR-ADV C5535"],
        PhysicalServer => &["HPE ProLiant DL380 Gen10", "Dell PowerEdge R750"],
        Storage => &["NetApp AFF A250", "Synology RS3621xs+"],
        NetworkDevice => &[
            "Cisco Catalyst 9300",
            "Aruba CX 6300",
            "Fortinet FortiGate 200F",
        ],
        WelfareDevice => &[
            "Doro 8500",
            "Careium SmartAlarm",
            "Tunstall Lifeline Digital",
        ],
        _ => &[""],
    };
    rng.pick::<&'static str>(models)
}

fn serial_prefix(item_type: ItemType) -> &'static str {
    use ItemType::*;
    match item_type {
        Workstation | Laptop | ThinClient => "5CG",
        Tablet | Phone => "DMP",
        Printer => "PRN",
        PhysicalServer | Storage => "CZJ",
        NetworkDevice => "FOC",
        WelfareDevice => "WD",
        _ => "SN",
    }
}

/// What kinds of device a site of each kind holds, and how many of each (weights).
fn device_mix(kind: LocationKind) -> &'static [(ItemType, f64)] {
    use ItemType::*;
    match kind {
        LocationKind::School => &[
            (Laptop, 35.0),
            (Tablet, 30.0),
            (Workstation, 15.0),
            (ThinClient, 10.0),
            (Phone, 6.0),
            (Printer, 4.0),
        ],
        LocationKind::CareHome => &[
            (WelfareDevice, 35.0),
            (Tablet, 20.0),
            (Phone, 20.0),
            (Workstation, 10.0),
            (Laptop, 10.0),
            (Printer, 5.0),
        ],
        LocationKind::Kindergarten => &[
            (Tablet, 40.0),
            (Laptop, 25.0),
            (Phone, 20.0),
            (Workstation, 10.0),
            (Printer, 5.0),
        ],
        _ => &[
            (Laptop, 35.0),
            (Workstation, 30.0),
            (Phone, 20.0),
            (Printer, 5.0),
            (ThinClient, 5.0),
            (Tablet, 5.0),
        ],
    }
}

/// Relative size of a site of each kind.
fn site_weight(kind: LocationKind) -> f64 {
    match kind {
        LocationKind::TownHall => 4.0,
        LocationKind::School => 2.5,
        LocationKind::CareHome => 1.2,
        LocationKind::Office => 1.0,
        _ => 0.5,
    }
}

fn is_wireless(item_type: ItemType) -> bool {
    matches!(
        item_type,
        ItemType::Laptop | ItemType::Tablet | ItemType::Phone | ItemType::WelfareDevice
    )
}

fn host_prefix(item_type: ItemType) -> Option<&'static str> {
    use ItemType::*;
    match item_type {
        Workstation => Some("pc"),
        Laptop => Some("lt"),
        Tablet => Some("tab"),
        ThinClient => Some("tc"),
        Printer => Some("prn"),
        _ => None,
    }
}

fn weighted(rng: &mut Rng, weights: &[f64]) -> usize {
    let mut x = rng.unit() * weights.iter().sum::<f64>();
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Splits `total` into parts proportional to `weights` that sum to exactly `total`.
fn apportion(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    let mut parts: Vec<usize> = weights
        .iter()
        .map(|w| (total as f64 * w / sum).floor() as usize)
        .collect();
    let mut left = total - parts.iter().sum::<usize>();
    let mut i = 0;
    while left > 0 {
        let n = parts.len();
        parts[i % n] += 1;
        left -= 1;
        i += 1;
    }
    parts
}

/// Items of one municipality that later steps relate to.
struct MunicipalityParts {
    tenant: TenantId,
    services: Vec<u32>,
    servers: Vec<u32>,
    nas: u32,
    /// Per site: its access points and its wireless devices.
    access_points: Vec<Vec<u32>>,
    wireless: Vec<(u32, usize)>,
    endpoints: Vec<u32>,
    /// Workstations, laptops and thin clients: where client applications are installed.
    computers: Vec<u32>,
}

struct DataCentre {
    firewalls: [u32; 2],
    server_apps: Vec<u32>,
    client_apps: Vec<u32>,
    backup: Vec<u32>,
    vms: Vec<u32>,
    databases: Vec<u32>,
}

struct NewItem<'a> {
    tenant: &'a TenantId,
    item_type: ItemType,
    name: String,
    hostname: Option<String>,
    location: Option<&'a LocationId>,
    owner: &'a str,
    attributes: Vec<(&'static str, String)>,
    serial: bool,
    lifecycle: Lifecycle,
}

impl Network {
    fn new(now: jiff::Timestamp) -> Self {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let now = now.as_millisecond();
        Network {
            rng: Rng::new(4711),
            now,
            today,
            items: Vec::new(),
            relations: Vec::new(),
            seen: HashSet::new(),
            serial: 0,
        }
    }

    fn date_days_ago(&self, days: i64) -> String {
        self.today
            .checked_sub(jiff::Span::new().days(days))
            .unwrap_or(self.today)
            .to_string()
    }

    fn add(&mut self, new: NewItem<'_>) -> u32 {
        let t = new.item_type;
        let physical = !matches!(
            t,
            ItemType::VirtualMachine
                | ItemType::Database
                | ItemType::Application
                | ItemType::Service
                | ItemType::HypervisorCluster
                | ItemType::NetworkLink
        );
        let serial_number = (physical && new.serial).then(|| {
            self.serial += 1;
            // A bijection on u32, so serial numbers look random and never repeat.
            let scrambled = (self.serial as u32).wrapping_mul(0x9E37_79B1);
            format!("{}{scrambled:08X}", serial_prefix(t))
        });
        let age_days = self.rng.between(30, 6 * 365);
        let years = if matches!(t, ItemType::PhysicalServer | ItemType::Storage) {
            5
        } else {
            3
        };
        let (purchased_on, warranty_until) = if physical {
            (
                Some(self.date_days_ago(age_days)),
                Some(self.date_days_ago(age_days - years * 365)),
            )
        } else {
            (None, None)
        };
        let mut attributes: BTreeMap<String, String> = new
            .attributes
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let m = model(t, &mut self.rng);
        if !m.is_empty() {
            attributes.insert("model".into(), m.to_string());
        }
        let created_at = self.now - age_days * DAY_MS;
        let updated_at = self.rng.between(created_at, self.now);
        self.items.push(BulkItem {
            id: UserId::generate().to_string(),
            tenant_id: new.tenant.clone(),
            item_type: t,
            name: new.name,
            lifecycle: new.lifecycle,
            location_id: new.location.map(|l| l.to_string()),
            owner: new.owner.to_string(),
            supplier_id: None,
            contract_id: None,
            serial_number,
            hostname: new.hostname,
            asset_tag: None,
            purchased_on,
            warranty_until,
            attributes,
            created_at,
            updated_at,
        });
        (self.items.len() - 1) as u32
    }

    /// A deployed item with a host name and a serial number.
    fn infra<'a>(
        &mut self,
        tenant: &'a TenantId,
        item_type: ItemType,
        name: String,
        hostname: String,
        location: Option<&'a LocationId>,
        attributes: Vec<(&'static str, String)>,
    ) -> u32 {
        self.add(NewItem {
            tenant,
            item_type,
            name,
            hostname: Some(hostname),
            location,
            owner: "IT-drift",
            attributes,
            serial: true,
            lifecycle: Lifecycle::Deployed,
        })
    }

    fn relate(&mut self, from: u32, relation: RelationType, to: u32) -> bool {
        if from == to || !self.seen.insert((from, relation, to)) {
            return false;
        }
        let created_at = self.items[from as usize]
            .created_at
            .max(self.items[to as usize].created_at);
        self.relations.push(BulkRelation {
            tenant_id: self.items[from as usize].tenant_id.clone(),
            from_id: self.items[from as usize].id.clone(),
            relation,
            to_id: self.items[to as usize].id.clone(),
            created_at,
        });
        true
    }

    fn data_centre(&mut self, provider: &TenantId, total_items: usize) -> DataCentre {
        use ItemType::*;
        let p = provider;
        let device =
            |role: &str, ip: String| vec![("device_role", role.to_string()), ("ip_address", ip)];
        let fw = [1, 2].map(|k| {
            self.infra(
                p,
                NetworkDevice,
                format!("DC brannmur {k}"),
                format!("dc1-fw{k:02}"),
                None,
                device("firewall", format!("10.0.0.{k}")),
            )
        });
        let sw = [1, 2].map(|k| {
            self.infra(
                p,
                NetworkDevice,
                format!("DC kjernesvitsj {k}"),
                format!("dc1-core-sw{k:02}"),
                None,
                device("switch", format!("10.0.0.{}", 10 + k)),
            )
        });
        for s in sw {
            for f in fw {
                self.relate(s, RelationType::ConnectsTo, f);
            }
        }
        let dual_homed = |net: &mut Network, item: u32| {
            for s in sw {
                net.relate(item, RelationType::ConnectsTo, s);
            }
        };
        let storage: Vec<u32> = (1..=4)
            .map(|k| {
                let s = self.infra(
                    p,
                    Storage,
                    format!("SAN {k}"),
                    format!("dc1-san{k:02}"),
                    None,
                    vec![("capacity_tb", (50 * k).to_string())],
                );
                dual_homed(self, s);
                s
            })
            .collect();
        let backup: Vec<u32> = (1..=4)
            .map(|k| {
                let b = self.infra(
                    p,
                    PhysicalServer,
                    format!("Backupserver {k}"),
                    format!("dc2-bk{k:02}"),
                    None,
                    vec![("operating_system", "Windows Server 2022".into())],
                );
                dual_homed(self, b);
                b
            })
            .collect();
        let hosts = (total_items / 5_000).max(4);
        for k in 1..=hosts {
            let h = self.infra(
                p,
                PhysicalServer,
                format!("Virtualiseringsvert {k}"),
                format!("dc1-esx{k:03}"),
                None,
                vec![("cpu_cores", "64".into()), ("memory_gb", "1024".into())],
            );
            dual_homed(self, h);
        }
        let clusters: Vec<u32> = (1..=(hosts / 8).max(1))
            .map(|k| {
                let c = self.infra(
                    p,
                    HypervisorCluster,
                    format!("Klynge {k}"),
                    format!("dc1-cl{k:02}"),
                    None,
                    vec![("platform", "vmware".into()), ("host_count", "8".into())],
                );
                dual_homed(self, c);
                let s = storage[k % storage.len()];
                self.relate(c, RelationType::DependsOn, s);
                c
            })
            .collect();
        let vms: Vec<u32> = (1..=(total_items / 100).max(10))
            .map(|k| {
                let os = *self.rng.pick(&[
                    "Windows Server 2022",
                    "Windows Server 2019",
                    "Ubuntu 22.04",
                    "RHEL 9",
                ]);
                let v = self.infra(
                    p,
                    VirtualMachine,
                    format!("VM {k:05}"),
                    format!("dc1-vm{k:05}"),
                    None,
                    vec![
                        ("operating_system", os.into()),
                        ("ip_address", format!("10.1.{}.{}", k / 250, k % 250 + 1)),
                        ("cpu_cores", "4".into()),
                        ("memory_gb", "16".into()),
                    ],
                );
                let c = *self.rng.pick(&clusters);
                self.relate(v, RelationType::RunsOn, c);
                v
            })
            .collect();
        let databases: Vec<u32> = (1..=(total_items / 500).max(4))
            .map(|k| {
                let engine = *self.rng.pick(&["SQL Server", "PostgreSQL", "Oracle"]);
                let d = self.infra(
                    p,
                    Database,
                    format!("Database {k:04}"),
                    format!("dc1-db{k:04}"),
                    None,
                    vec![("engine", engine.into()), ("version", "16".into())],
                );
                let v = *self.rng.pick(&vms);
                self.relate(d, RelationType::RunsOn, v);
                d
            })
            .collect();
        let systems = [
            "Sak og arkiv",
            "Lønn",
            "Økonomi",
            "Journal",
            "Skoleportal",
            "Turnus",
            "Byggesak",
            "Barnehageportal",
            "Omsorg",
            "Innbyggerportal",
            "Velferdsteknologi",
            "Bibliotek",
        ];
        let apps = (total_items / 250).max(12);
        let mut server_apps: Vec<u32> = Vec::new();
        for k in 0..apps {
            let name = format!("{} {}", systems[k % systems.len()], k / systems.len() + 1);
            let a = self.add(NewItem {
                tenant: p,
                item_type: Application,
                name,
                hostname: None,
                location: None,
                owner: "Applikasjonsforvaltning",
                attributes: vec![("version", format!("{}.{}", k % 7 + 1, k % 10))],
                serial: false,
                lifecycle: Lifecycle::Deployed,
            });
            let v = *self.rng.pick(&vms);
            self.relate(a, RelationType::RunsOn, v);
            if self.rng.chance(0.6) {
                let d = *self.rng.pick(&databases);
                self.relate(a, RelationType::DependsOn, d);
            }
            // Only on applications made before it: depends_on stays acyclic.
            if !server_apps.is_empty() && self.rng.chance(0.25) {
                let other = *self.rng.pick(&server_apps);
                self.relate(a, RelationType::DependsOn, other);
            }
            server_apps.push(a);
        }
        let client_apps: Vec<u32> = [
            "Office",
            "Nettleser",
            "PDF-leser",
            "Teams",
            "Skoleklient",
            "Journalklient",
        ]
        .iter()
        .map(|name| {
            self.add(NewItem {
                tenant: p,
                item_type: Application,
                name: format!("{name} (klient)"),
                hostname: None,
                location: None,
                owner: "Applikasjonsforvaltning",
                attributes: vec![("version", "2024".into())],
                serial: false,
                lifecycle: Lifecycle::Deployed,
            })
        })
        .collect();
        for k in 1..=(total_items / 1_000).max(2) {
            let s = self.add(NewItem {
                tenant: p,
                item_type: Service,
                name: format!("Tjeneste {} {k}", systems[k % systems.len()]),
                hostname: None,
                location: None,
                owner: "Tjenesteeier",
                attributes: vec![("service_hours", "07-16".into())],
                serial: false,
                lifecycle: Lifecycle::Deployed,
            });
            for _ in 0..self.rng.between(1, 5) {
                let a = *self.rng.pick(&server_apps);
                self.relate(s, RelationType::DependsOn, a);
            }
        }
        DataCentre {
            firewalls: fw,
            server_apps,
            client_apps,
            backup,
            vms,
            databases,
        }
    }

    /// One municipality of `budget` items: core, local servers, services, sites.
    fn municipality(
        &mut self,
        m: &Municipality<'_>,
        budget: usize,
        dc: &DataCentre,
    ) -> MunicipalityParts {
        use ItemType::*;
        let tenant = &m.world.id;
        let code = format!("b{:03}", m.index);
        let v = m.world.vocabulary;
        let device =
            |role: &str, ip: String| vec![("device_role", role.to_string()), ("ip_address", ip)];
        let town_hall = &m.sites[0].location;
        let net = m.index % 250;
        let fw = self.infra(
            tenant,
            NetworkDevice,
            "Brannmur rådhus".into(),
            format!("{code}-fw01"),
            Some(town_hall),
            device("firewall", format!("10.{net}.0.1")),
        );
        for f in dc.firewalls {
            self.relate(fw, RelationType::ConnectsTo, f);
        }
        let core = self.infra(
            tenant,
            NetworkDevice,
            "Kjernesvitsj rådhus".into(),
            format!("{code}-core-sw01"),
            Some(town_hall),
            device("switch", format!("10.{net}.0.2")),
        );
        self.relate(core, RelationType::ConnectsTo, fw);
        let before = self.items.len();
        let servers: Vec<u32> = (1..=(2 + budget / 5_000).min(6))
            .map(|k| {
                let s = self.infra(
                    tenant,
                    PhysicalServer,
                    format!("Lokal server {k}"),
                    format!("{code}-srv{k:02}"),
                    Some(town_hall),
                    vec![("operating_system", "Windows Server 2019".into())],
                );
                self.relate(s, RelationType::ConnectsTo, core);
                s
            })
            .collect();
        let nas = self.infra(
            tenant,
            Storage,
            "NAS rådhus".into(),
            format!("{code}-nas01"),
            Some(town_hall),
            vec![],
        );
        self.relate(nas, RelationType::ConnectsTo, core);
        let service_names: &[&str] = if v.municipality_word == "kommune" {
            &[
                "Hjemmetjenesten",
                "Skole",
                "Barnehage",
                "Sak og arkiv",
                "Økonomi",
                "Lønn og personal",
                "Helsestasjon",
                "Byggesak",
                "Barnevern",
                "NAV-kontor",
                "Legevakt",
                "Bibliotek",
                "Kulturskole",
                "Teknisk drift",
                "Servicetorg",
                "Trygghetsalarmer",
            ]
        } else {
            &[
                "Hjemmeplejen",
                "Skole",
                "Dagtilbud",
                "ESDH",
                "Økonomi",
                "Løn og personale",
                "Sundhedspleje",
                "Byggesag",
                "Børn og unge",
                "Jobcenter",
                "Akutklinik",
                "Bibliotek",
                "Musikskole",
                "Teknik og miljø",
                "Borgerservice",
                "Nødkald",
            ]
        };
        let count = (8 + budget / 1_000).min(service_names.len());
        let services: Vec<u32> = service_names[..count]
            .iter()
            .map(|name| {
                let s = self.add(NewItem {
                    tenant,
                    item_type: Service,
                    name: (*name).to_string(),
                    hostname: None,
                    location: None,
                    owner: name,
                    attributes: vec![("service_hours", "24/7".into())],
                    serial: false,
                    lifecycle: Lifecycle::Deployed,
                });
                for _ in 0..self.rng.between(1, 4) {
                    let a = *self.rng.pick(&dc.server_apps);
                    self.relate(s, RelationType::DependsOn, a);
                }
                s
            })
            .collect();
        // Each site: a router with a fibre link to the core and, mostly, a 4G backup that
        // reaches the firewall without the core.
        let mut site_links = Vec::with_capacity(m.sites.len());
        for (k, site) in m.sites.iter().enumerate() {
            let loc = Some(&site.location);
            let router = self.infra(
                tenant,
                NetworkDevice,
                format!("Ruter lokasjon {k}"),
                format!("{code}-s{k:03}-rt01"),
                loc,
                device("router", format!("10.{net}.{}.1", k + 1)),
            );
            let fibre = self.infra(
                tenant,
                NetworkLink,
                format!("Fiber lokasjon {k}"),
                format!("{code}-s{k:03}-fiber"),
                loc,
                vec![
                    ("medium", "fibre".into()),
                    ("primary", "true".into()),
                    ("bandwidth_mbps", "1000".into()),
                    ("circuit_id", format!("FB-{code}-{k:04}")),
                ],
            );
            self.relate(router, RelationType::ConnectsTo, fibre);
            self.relate(fibre, RelationType::ConnectsTo, core);
            if k == 0 || self.rng.chance(BACKUP_SHARE) {
                let backup = self.infra(
                    tenant,
                    NetworkLink,
                    format!("4G reserve lokasjon {k}"),
                    format!("{code}-s{k:03}-4g"),
                    loc,
                    vec![
                        ("medium", "4g".into()),
                        ("primary", "false".into()),
                        ("bandwidth_mbps", "100".into()),
                    ],
                );
                self.relate(router, RelationType::ConnectsTo, backup);
                self.relate(backup, RelationType::ConnectsTo, fw);
            }
            site_links.push(router);
        }
        let fixed = self.items.len() - before;
        let weights: Vec<f64> = m
            .sites
            .iter()
            .map(|s| site_weight(s.kind) * (0.5 + self.rng.unit()))
            .collect();
        let shares = apportion(budget.saturating_sub(fixed + 2), &weights);
        let mut parts = MunicipalityParts {
            tenant: tenant.clone(),
            services,
            servers,
            nas,
            access_points: Vec::new(),
            wireless: Vec::new(),
            endpoints: Vec::new(),
            computers: Vec::new(),
        };
        let mut seq = 0usize;
        for (k, (site, share)) in m.sites.iter().zip(shares).enumerate() {
            let loc = Some(&site.location);
            let router = site_links[k];
            let switches = (share / (PER_SWITCH + 2)).max(1);
            let aps = (share / (PER_ACCESS_POINT + 1)).max(1);
            let devices = share.saturating_sub(switches + aps);
            let switch_ids: Vec<u32> = (1..=switches)
                .map(|j| {
                    let s = self.infra(
                        tenant,
                        NetworkDevice,
                        format!("Svitsj lokasjon {k} nr {j}"),
                        format!("{code}-s{k:03}-sw{j:02}"),
                        loc,
                        device("switch", format!("10.{net}.{}.{}", k + 1, j + 1)),
                    );
                    self.relate(s, RelationType::ConnectsTo, router);
                    s
                })
                .collect();
            let ap_ids: Vec<u32> = (1..=aps)
                .map(|j| {
                    let a = self.infra(
                        tenant,
                        NetworkDevice,
                        format!("Aksesspunkt lokasjon {k} nr {j}"),
                        format!("{code}-s{k:03}-ap{j:03}"),
                        loc,
                        device(
                            "access_point",
                            format!("10.{net}.{}.{}", k % 150 + 101, j % 250),
                        ),
                    );
                    let s = *self.rng.pick(&switch_ids);
                    self.relate(a, RelationType::ConnectsTo, s);
                    a
                })
                .collect();
            let mix = device_mix(site.kind);
            let mix_weights: Vec<f64> = mix.iter().map(|(_, w)| *w).collect();
            for _ in 0..devices {
                let t = mix[weighted(&mut self.rng, &mix_weights)].0;
                seq += 1;
                let in_stock = self.rng.chance(0.03);
                let owner = *self.rng.pick(v.groups);
                let mut attributes = Vec::new();
                match t {
                    Workstation | Laptop | ThinClient => {
                        attributes.push((
                            "operating_system",
                            if t == ThinClient {
                                "IGEL OS 11"
                            } else {
                                "Windows 11"
                            }
                            .to_string(),
                        ));
                    }
                    Phone => attributes.push((
                        "phone_number",
                        format!("+47 9{:07}", self.serial % 10_000_000),
                    )),
                    Printer => attributes.push((
                        "ip_address",
                        format!("10.{net}.{}.{}", k + 1, 200 + seq % 50),
                    )),
                    WelfareDevice => attributes.push(("receiving_centre", "Alarmsentralen".into())),
                    _ => {}
                }
                let word = match t {
                    Workstation => "PC",
                    Laptop => "Bærbar",
                    Tablet => "Nettbrett",
                    ThinClient => "Tynnklient",
                    Phone => "Mobil",
                    Printer => "Skriver",
                    _ => "Trygghetsalarm",
                };
                let item = self.add(NewItem {
                    tenant,
                    item_type: t,
                    name: format!("{word} {code}-{seq:06}"),
                    hostname: host_prefix(t).map(|h| format!("{code}-{h}{seq:06}")),
                    location: loc,
                    owner,
                    attributes,
                    serial: true,
                    lifecycle: if in_stock {
                        Lifecycle::InStock
                    } else {
                        Lifecycle::Deployed
                    },
                });
                if in_stock {
                    continue;
                }
                if is_wireless(t) {
                    let a = *self.rng.pick(&ap_ids);
                    self.relate(item, RelationType::ConnectsTo, a);
                    parts.wireless.push((item, parts.access_points.len()));
                } else {
                    let s = *self.rng.pick(&switch_ids);
                    self.relate(item, RelationType::ConnectsTo, s);
                }
                if matches!(t, Workstation | Laptop | ThinClient) {
                    parts.computers.push(item);
                }
                parts.endpoints.push(item);
            }
            parts.access_points.push(ap_ids);
        }
        parts
    }

    /// Client applications installed on computers (installed_on, from application to device:
    /// acyclic, since devices need nothing through cycle-forbidding relations).
    fn installs(&mut self, parts: &[MunicipalityParts], dc: &DataCentre) {
        for p in parts {
            for &c in &p.computers {
                let n = self.rng.between(0, 2) as usize;
                for _ in 0..n {
                    let a = *self.rng.pick(&dc.client_apps);
                    self.relate(a, RelationType::InstalledOn, c);
                }
            }
        }
    }

    /// Relations of cycle-allowing types until there are `target`: a second access point for
    /// wireless devices (roaming), the service a device is used by, and backups.
    fn fill(&mut self, target: usize, parts: &[MunicipalityParts], dc: &DataCentre) {
        let weights: Vec<f64> = parts.iter().map(|p| p.endpoints.len() as f64).collect();
        let mut attempts = 0usize;
        let limit = target.saturating_sub(self.relations.len()) * 20 + 1_000;
        while self.relations.len() < target && attempts < limit {
            attempts += 1;
            let p = &parts[weighted(&mut self.rng, &weights)];
            let x = self.rng.unit();
            if x < 0.45 {
                if p.wireless.is_empty() {
                    continue;
                }
                let (device, site) = *self.rng.pick(&p.wireless);
                let ap = *self.rng.pick(&p.access_points[site]);
                self.relate(device, RelationType::ConnectsTo, ap);
            } else if x < 0.9 {
                if p.endpoints.is_empty() {
                    continue;
                }
                let device = *self.rng.pick(&p.endpoints);
                let service = *self.rng.pick(&p.services);
                self.relate(device, RelationType::UsedBy, service);
            } else if x < 0.97 {
                let b = *self.rng.pick(&dc.backup);
                let target = if self.rng.chance(0.8) {
                    *self.rng.pick(&dc.vms)
                } else {
                    *self.rng.pick(&dc.databases)
                };
                self.relate(b, RelationType::BacksUp, target);
            } else {
                let s = *self.rng.pick(&p.servers);
                self.relate(p.nas, RelationType::BacksUp, s);
                debug_assert_eq!(self.items[s as usize].tenant_id, p.tenant);
            }
        }
    }

    fn counts(&self, sites: usize) -> Generated {
        let mut g = Generated {
            items: self.items.len(),
            relations: self.relations.len(),
            sites,
            ..Generated::default()
        };
        for i in &self.items {
            *g.by_type.entry(i.item_type.as_str()).or_default() += 1;
        }
        for r in &self.relations {
            *g.by_relation.entry(r.relation.as_str()).or_default() += 1;
        }
        g
    }
}

/// Creates the sites of each municipality as locations (the three made with the world are
/// the first), `count[i]` in all for municipality `i`.
async fn make_sites<'w>(
    store: &Store,
    scope: &Scope,
    world: &'w World,
    count: &[usize],
    rng: &mut Rng,
) -> Result<Vec<Municipality<'w>>, StoreError> {
    let mut out = Vec::with_capacity(world.municipalities.len());
    for (i, m) in world.municipalities.iter().enumerate() {
        let mut existing = store.list_locations(scope, Some(&m.id)).await?;
        // The town hall first: it holds the core.
        existing.sort_by_key(|l| l.kind != LocationKind::TownHall);
        let v = m.vocabulary;
        let short = existing
            .iter()
            .find(|l| l.kind == LocationKind::TownHall)
            .and_then(|l| l.name.strip_suffix(v.locations[0].0))
            .unwrap_or(&m.name)
            .to_string();
        let mut sites: Vec<Site> = existing
            .into_iter()
            .map(|l| Site {
                location: l.id,
                kind: l.kind,
            })
            .collect();
        let kinds = [
            (LocationKind::School, 0.35),
            (LocationKind::Kindergarten, 0.25),
            (LocationKind::CareHome, 0.2),
            (LocationKind::Office, 0.2),
        ];
        let kind_weights: Vec<f64> = kinds.iter().map(|(_, w)| *w).collect();
        let mut numbers: BTreeMap<&str, usize> = BTreeMap::new();
        while sites.len() < count[i] {
            let kind = kinds[weighted(rng, &kind_weights)].0;
            let suffix = match kind {
                LocationKind::School => v.locations[1].0,
                LocationKind::CareHome => v.locations[2].0,
                LocationKind::Kindergarten => v.locations[3].0,
                _ => " kontor",
            };
            let n = numbers.entry(suffix).or_insert(1);
            *n += 1;
            let location = store
                .create_location(
                    scope,
                    &m.id,
                    NewLocation {
                        name: format!("{short}{suffix} {n}"),
                        kind,
                        address: String::new(),
                    },
                )
                .await?;
            sites.push(Site {
                location: location.id,
                kind,
            });
        }
        out.push(Municipality {
            index: i,
            world: m,
            sites,
        });
    }
    Ok(out)
}

/// Closes and opens the store again. SQLite loads planner statistics when a connection
/// reads the schema, so connections opened before `Store::analyze` would go on planning
/// without them (and each pooled connection might plan differently): reopening makes every
/// measurement use the statistics, as a server started after a bulk import would.
async fn reopen(store: Store, url: &str) -> Result<Store, Failure> {
    store.close().await;
    drop(store);
    Ok(Store::connect(url, &ConnectOptions::default()).await?)
}

/// Generates the network and writes it through `Store::bulk_load_items`.
async fn generate_and_load(
    store: &Store,
    scope: &Scope,
    world: &World,
    args: &InventoryArgs,
) -> Result<(Generated, Duration, Duration), Failure> {
    let started = Instant::now();
    let provider = store.find_tenant_by_slug(scope, "benk-it").await?;
    let mut net = Network::new(store.now());
    let dc = net.data_centre(&provider.id, args.items);
    let left = args.items.saturating_sub(net.items.len());
    let weights: Vec<f64> = world.municipalities.iter().map(|m| m.weight).collect();
    let budgets = apportion(left, &weights);
    let site_counts: Vec<usize> = budgets.iter().map(|b| (b / 350).max(3)).collect();
    let mut rng = Rng::new(99);
    let municipalities = make_sites(store, scope, world, &site_counts, &mut rng).await?;
    let mut parts = Vec::new();
    for (m, budget) in municipalities.iter().zip(&budgets) {
        parts.push(net.municipality(m, *budget, &dc));
    }
    net.installs(&parts, &dc);
    net.fill(args.relations, &parts, &dc);
    let sites: usize = municipalities.iter().map(|m| m.sites.len()).sum();
    let generated = net.counts(sites);
    let generate_time = started.elapsed();
    eprintln!(
        "drifta-bench: generated {} items, {} relations, {} sites in {:.1} s",
        thousands(generated.items as i64),
        thousands(generated.relations as i64),
        sites,
        generate_time.as_secs_f64()
    );

    let started = Instant::now();
    let batch = args.batch.max(1);
    let mut items = std::mem::take(&mut net.items).into_iter().peekable();
    let mut loaded = 0;
    while items.peek().is_some() {
        let chunk: Vec<BulkItem> = items.by_ref().take(batch).collect();
        loaded += store.bulk_load_items(scope, chunk, Vec::new()).await?.items;
        if loaded % 50_000 < batch as u64 {
            eprintln!(
                "drifta-bench: loaded {} items in {:.0} s",
                thousands(loaded as i64),
                started.elapsed().as_secs_f64()
            );
        }
    }
    let mut relations = std::mem::take(&mut net.relations).into_iter().peekable();
    let mut related = 0;
    while relations.peek().is_some() {
        let chunk: Vec<BulkRelation> = relations.by_ref().take(batch * 10).collect();
        related += store
            .bulk_load_items(scope, Vec::new(), chunk)
            .await?
            .relations;
        eprintln!(
            "drifta-bench: loaded {} relations in {:.0} s",
            thousands(related as i64),
            started.elapsed().as_secs_f64()
        );
    }
    Ok((generated, generate_time, started.elapsed()))
}

/// What the measurements work on, found in the database (so `--reuse` finds the same).
struct Targets {
    largest: TenantId,
    largest_name: String,
    core_switch: String,
    median_name: String,
    median_core_switch: String,
    service: String,
    service_name: String,
    cluster: String,
    host_names: Vec<String>,
    import_tenant: TenantId,
}

async fn find_targets(store: &Store, scope: &Scope, world: &World) -> Result<Targets, Failure> {
    let largest = &world.municipalities[0];
    let first = |filter: ItemFilter| async move {
        store
            .list_items(scope, &filter)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Failure::from(format!("no item found by {filter:?}")))
    };
    let core = first(ItemFilter {
        tenant: Some(largest.id.clone()),
        item_type: Some(ItemType::NetworkDevice),
        text: "b000-core-sw01".into(),
        limit: 1,
        ..ItemFilter::default()
    })
    .await?;
    let median_index = world.municipalities.len() / 2;
    let median = &world.municipalities[median_index];
    let median_core = first(ItemFilter {
        tenant: Some(median.id.clone()),
        item_type: Some(ItemType::NetworkDevice),
        text: format!("b{median_index:03}-core-sw01"),
        limit: 1,
        ..ItemFilter::default()
    })
    .await?;
    let service = first(ItemFilter {
        tenant: Some(largest.id.clone()),
        item_type: Some(ItemType::Service),
        text: "hjemme".into(),
        limit: 1,
        ..ItemFilter::default()
    })
    .await?;
    let provider = store.find_tenant_by_slug(scope, "benk-it").await?;
    let cluster = first(ItemFilter {
        tenant: Some(provider.id.clone()),
        item_type: Some(ItemType::HypervisorCluster),
        limit: 1,
        ..ItemFilter::default()
    })
    .await?;
    let mut host_names = Vec::new();
    for k in 0..20usize {
        let m = &world.municipalities[(k * 7) % world.municipalities.len()];
        let page = store
            .list_items(
                scope,
                &ItemFilter {
                    tenant: Some(m.id.clone()),
                    item_type: Some(if k % 2 == 0 {
                        ItemType::Laptop
                    } else {
                        ItemType::Workstation
                    }),
                    limit: 1,
                    offset: (k * 13 % 40) as i64,
                    ..ItemFilter::default()
                },
            )
            .await?;
        host_names.extend(page.into_iter().filter_map(|i| i.hostname));
    }
    if host_names.is_empty() {
        return Err("no host names to search for".into());
    }
    Ok(Targets {
        largest: largest.id.clone(),
        largest_name: largest.name.clone(),
        core_switch: core.id,
        median_name: median.name.clone(),
        median_core_switch: median_core.id,
        service: service.id,
        service_name: service.name,
        cluster: cluster.id,
        host_names,
        import_tenant: largest.id.clone(),
    })
}

/// A CSV file of `rows` laptops for one municipality, with columns as people export them.
fn import_csv(rows: usize, locations: &[String], today: jiff::civil::Date) -> Vec<u8> {
    let mut rng = Rng::new(2024);
    let mut out = String::with_capacity(rows * 110);
    out.push_str("name,serial_number,hostname,model,warranty_until,location\n");
    for n in 1..=rows {
        let model = model(ItemType::Laptop, &mut rng);
        let warranty = today
            .checked_add(jiff::Span::new().days(rng.between(-700, 1_100)))
            .unwrap_or(today);
        let location = if locations.is_empty() {
            ""
        } else {
            rng.pick(locations).as_str()
        };
        let scrambled = (n as u32).wrapping_mul(0x2545_F491);
        out.push_str(&format!(
            "Elev-PC {n:06},IMP{scrambled:08X},imp-lt{n:06},{model},{warranty},{location}\n"
        ));
    }
    out.into_bytes()
}

struct ImportRun {
    label: String,
    seconds: f64,
    rows: usize,
    created: usize,
    updated: usize,
    problems: usize,
    error: Option<String>,
}

impl ImportRun {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "seconds": self.seconds,
            "rows": self.rows,
            "rows_per_s": self.rows as f64 / self.seconds,
            "created": self.created,
            "updated": self.updated,
            "problems": self.problems,
            "error": self.error,
            "target": "< 10 s",
        })
    }
}

async fn import(
    store: &Store,
    scope: &Scope,
    tenant: &TenantId,
    bytes: &[u8],
    label: &str,
) -> ImportRun {
    let started = Instant::now();
    let result = store
        .import_items(
            scope,
            tenant,
            ItemType::Laptop,
            bytes,
            ImportMode::ValidOnly,
            &|_, _| {},
        )
        .await;
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(r) => ImportRun {
            label: label.to_string(),
            seconds,
            rows: r.total_rows,
            created: r.created,
            updated: r.updated,
            problems: r.problems.len(),
            error: None,
        },
        Err(e) => ImportRun {
            label: label.to_string(),
            seconds,
            rows: 0,
            created: 0,
            updated: 0,
            problems: 0,
            error: Some(e.to_string()),
        },
    }
}

pub async fn run(args: InventoryArgs) -> Result<(), Failure> {
    let mut store = Store::connect(&args.database_url, &ConnectOptions::default()).await?;
    let started = Instant::now();
    let applied = store.migrate().await?;
    if !applied.is_empty() {
        eprintln!(
            "drifta-bench: applied migrations {applied:?} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let backend = match store.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let (world, loading) = if args.reuse {
        let world = desk::open_world(&store)
            .await
            .map_err(|e| format!("--reuse: no inventory from an earlier run found ({e})"))?;
        eprintln!("drifta-bench: {backend}, measuring the inventory already there");
        // An earlier run's import leaves its items queued for the indexer; a text search
        // would index them all first.
        let t = Instant::now();
        store.flush_search_queue().await?;
        eprintln!(
            "drifta-bench: search queue flushed in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        if !applied.is_empty() {
            // New indexes get statistics like the rest (see below).
            store.analyze().await?;
            store = reopen(store, &args.database_url).await?;
        }
        (world, None)
    } else {
        if !store.is_empty().await? {
            return Err(format!(
                "{} is not empty; the benchmark fills a fresh database (or measures its own earlier one with --reuse)",
                redact_url(&args.database_url)
            )
            .into());
        }
        eprintln!(
            "drifta-bench: {backend}, {} items and {} relations in {} municipalities",
            thousands(args.items as i64),
            thousands(args.relations as i64),
            args.municipalities
        );
        let started = Instant::now();
        let world = desk::build_world(&store, args.municipalities.max(1)).await?;
        let installation = store
            .installation_scope(Actor::system("drifta-bench"))
            .await?;
        let setup = started.elapsed();
        let (generated, generate_time, load_time) =
            generate_and_load(&store, &installation, &world, &args).await?;
        let started = Instant::now();
        store.analyze().await?;
        let analyze_time = started.elapsed();
        store = reopen(store, &args.database_url).await?;
        (
            world,
            Some((generated, setup, generate_time, load_time, analyze_time)),
        )
    };
    let installation = store
        .installation_scope(Actor::system("drifta-bench"))
        .await?;
    let database_bytes = store.dataset_stats(&installation).await?.database_bytes;
    let tech = desk::technician_scope(&store, &world).await?;
    let targets = find_targets(&store, &tech, &world).await?;
    eprintln!("drifta-bench: measuring");

    // The first analysis reads the provider's relation graph into memory.
    let started = Instant::now();
    store
        .impact_view(
            &tech,
            &targets.core_switch,
            ImpactDirection::Dependants,
            PAGE_VIEW,
        )
        .await?;
    let first_impact = started.elapsed();

    // Figures of the impact reports themselves, from one run each, every item named.
    let core_report = store
        .impact(&tech, &targets.core_switch, ImpactDirection::Dependants)
        .await?;
    let core_down = core_report
        .nodes
        .iter()
        .filter(|n| n.effect == Some(Effect::Down))
        .count();
    let core_degraded = core_report.nodes.len() - core_down;
    let median_report = store
        .impact(
            &tech,
            &targets.median_core_switch,
            ImpactDirection::Dependants,
        )
        .await?;
    let service_report = store
        .impact(&tech, &targets.service, ImpactDirection::Needs)
        .await?;
    let cluster_report = store
        .impact(&tech, &targets.cluster, ImpactDirection::Dependants)
        .await?;

    let (repeat, budget) = (args.repeat, args.budget_seconds);
    let mut samples = Vec::new();
    samples.push(
        measure_reads(
            repeat,
            budget,
            "impact: core switch, largest",
            "p95 < 50 ms",
            |_| {
                let (store, tech, id) = (&store, &tech, &targets.core_switch);
                async move {
                    store
                        .impact_view(tech, id, ImpactDirection::Dependants, PAGE_VIEW)
                        .await
                        .map(|r| r.total)
                }
            },
        )
        .await,
    );
    samples.push(
        measure_reads(
            repeat,
            budget,
            "impact: core switch, median",
            "p95 < 50 ms",
            |_| {
                let (store, tech, id) = (&store, &tech, &targets.median_core_switch);
                async move {
                    store
                        .impact_view(tech, id, ImpactDirection::Dependants, PAGE_VIEW)
                        .await
                        .map(|r| r.total)
                }
            },
        )
        .await,
    );
    samples.push(
        measure_reads(
            repeat,
            budget,
            "impact: what a service needs",
            "p95 < 50 ms",
            |_| {
                let (store, tech, id) = (&store, &tech, &targets.service);
                async move {
                    store
                        .impact_view(tech, id, ImpactDirection::Needs, PAGE_VIEW)
                        .await
                        .map(|r| r.total)
                }
            },
        )
        .await,
    );
    samples.push(
        measure_reads(
            repeat,
            budget,
            "impact: hypervisor cluster",
            "p95 < 50 ms",
            |_| {
                let (store, tech, id) = (&store, &tech, &targets.cluster);
                async move {
                    store
                        .impact_view(tech, id, ImpactDirection::Dependants, PAGE_VIEW)
                        .await
                        .map(|r| r.total)
                }
            },
        )
        .await,
    );
    samples.push(
        measure_reads(
            repeat.min(20),
            budget,
            "impact: largest, all named (CSV)",
            "export",
            |_| {
                let (store, tech, id) = (&store, &tech, &targets.core_switch);
                async move {
                    store
                        .impact(tech, id, ImpactDirection::Dependants)
                        .await
                        .map(|r| r.nodes.len())
                }
            },
        )
        .await,
    );
    samples.push(impact_after_changes(&store, &tech, &args.database_url, &targets).await?);
    let types = [
        ItemType::Laptop,
        ItemType::Workstation,
        ItemType::Tablet,
        ItemType::Phone,
        ItemType::Printer,
    ];
    let tenants: Vec<TenantId> = world.municipalities.iter().map(|m| m.id.clone()).collect();
    let list = |filter: ItemFilter| {
        let (store, tech) = (&store, &tech);
        async move { store.list_items(tech, &filter).await.map(|r| r.len()) }
    };
    samples.push(
        measure_reads(
            repeat,
            budget,
            "list: municipality + type",
            "p95 < 30 ms",
            |i| {
                list(ItemFilter {
                    tenant: Some(tenants[i % tenants.len()].clone()),
                    item_type: Some(types[i % types.len()]),
                    limit: 50,
                    ..ItemFilter::default()
                })
            },
        )
        .await,
    );
    samples.push(
        measure_reads(
            repeat,
            budget,
            "list: largest, laptops",
            "p95 < 30 ms",
            |_| {
                list(ItemFilter {
                    tenant: Some(targets.largest.clone()),
                    item_type: Some(ItemType::Laptop),
                    limit: 50,
                    ..ItemFilter::default()
                })
            },
        )
        .await,
    );
    samples.push(
        measure_reads(
            repeat,
            budget,
            "list: all, no filter",
            "p95 < 30 ms",
            |_| {
                list(ItemFilter {
                    limit: 50,
                    ..ItemFilter::default()
                })
            },
        )
        .await,
    );
    let today = store.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let warranty = today
        .checked_add(jiff::Span::new().days(90))
        .unwrap_or(today)
        .to_string();
    samples.push(
        measure_reads(
            repeat,
            budget,
            "list: warranty, largest",
            "p95 < 30 ms",
            |_| {
                list(ItemFilter {
                    tenant: Some(targets.largest.clone()),
                    warranty_until: Some(warranty.clone()),
                    limit: 50,
                    ..ItemFilter::default()
                })
            },
        )
        .await,
    );
    samples.push(
        measure_reads(repeat, budget, "list: warranty, all", "p95 < 30 ms", |_| {
            list(ItemFilter {
                warranty_until: Some(warranty.clone()),
                limit: 50,
                ..ItemFilter::default()
            })
        })
        .await,
    );
    let mut search_hits = 0;
    for h in &targets.host_names {
        search_hits += list(ItemFilter {
            text: h.clone(),
            limit: 50,
            ..ItemFilter::default()
        })
        .await?;
    }
    samples.push(
        measure_reads(
            repeat,
            budget,
            "list: search host name",
            "p95 < 30 ms",
            |i| {
                list(ItemFilter {
                    text: targets.host_names[i % targets.host_names.len()].clone(),
                    limit: 50,
                    ..ItemFilter::default()
                })
            },
        )
        .await,
    );

    let mut imports = Vec::new();
    if args.import_rows > 0 {
        let locations: Vec<String> = store
            .list_locations(&tech, Some(&targets.import_tenant))
            .await?
            .into_iter()
            .map(|l| l.name)
            .collect();
        let bytes = import_csv(args.import_rows, &locations, today);
        eprintln!(
            "drifta-bench: importing {} laptops ({}) into {}",
            thousands(args.import_rows as i64),
            size(bytes.len() as i64),
            targets.largest_name
        );
        let first = import(&store, &tech, &targets.import_tenant, &bytes, "import CSV").await;
        imports.push(first);
        let second = import(
            &store,
            &tech,
            &targets.import_tenant,
            &bytes,
            "import same CSV again",
        )
        .await;
        imports.push(second);
    }

    let report = Report {
        backend,
        args: &args,
        world: &world,
        targets: &targets,
        loading: loading.as_ref(),
        database_bytes,
        first_impact,
        core: (
            core_report.nodes.len(),
            core_down,
            core_degraded,
            core_report.hidden,
        ),
        median: median_report.nodes.len(),
        service: (service_report.nodes.len(), service_report.hidden),
        cluster: cluster_report.nodes.len(),
        search_hits,
        samples: &samples,
        imports: &imports,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.json())?);
    } else {
        report.print();
    }
    Ok(())
}

/// Impact of the largest core switch right after another node (a second connection to the
/// same database) changed a relation, so the analysis reads the graph again: a backs_up
/// relation between the service and the core switch, added and removed in turn.
async fn impact_after_changes(
    store: &Store,
    tech: &Scope,
    url: &str,
    targets: &Targets,
) -> Result<Sample, Failure> {
    let other = Store::connect(url, &ConnectOptions::default()).await?;
    let mut times = Vec::new();
    for round in 0..10 {
        let (from, to) = (&targets.service, &targets.core_switch);
        if round % 2 == 0 {
            other
                .relate_items(tech, from, RelationType::BacksUp, to)
                .await?;
        } else {
            other
                .unrelate_items(tech, from, RelationType::BacksUp, to)
                .await?;
        }
        let started = Instant::now();
        store
            .impact_view(
                tech,
                &targets.core_switch,
                ImpactDirection::Dependants,
                PAGE_VIEW,
            )
            .await?;
        times.push(ms(started.elapsed()));
    }
    other.close().await;
    Ok(Sample::new(
        "impact: first after a change elsewhere",
        "reload",
        times,
    ))
}

type Loading = (Generated, Duration, Duration, Duration, Duration);

struct Report<'a> {
    backend: &'a str,
    args: &'a InventoryArgs,
    world: &'a World,
    targets: &'a Targets,
    loading: Option<&'a Loading>,
    database_bytes: i64,
    /// The first analysis, which reads the relation graph.
    first_impact: Duration,
    /// Affected, down, degraded, hidden.
    core: (usize, usize, usize, usize),
    median: usize,
    service: (usize, usize),
    cluster: usize,
    search_hits: usize,
    samples: &'a [Sample],
    imports: &'a [ImportRun],
}

impl Report<'_> {
    fn json(&self) -> serde_json::Value {
        let samples: serde_json::Map<String, serde_json::Value> = self
            .samples
            .iter()
            .map(|s| (s.label.clone(), s.json()))
            .collect();
        let imports: serde_json::Map<String, serde_json::Value> = self
            .imports
            .iter()
            .map(|i| (i.label.clone(), i.json()))
            .collect();
        serde_json::json!({
            "backend": self.backend,
            "database_url": redact_url(&self.args.database_url),
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "municipalities": self.world.municipalities.len(),
            "reused": self.loading.is_none(),
            "items": self.loading.map(|l| l.0.items),
            "relations": self.loading.map(|l| l.0.relations),
            "sites": self.loading.map(|l| l.0.sites),
            "items_by_type": self.loading.map(|l| &l.0.by_type),
            "relations_by_type": self.loading.map(|l| &l.0.by_relation),
            "setup_s": self.loading.map(|l| l.1.as_secs_f64()),
            "generate_s": self.loading.map(|l| l.2.as_secs_f64()),
            "load_s": self.loading.map(|l| l.3.as_secs_f64()),
            "analyze_s": self.loading.map(|l| l.4.as_secs_f64()),
            "database_bytes": self.database_bytes,
            "first_impact_ms": ms(self.first_impact),
            "core_switch_impact": {"affected": self.core.0, "down": self.core.1, "degraded": self.core.2, "hidden": self.core.3},
            "median_core_switch_impact": {"municipality": self.targets.median_name, "affected": self.median},
            "service_needs": {"items": self.service.0, "hidden": self.service.1, "service": self.targets.service_name},
            "cluster_impact": self.cluster,
            "host_name_search_hits": self.search_hits,
            "host_name_searches": self.targets.host_names.len(),
            "measurements": samples,
            "imports": imports,
        })
    }

    fn print(&self) {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0);
        println!(
            "drifta inventory benchmark: {} ({}), {cores} cores",
            self.backend,
            redact_url(&self.args.database_url)
        );
        match self.loading {
            Some((g, setup, generate, load, analyze)) => {
                let types: Vec<String> = g
                    .by_type
                    .iter()
                    .map(|(t, n)| format!("{t} {}", thousands(*n as i64)))
                    .collect();
                let relations: Vec<String> = g
                    .by_relation
                    .iter()
                    .map(|(t, n)| format!("{t} {}", thousands(*n as i64)))
                    .collect();
                println!(
                    "  data:  {} items, {} relations, {} municipalities, {} sites",
                    thousands(g.items as i64),
                    thousands(g.relations as i64),
                    self.world.municipalities.len(),
                    g.sites
                );
                println!("         items: {}", types.join(", "));
                println!("         relations: {}", relations.join(", "));
                println!(
                    "  load:  setup {:.1} s (store API); generate {:.1} s; bulk load {:.1} s ({} rows/s); ANALYZE {:.1} s; database {}",
                    setup.as_secs_f64(),
                    generate.as_secs_f64(),
                    load.as_secs_f64(),
                    thousands(((g.items + g.relations) as f64 / load.as_secs_f64()) as i64),
                    analyze.as_secs_f64(),
                    size(self.database_bytes)
                );
            }
            None => println!(
                "  load:  reused the data of an earlier run; database {}",
                size(self.database_bytes)
            ),
        }
        println!(
            "  first impact analysis (reads the relation graph): {:.0} ms",
            ms(self.first_impact)
        );
        println!(
            "  core switch of {}: {} affected ({} down, {} degraded, {} hidden); of {} (median): {} affected; service '{}' needs {} items; hypervisor cluster: {} affected; {} host-name searches found {} items",
            self.targets.largest_name,
            thousands(self.core.0 as i64),
            thousands(self.core.1 as i64),
            thousands(self.core.2 as i64),
            self.core.3,
            self.targets.median_name,
            thousands(self.median as i64),
            self.targets.service_name,
            self.service.0,
            thousands(self.cluster as i64),
            self.targets.host_names.len(),
            self.search_hits
        );
        println!(
            "  {:<34} {:>6} {:>9} {:>9} {:>9} {:>9}   target",
            "", "n", "p50", "p95", "p99", "max"
        );
        for s in self.samples {
            let f = |p: f64| format!("{:.2} ms", s.pct(p));
            println!(
                "  {:<34} {:>6} {:>9} {:>9} {:>9} {:>9}   {}{}",
                s.label,
                s.millis.len(),
                f(50.0),
                f(95.0),
                f(99.0),
                f(100.0),
                s.target,
                if s.errors > 0 {
                    format!(
                        "   {} errors, first: {}",
                        s.errors,
                        s.first_error.as_deref().unwrap_or("")
                    )
                } else {
                    String::new()
                }
            );
        }
        for i in self.imports {
            match &i.error {
                None => println!(
                    "  {:<34} {:>6} {:>9} {:>9} rows/s ({} new, {} updated, {} problems)   < 10 s",
                    i.label,
                    thousands(i.rows as i64),
                    format!("{:.2} s", i.seconds),
                    thousands((i.rows as f64 / i.seconds) as i64),
                    thousands(i.created as i64),
                    thousands(i.updated as i64),
                    i.problems
                ),
                Some(e) => println!("  {:<34} failed after {:.2} s: {e}", i.label, i.seconds),
            }
        }
    }
}
