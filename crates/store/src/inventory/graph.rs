//! Each provider's relation graph in memory, for impact analysis.
//!
//! A recursive query per analysis walked 23,706 items for a core switch in 120-300 ms on
//! SQLite, and naming them all took longer still (drifta-bench inventory, 200,000 items and
//! 500,000 relations). So a [`Store`] keeps, per provider, the relations that carry
//! failures as a [`RelationGraph`] and beside it what the analysis needs of each item (its
//! municipality, type, name and location), loaded at the first analysis. Each analysis
//! checks the provider's row in `inventory_versions` (one primary-key lookup), which
//! triggers bump in the same transaction as every change the copy holds (migration 0017),
//! so every node of a PostgreSQL installation notices a change from any other at its next
//! analysis and loads the graph again. The traversal then runs in `drifta_core::cmdb`,
//! and only the rows shown are read from the database.

use super::{ImpactColumn, ImpactDirection, ImpactEdge, ImpactView, ItemSummary};
use crate::db::{Store, Tx};
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::cmdb::{Effect, Impact, ImpactEntry, ItemType, RelationGraph, RelationType};
use drifta_core::impact_svg::{NodeState, column_order};
use drifta_core::{Permission, Scope, TenantId};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

/// No municipality or location: an item this provider's graph names but whose row was
/// not found among the provider's items (counted as hidden, never shown).
const NONE: u32 = u32::MAX;

/// What the analysis needs of an item besides its relations.
#[derive(Clone, Debug)]
struct Facts {
    /// Index into [`ProviderGraph::tenants`], or NONE.
    tenant: u32,
    item_type: Option<ItemType>,
    /// Index into [`ProviderGraph::locations`], or NONE.
    location: u32,
    name: Box<str>,
}

impl Facts {
    fn unknown() -> Self {
        Facts {
            tenant: NONE,
            item_type: None,
            location: NONE,
            name: "".into(),
        }
    }
}

/// One provider's graph at one `inventory_versions` version.
#[derive(Clone)]
pub(crate) struct ProviderGraph {
    version: i64,
    graph: RelationGraph,
    /// By the graph's item numbers.
    facts: Vec<Facts>,
    tenants: Vec<TenantId>,
    /// Location ids.
    locations: Vec<String>,
}

impl ProviderGraph {
    /// Builds the graph from the packed text [`Store::load_graph`] reads: relations (of
    /// the types that carry failures) as `from US relation US to` records, and the
    /// provider's items per municipality as `id US type US location US name` records,
    /// records separated by RS.
    fn build(version: i64, relations: &[String], items: &[(String, String)]) -> ProviderGraph {
        // Room for every item of the provider, most of which have relations.
        let items_read = items
            .iter()
            .map(|(_, text)| text.bytes().filter(|&b| b == RS as u8).count() + 1)
            .sum();
        let mut graph = RelationGraph::with_capacity(items_read);
        for [from, relation, to] in relations.iter().flat_map(|text| records::<3>(text)) {
            // A self-loop or an unknown type cannot be followed: left out, as the recursive
            // query left them out.
            if let Some(relation) = RelationType::parse(relation)
                && relation.propagates_failure()
            {
                let _ = graph.add_stored_edge(from, relation, to);
            }
        }
        let mut facts = vec![Facts::unknown(); graph.item_count()];
        let mut tenants: Vec<TenantId> = Vec::new();
        let mut locations: Vec<String> = Vec::new();
        let mut location_index: HashMap<&str, u32> = HashMap::new();
        for (tenant, text) in items {
            let t = tenants.len() as u32;
            tenants.push(TenantId::from_db(tenant.clone()));
            for [id, item_type, location, name] in records::<4>(text) {
                let Some(index) = graph.index_of(id) else {
                    continue;
                };
                let location = match location {
                    "" => NONE,
                    l => *location_index.entry(l).or_insert_with(|| {
                        locations.push(l.to_string());
                        locations.len() as u32 - 1
                    }),
                };
                facts[index as usize] = Facts {
                    tenant: t,
                    item_type: ItemType::parse(item_type),
                    location,
                    name: name.into(),
                };
            }
        }
        ProviderGraph {
            version,
            graph,
            facts,
            tenants,
            locations,
        }
    }

    /// Applies a change this store made (see [`Store::patch_graph`]).
    fn apply(&mut self, patch: &Patch<'_>) {
        match *patch {
            Patch::Relate { from, relation, to } => {
                if relation.propagates_failure()
                    && self
                        .graph
                        .add_stored_edge(&from.id, relation, &to.id)
                        .is_ok()
                {
                    self.facts.resize(self.graph.item_count(), Facts::unknown());
                    for item in [from, to] {
                        self.learn(item);
                    }
                }
            }
            Patch::Unrelate { from, relation, to } => {
                self.graph.remove_edge(from, relation, to);
            }
            Patch::Item(item) => self.learn(item),
        }
    }

    /// Records an item's facts, if the graph holds it.
    fn learn(&mut self, item: &ItemSummary) {
        let Some(index) = self.graph.index_of(&item.id) else {
            return;
        };
        let tenant = match self.tenants.iter().position(|t| *t == item.tenant_id) {
            Some(t) => t as u32,
            None => {
                self.tenants.push(item.tenant_id.clone());
                self.tenants.len() as u32 - 1
            }
        };
        let location = match &item.location_id {
            None => NONE,
            Some(l) => match self.locations.iter().position(|x| x == l) {
                Some(i) => i as u32,
                None => {
                    self.locations.push(l.clone());
                    self.locations.len() as u32 - 1
                }
            },
        };
        self.facts[index as usize] = Facts {
            tenant,
            item_type: Some(item.item_type),
            location,
            name: item.name.as_str().into(),
        };
    }

    fn facts(&self, index: u32) -> &Facts {
        static UNKNOWN: std::sync::LazyLock<Facts> = std::sync::LazyLock::new(Facts::unknown);
        self.facts.get(index as usize).unwrap_or(&UNKNOWN)
    }

    fn id(&self, index: u32) -> &str {
        self.graph.item_at(index).unwrap_or_default()
    }

    /// Which items of `origin`'s analysis the scope sees, in order, and what is shown of
    /// them: the pure part of [`Store::impact_view`].
    pub(crate) fn select(
        &self,
        scope: &Scope,
        origin: &str,
        direction: ImpactDirection,
        view: ImpactView,
    ) -> Selection {
        let impact: Impact<'_> = match direction {
            ImpactDirection::Dependants => self.graph.impact_of(origin),
            ImpactDirection::Needs => self.graph.needs_of(origin),
        };
        let readable: Vec<bool> = self
            .tenants
            .iter()
            .map(|t| scope.can(t, Permission::ReadAll))
            .collect();
        let visible = |index: u32| {
            let tenant = self.facts(index).tenant;
            tenant != NONE && readable[tenant as usize]
        };
        // Breadth-first, so nearest first: each depth is one run of the list.
        let mut shown: Vec<ImpactEntry<'_>> =
            impact.iter().filter(|e| visible(e.index())).collect();
        let hidden = impact.len() - shown.len();
        let effect_of =
            |e: &ImpactEntry<'_>| (direction == ImpactDirection::Dependants).then(|| e.effect());
        let down = shown
            .iter()
            .filter(|e| effect_of(e) == Some(Effect::Down))
            .count();
        let degraded = shown
            .iter()
            .filter(|e| effect_of(e) == Some(Effect::Degraded))
            .count();

        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        while start < shown.len() {
            let depth = shown[start].depth();
            let len = shown[start..]
                .iter()
                .take_while(|e| e.depth() == depth)
                .count();
            runs.push((start, start + len));
            start += len;
        }
        let columns: Vec<ImpactColumn> = runs
            .iter()
            .map(|&(s, e)| ImpactColumn {
                depth: shown[s].depth(),
                items: e - s,
            })
            .collect();

        // For a diagram: the first of each column in the diagram's own order.
        let mut drawn: Vec<ImpactEntry<'_>> = Vec::new();
        if view.per_depth > 0 {
            let state =
                |e: &ImpactEntry<'_>| effect_of(e).map_or(NodeState::Needed, NodeState::from);
            let worst_first = |a: &ImpactEntry<'_>, b: &ImpactEntry<'_>| {
                column_order(
                    (state(a), &self.facts(a.index()).name, self.id(a.index())),
                    (state(b), &self.facts(b.index()).name, self.id(b.index())),
                )
            };
            for &(s, e) in &runs {
                let mut column = shown[s..e].to_vec();
                first_sorted(&mut column, view.per_depth, worst_first);
                column.truncate(view.per_depth);
                drawn.extend(column);
            }
        }

        // The page: by depth, then name, then id. Only the runs the page reaches are put
        // in order, and of the last one only as much as the page needs.
        let by_name = |a: &ImpactEntry<'_>, b: &ImpactEntry<'_>| {
            let (fa, fb) = (self.facts(a.index()), self.facts(b.index()));
            fa.name
                .cmp(&fb.name)
                .then_with(|| self.id(a.index()).cmp(self.id(b.index())))
        };
        let total = shown.len();
        let first = view.offset.min(total);
        let end = view.offset.saturating_add(view.limit).min(total);
        for &(s, e) in &runs {
            if s >= end {
                break;
            }
            if e > first {
                first_sorted(&mut shown[s..e], end - s, by_name);
            }
        }
        let page = &shown[first..end];

        let origin_index = self.graph.index_of(origin);
        let row = |e: &ImpactEntry<'_>| Row {
            id: e.item().to_string(),
            depth: e.depth(),
            effect: effect_of(e),
            path: e
                .path()
                .into_iter()
                .map(|step| {
                    let seen = step == origin || self.graph.index_of(step).is_some_and(visible);
                    seen.then(|| step.to_string())
                })
                .collect(),
        };
        let rows: Vec<Row> = page.iter().map(row).collect();
        let drawn_rows: Vec<Row> = drawn.iter().map(row).collect();

        // Relations among the origin and the items named.
        let named: HashSet<u32> = page
            .iter()
            .chain(&drawn)
            .map(|e| e.index())
            .chain(origin_index)
            .collect();
        let mut named_order: Vec<u32> = origin_index
            .into_iter()
            .chain(page.iter().chain(&drawn).map(|e| e.index()))
            .collect();
        let mut once = HashSet::new();
        named_order.retain(|i| once.insert(*i));
        let edges = named_order
            .iter()
            .flat_map(|&from| {
                self.graph
                    .edges_from(from)
                    .filter(|(_, to)| named.contains(to))
                    .map(move |(relation, to)| ImpactEdge {
                        from: self.id(from).to_string(),
                        relation,
                        to: self.id(to).to_string(),
                    })
            })
            .collect();

        let mut tenants: Vec<u32> = shown.iter().map(|e| self.facts(e.index()).tenant).collect();
        tenants.sort_unstable();
        tenants.dedup();
        let mut locations: Vec<u32> = shown
            .iter()
            .map(|e| self.facts(e.index()).location)
            .filter(|&l| l != NONE)
            .collect();
        locations.sort_unstable();
        locations.dedup();
        let mut services: Vec<String> = shown
            .iter()
            .map(|e| self.facts(e.index()))
            .filter(|f| f.item_type == Some(ItemType::Service))
            .map(|f| f.name.to_string())
            .collect();
        services.sort();
        services.dedup();
        Selection {
            rows,
            drawn: drawn_rows,
            columns,
            edges,
            total,
            down,
            degraded,
            hidden,
            tenants: tenants
                .into_iter()
                .map(|t| self.tenants[t as usize].clone())
                .collect(),
            locations: locations
                .into_iter()
                .map(|l| self.locations[l as usize].clone())
                .collect(),
            services,
        }
    }
}

/// Separates the fields of a packed record, and the records (ASCII unit and record
/// separators: control characters, which no name may hold). The name is a record's last
/// field, so a unit separator in one would stay in it; a record separator would cut it
/// short and leave a piece [`records`] skips.
const US: char = '\u{1f}';
const RS: char = '\u{1e}';

/// The records of packed text with exactly `N` fields each; others are skipped.
fn records<const N: usize>(text: &str) -> impl Iterator<Item = [&str; N]> + '_ {
    text.split(RS).filter_map(|record| {
        let mut fields = record.splitn(N, US);
        let mut out = [""; N];
        for slot in &mut out {
            *slot = fields.next()?;
        }
        Some(out)
    })
}

/// Puts the first `n` of `items` in order (the rest after them, in no order).
fn first_sorted<T>(items: &mut [T], n: usize, cmp: impl Fn(&T, &T) -> Ordering) {
    if n < items.len() {
        if n == 0 {
            return;
        }
        items.select_nth_unstable_by(n, &cmp);
        items[..n].sort_by(&cmp);
    } else {
        items.sort_by(&cmp);
    }
}

/// An item of an analysis to be named: its summary is read by id.
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) depth: u32,
    pub(crate) effect: Option<Effect>,
    pub(crate) path: Vec<Option<String>>,
}

/// What [`ProviderGraph::select`] found, before names are read.
pub(crate) struct Selection {
    pub(crate) rows: Vec<Row>,
    pub(crate) drawn: Vec<Row>,
    pub(crate) columns: Vec<ImpactColumn>,
    pub(crate) edges: Vec<ImpactEdge>,
    pub(crate) total: usize,
    pub(crate) down: usize,
    pub(crate) degraded: usize,
    pub(crate) hidden: usize,
    /// Distinct municipalities and locations (ids) of the visible items.
    pub(crate) tenants: Vec<TenantId>,
    pub(crate) locations: Vec<String>,
    /// Distinct names of the visible services.
    pub(crate) services: Vec<String>,
}

/// A change a store made to what the graph holds, so that store can bring its own copy up to
/// date instead of loading it again.
pub(crate) enum Patch<'a> {
    Relate {
        from: &'a ItemSummary,
        relation: RelationType,
        to: &'a ItemSummary,
    },
    Unrelate {
        from: &'a str,
        relation: RelationType,
        to: &'a str,
    },
    /// The item as it is now (its name, location or type changed).
    Item(&'a ItemSummary),
}

/// A provider's version row, locked by a write transaction before its change, so the
/// transaction's own bumps are the only ones between `before` and what it reads after.
pub(crate) struct VersionLock {
    provider: TenantId,
    before: i64,
}

impl Tx {
    /// Locks the version row of `tenant`'s provider (creating it at 0) and reads it.
    pub(crate) async fn lock_inventory_version(
        &mut self,
        tenant: &TenantId,
    ) -> Result<VersionLock, StoreError> {
        let (provider, before): (String, i64) = self
            .fetch_optional(
                Sql::new(
                    "INSERT INTO inventory_versions (provider_id, version) \
                     SELECT COALESCE(parent_id, id), 0 FROM tenants WHERE id = $1 \
                     ON CONFLICT (provider_id) DO UPDATE SET version = inventory_versions.version \
                     RETURNING provider_id, version",
                )
                .arg(tenant.as_str()),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(VersionLock {
            provider: TenantId::from_db(provider),
            before,
        })
    }

    /// The locked version after the transaction's changes (its triggers bumped it).
    pub(crate) async fn inventory_version_after(
        &mut self,
        lock: &VersionLock,
    ) -> Result<i64, StoreError> {
        let (after,): (i64,) = self
            .fetch_optional(
                Sql::new("SELECT version FROM inventory_versions WHERE provider_id = $1")
                    .arg(lock.provider.as_str()),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(after)
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<Arc<ProviderGraph>>>>;

/// The graphs of the providers analysed so far, one lock per provider so that one load
/// serves everyone who asked meanwhile.
#[derive(Default)]
pub(crate) struct GraphCache {
    slots: Mutex<HashMap<TenantId, Slot>>,
}

impl fmt::Debug for GraphCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let providers = self.slots.lock().map_or(0, |s| s.len());
        f.debug_struct("GraphCache")
            .field("providers", &providers)
            .finish()
    }
}

impl GraphCache {
    fn slot(&self, provider: &TenantId) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(slots.entry(provider.clone()).or_default())
    }
}

impl Store {
    /// The provider of `tenant` and its inventory version (0 before the first change).
    async fn inventory_version(&self, tenant: &TenantId) -> Result<(TenantId, i64), StoreError> {
        let row: Option<(String, Option<i64>)> = self
            .fetch_optional(
                Sql::new(
                    "SELECT COALESCE(t.parent_id, t.id), v.version FROM tenants t \
                     LEFT JOIN inventory_versions v ON v.provider_id = COALESCE(t.parent_id, t.id) \
                     WHERE t.id = $1",
                )
                .arg(tenant.as_str()),
            )
            .await?;
        let (provider, version) = row.ok_or(StoreError::NotFound)?;
        Ok((TenantId::from_db(provider), version.unwrap_or(0)))
    }

    /// After a committed change that moved the provider's version from `lock.before` to
    /// `after`: applies it to this store's copy if that copy was current before it, so the
    /// next analysis needs no load (other nodes load theirs again). A copy that is older,
    /// or newer (another analysis loaded it meanwhile), is left to the version check.
    pub(crate) async fn patch_graph(&self, lock: VersionLock, after: i64, patch: Patch<'_>) {
        if after == lock.before {
            return;
        }
        let slot = self.graphs.slot(&lock.provider);
        let mut held = slot.lock().await;
        let Some(graph) = held.as_mut() else {
            return;
        };
        if graph.version != lock.before {
            return;
        }
        // Copies the graph only if an analysis is still reading this one.
        let graph = Arc::make_mut(graph);
        graph.apply(&patch);
        graph.version = after;
    }

    /// The graph of the provider `tenant` belongs to, as the database holds it now: the
    /// cached one if its version is current, else loaded again (once, however many ask).
    pub(crate) async fn provider_graph(
        &self,
        tenant: &TenantId,
    ) -> Result<Arc<ProviderGraph>, StoreError> {
        let (provider, version) = self.inventory_version(tenant).await?;
        let slot = self.graphs.slot(&provider);
        let mut held = slot.lock().await;
        if let Some(graph) = held.as_ref()
            && graph.version == version
        {
            return Ok(Arc::clone(graph));
        }
        // Someone may have loaded a newer one while this call waited for the lock.
        let (_, version) = self.inventory_version(tenant).await?;
        if let Some(graph) = held.as_ref()
            && graph.version == version
        {
            return Ok(Arc::clone(graph));
        }
        let graph = Arc::new(self.load_graph(&provider, version).await?);
        *held = Some(Arc::clone(&graph));
        Ok(graph)
    }

    /// Reads the provider's graph. `version` was read before: every change it counts is
    /// in what is read, so the copy is at least that new (a later change makes the next
    /// analysis load it again). Rows come packed into long text: sqlx hands SQLite's rows
    /// over one by one from its worker thread, and 500,000 rows of ids took 1-2 s that
    /// way, 0.2-0.4 s packed (drifta-bench).
    async fn load_graph(
        &self,
        provider: &TenantId,
        version: i64,
    ) -> Result<ProviderGraph, StoreError> {
        let started = std::time::Instant::now();
        let carrying: Vec<&str> = RelationType::ALL
            .iter()
            .filter(|r| r.propagates_failure())
            .map(|r| r.as_str())
            .collect();
        let tenants = "(SELECT id FROM tenants WHERE id = $1 OR parent_id = $1)";
        // Relations first: the items read after them include every item they name
        // (items are never deleted). One row for all of them: with GROUP BY tenant_id
        // SQLite sorted 300,000 of them first.
        let relations: Vec<(Option<String>,)> = self
            .fetch_all(
                Sql::new(format!(
                    "SELECT string_agg(from_id || '{US}' || relation || '{US}' || to_id, '{RS}') \
                     FROM item_relations WHERE tenant_id IN {tenants} AND "
                ))
                .arg(provider.as_str())
                .push_in("relation", carrying),
            )
            .await?;
        let items: Vec<(String, String)> = self
            .fetch_all(
                Sql::new(format!(
                    "SELECT tenant_id, string_agg(id || '{US}' || item_type || '{US}' || \
                     COALESCE(location_id, '') || '{US}' || name, '{RS}') \
                     FROM items WHERE tenant_id IN {tenants} GROUP BY tenant_id"
                ))
                .arg(provider.as_str()),
            )
            .await?;
        let read = started.elapsed();
        let relations: Vec<String> = relations.into_iter().filter_map(|(r,)| r).collect();
        let graph =
            tokio::task::spawn_blocking(move || ProviderGraph::build(version, &relations, &items))
                .await
                .map_err(|e| {
                    StoreError::Inconsistent(format!("building the relation graph: {e}"))
                })?;
        tracing::info!(
            provider = %provider,
            version,
            items = graph.graph.item_count(),
            relations = graph.graph.edge_count(),
            read_ms = read.as_millis() as u64,
            build_ms = (started.elapsed() - read).as_millis() as u64,
            "loaded the relation graph for impact analysis"
        );
        Ok(graph)
    }
}
