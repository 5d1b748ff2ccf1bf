//! A generated service desk: a provider with municipalities, their locations, technicians
//! and requesters (made through the normal store API), and tickets with a history (made in
//! bulk).

use crate::words::{DANISH, NORWEGIAN, Vocabulary};
use drifta_core::calendar::BusinessCalendar;
use drifta_core::clock::from_millis;
use drifta_core::ticket::{Level, Priority, PriorityMatrix, TicketKind, TicketStatus};
use drifta_core::{Actor, Country, LocationId, Role, Scope, TenantId, UserId};
use drifta_store::{
    BulkActor, BulkComment, BulkTicket, NewLocation, NewTenant, NewTicket, NewUser, Store,
    StoreError, User, default_sla_minutes,
};
use jiff::SignedDuration;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Tickets are created over this many days before the benchmark starts.
const HISTORY_DAYS: i64 = 3 * 365;
const TECHNICIANS_PER_MUNICIPALITY: usize = 3;
const REQUESTERS_PER_MUNICIPALITY: usize = 10;
const PROVIDER_TECHNICIANS: usize = 2;

/// SplitMix64: small, fast, and the same sequence on every machine for a given seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `lo..hi`, or `lo` when the range is empty.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64) as i64
        }
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Index into `weights` with probability proportional to its weight.
    fn weighted(&mut self, weights: &[f64]) -> usize {
        let mut x = self.unit() * weights.iter().sum::<f64>();
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

#[derive(Clone, Debug)]
pub struct Person {
    pub id: UserId,
    pub name: String,
}

impl Person {
    fn actor(&self) -> BulkActor {
        BulkActor {
            user_id: Some(self.id.clone()),
            name: self.name.clone(),
        }
    }
}

pub struct Municipality {
    pub id: TenantId,
    pub name: String,
    pub vocabulary: &'static Vocabulary,
    pub calendar: BusinessCalendar,
    pub locations: Vec<LocationId>,
    pub technicians: Vec<Person>,
    pub requesters: Vec<Person>,
    /// Relative size: municipalities differ a lot in how many tickets they file.
    pub weight: f64,
}

pub struct World {
    pub municipalities: Vec<Municipality>,
    /// Technicians granted on the provider: they work every municipality.
    pub provider_technicians: Vec<Person>,
    /// One of them, for the benchmark's scope.
    pub provider_technician: User,
    pub users: usize,
    pub locations: usize,
}

fn ascii_slug(name: &str) -> String {
    name.to_lowercase()
        .replace('æ', "ae")
        .replace('ø', "o")
        .replace('å', "aa")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// The `k`-th name made from a vocabulary's parts; unique for every `k`.
fn municipality_name(v: &Vocabulary, k: usize) -> String {
    let (s, e) = (v.name_starts.len(), v.name_ends.len());
    let base = format!("{}{}", v.name_starts[k % s], v.name_ends[(k / s) % e]);
    if k < s * e {
        base
    } else {
        format!("{base} {}", k / (s * e) + 1)
    }
}

/// Makes the provider, `count` municipalities (alternately Norwegian and Danish) with
/// locations, technicians and requesters, through the same store calls the product uses.
pub async fn build_world(store: &Store, count: usize) -> Result<World, StoreError> {
    let actor = Actor::system("drifta-bench");
    let provider = store
        .create_provider(
            &actor,
            NewTenant {
                name: "Benk IT".into(),
                slug: "benk-it".into(),
                country: Country::No,
                time_zone: None,
                language: None,
            },
        )
        .await?;
    let mut scope = store.installation_scope(actor.clone()).await?;
    let mut rng = Rng::new(7);
    let mut users = 0;
    let mut locations = 0;
    let mut new_person = |home: &TenantId, username: String, v: &Vocabulary, rng: &mut Rng| {
        users += 1;
        let name = format!("{} {}", rng.pick(v.first_names), rng.pick(v.last_names));
        let phone = if std::ptr::eq(v, &DANISH) {
            format!(
                "+45 {} {:02} {:02} {:02}",
                rng.between(20, 99),
                rng.below(100),
                rng.below(100),
                rng.below(100)
            )
        } else {
            format!(
                "+47 {} {:02} {:03}",
                rng.between(400, 999),
                rng.below(100),
                rng.below(1000)
            )
        };
        NewUser {
            tenant_id: home.clone(),
            email: format!("{username}@benk.drifta.invalid"),
            username,
            display_name: name,
            phone,
            language: None,
            password_hash: None,
        }
    };
    let mut provider_technicians = Vec::new();
    for i in 0..PROVIDER_TECHNICIANS {
        let new = new_person(
            &provider.id,
            format!("tekniker{}", i + 1),
            &NORWEGIAN,
            &mut rng,
        );
        let user = store.create_user(&scope, new).await?;
        store
            .set_grants(&scope, &user.id, &[(provider.id.clone(), Role::Technician)])
            .await?;
        provider_technicians.push(user);
    }
    let mut municipalities = Vec::with_capacity(count);
    for i in 0..count {
        let (v, country) = if i % 2 == 0 {
            (&NORWEGIAN, Country::No)
        } else {
            (&DANISH, Country::Dk)
        };
        let short = municipality_name(v, i / 2);
        let slug = format!("b{i:03}-{}", ascii_slug(&short));
        let tenant = store
            .create_municipality(
                &scope,
                &provider.id,
                NewTenant {
                    name: format!("{short} {}", v.municipality_word),
                    slug: slug.clone(),
                    country,
                    time_zone: None,
                    language: None,
                },
            )
            .await?;
        scope = store.installation_scope(actor.clone()).await?;
        let mut location_ids = Vec::new();
        for (suffix, kind) in v.locations.iter().take(3) {
            let l = store
                .create_location(
                    &scope,
                    &tenant.id,
                    NewLocation {
                        name: format!("{short}{suffix}"),
                        kind: *kind,
                        address: String::new(),
                    },
                )
                .await?;
            location_ids.push(l.id);
            locations += 1;
        }
        let mut people = |role: Role, prefix: &str, n: usize, rng: &mut Rng| {
            (0..n)
                .map(|j| {
                    (
                        role,
                        new_person(&tenant.id, format!("{prefix}{}.{slug}", j + 1), v, rng),
                    )
                })
                .collect::<Vec<_>>()
        };
        let mut staff = people(
            Role::Technician,
            "tek",
            TECHNICIANS_PER_MUNICIPALITY,
            &mut rng,
        );
        staff.extend(people(
            Role::Requester,
            "ansatt",
            REQUESTERS_PER_MUNICIPALITY,
            &mut rng,
        ));
        let (mut technicians, mut requesters) = (Vec::new(), Vec::new());
        for (role, new) in staff {
            let user = store.create_user(&scope, new).await?;
            store
                .set_grants(&scope, &user.id, &[(tenant.id.clone(), role)])
                .await?;
            let person = Person {
                id: user.id,
                name: user.display_name,
            };
            match role {
                Role::Technician => technicians.push(person),
                _ => requesters.push(person),
            }
        }
        let calendar = BusinessCalendar::for_country(country)
            .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        municipalities.push(Municipality {
            id: tenant.id,
            name: tenant.name,
            vocabulary: v,
            calendar,
            locations: location_ids,
            technicians,
            requesters,
            weight: 1.0 / ((i + 1) as f64).powf(0.7),
        });
    }
    let provider_technician = provider_technicians[0].clone();
    Ok(World {
        municipalities,
        provider_technicians: provider_technicians
            .into_iter()
            .map(|u| Person {
                id: u.id,
                name: u.display_name,
            })
            .collect(),
        provider_technician,
        users,
        locations,
    })
}

/// The scope the benchmark reads and writes with: a technician of the whole provider.
pub async fn technician_scope(store: &Store, world: &World) -> Result<Scope, StoreError> {
    store
        .scope_for(&world.provider_technician, "127.0.0.1")
        .await
}

/// What a ticket is about, in one municipality's language.
struct Text {
    title: String,
    description: String,
    category: &'static str,
    request: bool,
}

fn fill(template: &str, v: &Vocabulary, rng: &mut Rng) -> String {
    let mut s = template.to_string();
    for (slot, words) in [
        ("{sted}", v.places),
        ("{system}", v.systems),
        ("{rom}", v.rooms),
        ("{gruppe}", v.groups),
    ] {
        if s.contains(slot) {
            s = s.replace(slot, rng.pick::<&str>(words));
        }
    }
    if s.contains("{nr}") {
        s = s.replace("{nr}", &rng.between(100, 999).to_string());
    }
    if s.contains("{sn}") {
        s = s.replace("{sn}", &format!("5CG{:04}", rng.below(10_000)));
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => s,
    }
}

fn text(v: &Vocabulary, rng: &mut Rng) -> Text {
    let (template, category, request) = *rng.pick(v.titles);
    let sentences = rng.between(1, 4);
    let description = (0..sentences)
        .map(|_| fill(rng.pick::<&str>(v.sentences), v, rng))
        .collect::<Vec<_>>()
        .join(" ");
    Text {
        title: fill(template, v, rng),
        description,
        category,
        request,
    }
}

fn level(rng: &mut Rng, high: f64, medium: f64) -> Level {
    let x = rng.unit();
    if x < high {
        Level::High
    } else if x < high + medium {
        Level::Medium
    } else {
        Level::Low
    }
}

/// A status for a ticket of this age: recent tickets are still being worked, old ones are
/// nearly all closed, and a few stale ones linger (about 2 % active overall).
fn status_for_age(age: i64, rng: &mut Rng) -> TicketStatus {
    use TicketStatus::*;
    let table: &[(TicketStatus, f64)] = if age < 2 * DAY {
        &[
            (New, 0.35),
            (Open, 0.40),
            (WaitingRequester, 0.10),
            (WaitingSupplier, 0.05),
            (Resolved, 0.10),
        ]
    } else if age < 14 * DAY {
        &[
            (New, 0.05),
            (Open, 0.30),
            (WaitingRequester, 0.10),
            (WaitingSupplier, 0.05),
            (Resolved, 0.20),
            (Closed, 0.30),
        ]
    } else if age < 60 * DAY {
        &[
            (Open, 0.05),
            (WaitingRequester, 0.02),
            (WaitingSupplier, 0.02),
            (Resolved, 0.01),
            (Closed, 0.90),
        ]
    } else {
        &[
            (Open, 0.005),
            (WaitingRequester, 0.002),
            (WaitingSupplier, 0.003),
            (Closed, 0.99),
        ]
    };
    let weights: Vec<f64> = table.iter().map(|(_, w)| *w).collect();
    table[rng.weighted(&weights)].0
}

/// Makes tickets for the bulk loader and for the create benchmark.
pub struct Generator<'w> {
    world: &'w World,
    rng: Rng,
    now: i64,
    replies_per_ticket: u32,
    weights: Vec<f64>,
    matrix: PriorityMatrix,
}

impl<'w> Generator<'w> {
    pub fn new(world: &'w World, seed: u64, now: i64, replies_per_ticket: u32) -> Self {
        Generator {
            world,
            rng: Rng::new(seed),
            now,
            replies_per_ticket,
            weights: world.municipalities.iter().map(|m| m.weight).collect(),
            matrix: PriorityMatrix::default(),
        }
    }

    fn municipality(&mut self) -> &'w Municipality {
        &self.world.municipalities[self.rng.weighted(&self.weights)]
    }

    fn due(m: &Municipality, from: i64, minutes: i64) -> Option<i64> {
        m.calendar
            .add_business_time(from_millis(from), SignedDuration::from_mins(minutes))
            .ok()
            .map(|t| t.as_millisecond())
    }

    /// A ticket from the last three years, with its history so far.
    pub fn historical(&mut self) -> BulkTicket {
        let rng = &mut self.rng;
        let m = {
            let i = rng.weighted(&self.weights);
            &self.world.municipalities[i]
        };
        let v = m.vocabulary;
        // Filed on a working-hours clock (06–15 UTC), on any of the last HISTORY_DAYS days.
        let midnight = self.now.div_euclid(DAY) * DAY - rng.between(0, HISTORY_DAYS) * DAY;
        let mut created = midnight + 6 * HOUR + rng.between(0, 9 * HOUR);
        if created > self.now - MINUTE {
            created -= DAY;
        }
        let age = self.now - created;
        let status = status_for_age(age, rng);
        let t = text(v, rng);
        let impact = level(rng, 0.10, 0.40);
        let urgency = level(rng, 0.15, 0.45);
        let priority: Priority = self.matrix.priority(impact, urgency);
        let (response_budget, resolution_budget) = default_sla_minutes(priority);
        let paused = status.pauses_sla();
        let response_due_at = (!paused)
            .then(|| Self::due(m, created, response_budget))
            .flatten();
        let resolution_due_at = (!paused)
            .then(|| Self::due(m, created, resolution_budget))
            .flatten();

        let channel = *rng.pick(&[
            "phone", "phone", "email", "portal", "portal", "monitor", "api",
        ]);
        let requester = (channel != "monitor" && rng.chance(0.95)).then(|| rng.pick(&m.requesters));
        let technician = |rng: &mut Rng| {
            if rng.chance(0.8) {
                rng.pick(&m.technicians)
            } else {
                rng.pick(&self.world.provider_technicians)
            }
        };
        let assignee = (status != TicketStatus::New || rng.chance(0.1)).then(|| technician(rng));
        let created_by = match (channel, requester) {
            ("phone", _) => technician(rng).actor(),
            (_, Some(r)) => r.actor(),
            _ => BulkActor {
                user_id: None,
                name: "Overvåking".into(),
            },
        };

        let first_response_at = (status != TicketStatus::New)
            .then(|| created + rng.between(2 * MINUTE, (8 * HOUR).min(age).max(2 * MINUTE + 1)));
        let resolved_at = status
            .is_done()
            .then(|| created + rng.between(10 * MINUTE, (10 * DAY).min(age).max(10 * MINUTE + 1)));
        let closed_at = match (status, resolved_at) {
            (TicketStatus::Closed, Some(r)) => Some((r + 3 * DAY).min(self.now - MINUTE).max(r)),
            _ => None,
        };

        let mut comments = Vec::new();
        if let Some(first) = first_response_at {
            let count = rng.below(2 * self.replies_per_ticket as u64 + 1);
            let end = resolved_at.unwrap_or(self.now - MINUTE).max(first);
            let mut at = first;
            for k in 0..count {
                let tech_turn = k % 2 == 0 || requester.is_none();
                let (by, public, body) = if tech_turn {
                    let by = assignee.unwrap_or_else(|| technician(rng));
                    if rng.chance(0.15) {
                        (by.actor(), false, *rng.pick(v.notes))
                    } else {
                        (by.actor(), true, *rng.pick(v.technician_replies))
                    }
                } else {
                    let r = requester.unwrap_or_else(|| rng.pick(&m.requesters));
                    (r.actor(), true, *rng.pick(v.requester_replies))
                };
                comments.push(BulkComment {
                    at,
                    by,
                    public,
                    body: body.to_string(),
                });
                at = rng.between(at, end + 1);
            }
        }
        let updated_at = [
            Some(created),
            first_response_at,
            resolved_at,
            closed_at,
            comments.last().map(|c| c.at),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(created);

        BulkTicket {
            tenant_id: m.id.clone(),
            kind: if t.request {
                TicketKind::ServiceRequest
            } else {
                TicketKind::Incident
            },
            title: t.title,
            description: t.description,
            requester_id: requester.map(|r| r.id.clone()),
            location_id: rng.chance(0.7).then(|| rng.pick(&m.locations).clone()),
            category: t.category.to_string(),
            impact,
            urgency,
            priority,
            status,
            assignee_id: assignee.map(|a| a.id.clone()),
            channel: channel.to_string(),
            created_by,
            created_at: created,
            updated_at,
            first_response_at,
            resolved_at,
            closed_at,
            response_due_at,
            resolution_due_at,
            comments,
        }
    }

    /// A call logged now by phone, for [`Store::create_ticket`].
    pub fn phone_call(&mut self) -> NewTicket {
        let m = self.municipality();
        let rng = &mut self.rng;
        let t = text(m.vocabulary, rng);
        NewTicket {
            tenant_id: m.id.clone(),
            kind: if t.request {
                TicketKind::ServiceRequest
            } else {
                TicketKind::Incident
            },
            title: t.title,
            description: t.description,
            requester_id: Some(rng.pick(&m.requesters).id.clone()),
            location_id: Some(rng.pick(&m.locations).clone()),
            category: t.category.to_string(),
            impact: level(rng, 0.10, 0.40),
            urgency: level(rng, 0.15, 0.45),
            channel: "phone".into(),
        }
    }
}

/// Finds the service desk an earlier run generated in this database (`--reuse`), so it can
/// be measured again, for example after a migration, without loading it again.
pub async fn open_world(store: &Store) -> Result<World, StoreError> {
    let scope = store
        .installation_scope(Actor::system("drifta-bench"))
        .await?;
    let provider = store.find_tenant_by_slug(&scope, "benk-it").await?;
    let mut tenants: Vec<_> = store
        .list_tenants(&scope)
        .await?
        .into_iter()
        .filter(|t| t.parent_id.as_ref() == Some(&provider.id))
        .collect();
    // Slugs start with the municipality's place in the size order (b000 is the largest).
    tenants.sort_by(|a, b| a.slug.cmp(&b.slug));
    let person = |u: &User| Person {
        id: u.id.clone(),
        name: u.display_name.clone(),
    };
    let mut staff = store.list_users(&scope, Some(&provider.id)).await?;
    staff.sort_by(|a, b| a.username.cmp(&b.username));
    let provider_technicians: Vec<User> = staff
        .into_iter()
        .filter(|u| u.username.starts_with("tekniker"))
        .collect();
    let provider_technician = provider_technicians
        .first()
        .cloned()
        .ok_or(StoreError::NotFound)?;
    let mut users = provider_technicians.len();
    let mut locations = 0;
    let mut municipalities = Vec::new();
    for (i, t) in tenants.into_iter().enumerate() {
        let location_ids: Vec<LocationId> = store
            .list_locations(&scope, Some(&t.id))
            .await?
            .into_iter()
            .map(|l| l.id)
            .collect();
        locations += location_ids.len();
        let mut people = store.list_users(&scope, Some(&t.id)).await?;
        people.sort_by(|a, b| a.username.cmp(&b.username));
        users += people.len();
        let technicians: Vec<Person> = people
            .iter()
            .filter(|u| u.username.starts_with("tek"))
            .map(person)
            .collect();
        let requesters: Vec<Person> = people
            .iter()
            .filter(|u| u.username.starts_with("ansatt"))
            .map(person)
            .collect();
        let calendar = BusinessCalendar::for_country(t.country)
            .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        municipalities.push(Municipality {
            id: t.id,
            name: t.name,
            vocabulary: match t.country {
                Country::Dk => &DANISH,
                Country::No => &NORWEGIAN,
            },
            calendar,
            locations: location_ids,
            technicians,
            requesters,
            weight: 1.0 / ((i + 1) as f64).powf(0.7),
        });
    }
    if municipalities.is_empty() {
        return Err(StoreError::NotFound);
    }
    Ok(World {
        municipalities,
        provider_technicians: provider_technicians.iter().map(person).collect(),
        provider_technician,
        users,
        locations,
    })
}
