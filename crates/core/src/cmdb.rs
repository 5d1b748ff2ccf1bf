//! The CMDB's rules: the kinds of item a municipality runs, the life of an item
//! from order to disposal, the relations between items, and what breaks when one
//! of them fails.
//!
//! Item ids are opaque strings here: the store decides what they are, so the
//! graph works the same for UUIDs, imported asset tags or test names.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// What an item is. The kinds are the ones a municipality's IT department
/// reports on and buys support for, not a hardware taxonomy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// A desktop PC in an office, a classroom or a care home.
    Workstation,
    Laptop,
    /// Often a pupil's iPad: many of them, each cheap, managed as a fleet.
    Tablet,
    /// A terminal that shows a session running elsewhere (Citrix, RDS): it is
    /// useless without the servers behind it, which the relations must say.
    ThinClient,
    /// A mobile or desk phone.
    Phone,
    /// A printer or multifunction device.
    Printer,
    PhysicalServer,
    VirtualMachine,
    /// The hosts that virtual machines run on, as one item: a VM moves between
    /// hosts, so it depends on the cluster, not on one host.
    HypervisorCluster,
    /// A SAN, a NAS or a backup store.
    Storage,
    /// A switch, router, firewall or wireless access point.
    NetworkDevice,
    /// A line between two places: fibre, radio link, a 4G/5G backup. An item of
    /// its own because it fails, has a supplier and an SLA of its own.
    NetworkLink,
    /// Welfare technology in a resident's home, such as a digital safety alarm.
    /// Its own kind because its failure can put a life at risk, so it must never
    /// hide among phones or network devices in an impact list.
    WelfareDevice,
    Database,
    Application,
    /// What users are promised and the service desk reports on, such as
    /// "journal system for home care" or "school Wi-Fi".
    Service,
}

codes!(ItemType {
    Workstation => "workstation",
    Laptop => "laptop",
    Tablet => "tablet",
    ThinClient => "thin_client",
    Phone => "phone",
    Printer => "printer",
    PhysicalServer => "physical_server",
    VirtualMachine => "virtual_machine",
    HypervisorCluster => "hypervisor_cluster",
    Storage => "storage",
    NetworkDevice => "network_device",
    NetworkLink => "network_link",
    WelfareDevice => "welfare_device",
    Database => "database",
    Application => "application",
    Service => "service",
});

/// Where an item is in its life. The order of the variants is the usual order of a life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Ordered,
    InStock,
    Deployed,
    InRepair,
    /// Out of use, still in the municipality's hands (and still holding its data).
    Retired,
    /// Gone for good, with the paperwork to prove it. Final.
    Disposed,
}

codes!(Lifecycle {
    Ordered => "ordered",
    InStock => "in_stock",
    Deployed => "deployed",
    InRepair => "in_repair",
    Retired => "retired",
    Disposed => "disposed",
});

/// A refused life-cycle change or disposal record, naming the field a form shows it on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("lifecycle: an item cannot go from {from} to {to}")]
    Transition { from: Lifecycle, to: Lifecycle },
    #[error("disposal: a move to disposed must record the recycler and the certificate")]
    DisposalMissing,
    #[error("disposal: only a move to disposed records a disposal")]
    DisposalUnexpected,
    #[error("{field}: is required")]
    Required { field: &'static str },
}

impl LifecycleError {
    /// The form field the error belongs to.
    pub fn field(&self) -> &'static str {
        match self {
            LifecycleError::Transition { .. } => "lifecycle",
            LifecycleError::DisposalMissing | LifecycleError::DisposalUnexpected => "disposal",
            LifecycleError::Required { field } => field,
        }
    }

    /// A machine code the web shell turns into a sentence in the reader's language.
    pub fn code(&self) -> &'static str {
        match self {
            LifecycleError::Transition { .. } => "lifecycle-transition",
            LifecycleError::DisposalMissing => "disposal-missing",
            LifecycleError::DisposalUnexpected => "disposal-unexpected",
            LifecycleError::Required { .. } => "required",
        }
    }
}

/// The proof that an item left properly: who took it (an approved recycler for
/// electronic waste) and the reference of their certificate that the storage
/// was wiped or destroyed. Personal data on an old disk is the municipality's
/// responsibility until that certificate exists.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Disposal {
    pub recycler: String,
    pub certificate: String,
}

impl Disposal {
    /// Both fields trimmed and required.
    pub fn new(recycler: &str, certificate: &str) -> Result<Self, LifecycleError> {
        let disposal = Disposal {
            recycler: recycler.trim().to_string(),
            certificate: certificate.trim().to_string(),
        };
        disposal.validate()?;
        Ok(disposal)
    }

    /// Checked again on every move, because the fields are public and records
    /// also arrive from imports and the database.
    pub fn validate(&self) -> Result<(), LifecycleError> {
        if self.recycler.trim().is_empty() {
            return Err(LifecycleError::Required { field: "recycler" });
        }
        if self.certificate.trim().is_empty() {
            return Err(LifecycleError::Required {
                field: "certificate",
            });
        }
        Ok(())
    }
}

impl Lifecycle {
    /// The allowed moves:
    ///
    /// - nothing goes back to ordered, and a cancelled order goes to retired;
    /// - in stock, deployed and in repair move freely among themselves and to retired;
    /// - retired may come back to stock (retired too early), never straight into
    ///   use, so it is checked and reinstalled first;
    /// - only retired may be disposed, so relations, licences and monitoring are
    ///   cleared while the item is still on the books;
    /// - disposed is final: the certificate describes that item, for good.
    pub fn can_move_to(self, next: Lifecycle) -> bool {
        use Lifecycle::*;
        match (self, next) {
            (a, b) if a == b => false,
            (Disposed, _) | (_, Ordered) => false,
            (_, Disposed) => self == Retired,
            (Ordered, InRepair) | (Retired, Deployed | InRepair) => false,
            _ => true,
        }
    }

    /// Checks a move and its disposal record: a move to disposed must carry a
    /// valid one, and any other move must not carry one (it would be recorded
    /// against an item that is still here).
    pub fn check_move(
        self,
        next: Lifecycle,
        disposal: Option<&Disposal>,
    ) -> Result<(), LifecycleError> {
        if !self.can_move_to(next) {
            return Err(LifecycleError::Transition {
                from: self,
                to: next,
            });
        }
        match (next, disposal) {
            (Lifecycle::Disposed, None) => Err(LifecycleError::DisposalMissing),
            (Lifecycle::Disposed, Some(d)) => d.validate(),
            (_, Some(_)) => Err(LifecycleError::DisposalUnexpected),
            (_, None) => Ok(()),
        }
    }

    /// No move leaves this state.
    pub fn is_final(self) -> bool {
        self == Lifecycle::Disposed
    }
}

/// How two items relate. An edge reads "`from` <relation> `to`", as in
/// "app runs_on vm"; the docs of each variant say which end needs the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationType {
    /// `from` runs on `to`: an application on a VM, a VM on a hypervisor
    /// cluster. If `to` fails, `from` stops.
    RunsOn,
    /// `from` cannot work without `to`: a service on its applications, an
    /// application on its database. If `to` fails, `from` fails.
    DependsOn,
    /// `from` reaches the network through `to`, its uplink: a PC through the
    /// site router, the router through a link, the link through the core switch.
    /// Point it towards the core, since failures flow outwards from the core.
    /// An item with several uplinks needs only one of them, which is how a 4G
    /// backup keeps a site running. Rings and meshes are real, so cycles are allowed.
    ConnectsTo,
    /// `from` holds backups or a replica of `to`. Neither end stops when the
    /// other fails: a broken backup is a risk, not an outage. Two sites often
    /// back each other up, so cycles are allowed.
    BacksUp,
    /// `from`, a piece of software, is installed on `to`: the software
    /// inventory and licence count. It does not carry failures, because a
    /// program on 400 PCs does not go down with one of them; a server program
    /// that others use runs_on its server instead.
    InstalledOn,
    /// `from` is used by `to`: a laptop by a person, a phone by a department, a
    /// safety alarm by a resident. A record of who has what, read the other way
    /// from the rest. It does not carry failures, so every technical dependency
    /// is written once (with depends_on) and the cycle check sees it; who is
    /// affected by an outage is one step from the impact, through
    /// [`RelationGraph::targets`] of the impacted items.
    UsedBy,
    /// `from` stands in `to`: a PC in a room, a room in a building. Containment,
    /// so cycles are refused. It does not carry failures: a power cut is
    /// reported on the location, not guessed from it.
    LocatedAt,
}

codes!(RelationType {
    RunsOn => "runs_on",
    DependsOn => "depends_on",
    ConnectsTo => "connects_to",
    BacksUp => "backs_up",
    InstalledOn => "installed_on",
    UsedBy => "used_by",
    LocatedAt => "located_at",
});

impl RelationType {
    /// Relations that describe a hierarchy, where a cycle is a data error (a VM
    /// that runs on itself through its own application). All of them are
    /// checked together: a cycle mixing runs_on and depends_on is refused too.
    pub fn forbids_cycles(self) -> bool {
        use RelationType::*;
        matches!(self, RunsOn | DependsOn | InstalledOn | LocatedAt)
    }

    /// Whether a failure of `to` affects `from`. Only these relations are
    /// followed by impact analysis.
    pub fn propagates_failure(self) -> bool {
        use RelationType::*;
        matches!(self, RunsOn | DependsOn | ConnectsTo)
    }

    /// Whether `from` needs only one of its relations of this type (its
    /// uplinks), rather than all of them. See [`RelationGraph::impact_of`].
    pub fn is_alternative(self) -> bool {
        self == RelationType::ConnectsTo
    }
}

/// What a failure does to an item in an [`Impact`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The item stops working.
    Down,
    /// The item keeps working, but through fewer alternatives than it has:
    /// a second failure may take it down.
    Degraded,
}

codes!(Effect {
    Down => "down",
    Degraded => "degraded",
});

/// A refused relation, naming the form field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("{field}: an item id is required")]
    EmptyId { field: &'static str },
    #[error("to: an item cannot relate to itself ('{id}' {relation} '{id}')")]
    SelfLoop { id: String, relation: RelationType },
    /// `path` is the existing chain of cycle-forbidding relations from `to` back to `from`.
    #[error(
        "to: '{to}' already leads back to '{from}' ({}), so '{from}' {relation} '{to}' would close a cycle",
        .path.join(" → ")
    )]
    Cycle {
        from: String,
        relation: RelationType,
        to: String,
        path: Vec<String>,
    },
    #[error("from: the relation graph cannot hold more than {max} items")]
    TooManyItems { max: u32 },
}

impl GraphError {
    /// The form field the error belongs to.
    pub fn field(&self) -> &'static str {
        match self {
            GraphError::EmptyId { field } => field,
            GraphError::SelfLoop { .. } | GraphError::Cycle { .. } => "to",
            GraphError::TooManyItems { .. } => "from",
        }
    }
}

/// Marks in a position table: not reached, or the item the analysis started from.
const NONE: u32 = u32::MAX;
const ORIGIN: u32 = u32::MAX - 1;
/// Items are numbered with u32, two values of which are the marks above.
const MAX_ITEMS: u32 = u32::MAX - 2;

/// One end of an edge, stored in the adjacency list of the other end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Half {
    node: u32,
    relation: RelationType,
}

/// Reused buffers for the cycle check, so adding an edge allocates nothing
/// once the graph has grown.
#[derive(Clone, Default)]
struct Scratch {
    mark: Vec<u32>,
    via: Vec<u32>,
    generation: u32,
    queue: Vec<u32>,
}

/// The relations between items, in memory, for impact analysis.
///
/// Ids are interned once to u32 and the edges kept as adjacency lists in both
/// directions, so a traversal touches only integers and never allocates per step.
///
/// Costs, for V items and E edges:
/// - [`add_edge`](Self::add_edge): O(out-degree of `from`) for the duplicate
///   check, plus, for a cycle-forbidding relation, a search of what `to`
///   already needs through such relations (a handful of hops in real data).
/// - [`impact_of`](Self::impact_of): O(V) to set up a position table, then
///   linear in the impacted items and the edges touching them (breadth-first
///   search, then one pass of the redundancy rule).
/// - [`needs_of`](Self::needs_of): linear in the needed items C and their edges
///   E_C, and O(C · E_C) when one of them has two or more uplinks, since each
///   needed item is then failed in turn within that subgraph.
///
/// All traversals use explicit queues, so deep chains cannot overflow the stack.
#[derive(Clone, Default)]
pub struct RelationGraph {
    ids: HashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
    out: Vec<Vec<Half>>,
    inc: Vec<Vec<Half>>,
    edges: usize,
    scratch: Scratch,
}

impl fmt::Debug for RelationGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelationGraph")
            .field("items", &self.names.len())
            .field("edges", &self.edges)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    /// Towards the items that need the origin ([`RelationGraph::impact_of`]).
    Dependents,
    /// Towards the items the origin needs ([`RelationGraph::needs_of`]).
    Needs,
}

impl RelationGraph {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty graph with room for `items` items, for building a large one at once.
    pub fn with_capacity(items: usize) -> Self {
        RelationGraph {
            ids: HashMap::with_capacity(items),
            names: Vec::with_capacity(items),
            out: Vec::with_capacity(items),
            inc: Vec::with_capacity(items),
            ..Self::default()
        }
    }

    /// Adds the edges in order, stopping at the first refused one.
    pub fn from_edges<I, S>(edges: I) -> Result<Self, GraphError>
    where
        I: IntoIterator<Item = (S, RelationType, S)>,
        S: AsRef<str>,
    {
        let mut graph = Self::new();
        for (from, relation, to) in edges {
            graph.add_edge(from.as_ref(), relation, to.as_ref())?;
        }
        Ok(graph)
    }

    /// Items that appear in at least one edge.
    pub fn item_count(&self) -> usize {
        self.names.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges
    }

    pub fn contains_item(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    pub fn contains_edge(&self, from: &str, relation: RelationType, to: &str) -> bool {
        match (self.ids.get(from), self.ids.get(to)) {
            (Some(&f), Some(&t)) => self.out[f as usize].contains(&Half { node: t, relation }),
            _ => false,
        }
    }

    /// Adds "`from` `relation` `to`". Returns false if that exact edge was
    /// already there. Refuses empty ids, an item related to itself, and an edge
    /// of a cycle-forbidding type that would close a cycle among the edges of
    /// cycle-forbidding types (edges of other types are ignored by that check).
    /// A refused edge leaves the graph unchanged.
    pub fn add_edge(
        &mut self,
        from: &str,
        relation: RelationType,
        to: &str,
    ) -> Result<bool, GraphError> {
        self.insert(from, relation, to, true)
    }

    fn insert(
        &mut self,
        from: &str,
        relation: RelationType,
        to: &str,
        refuse_cycles: bool,
    ) -> Result<bool, GraphError> {
        if from.is_empty() {
            return Err(GraphError::EmptyId { field: "from" });
        }
        if to.is_empty() {
            return Err(GraphError::EmptyId { field: "to" });
        }
        if from == to {
            return Err(GraphError::SelfLoop {
                id: from.to_string(),
                relation,
            });
        }
        let known = (self.ids.get(from).copied(), self.ids.get(to).copied());
        // A new item has no edges yet, so only two known items can close a cycle.
        if let (Some(f), Some(t)) = known {
            if self.out[f as usize].contains(&Half { node: t, relation }) {
                return Ok(false);
            }
            if refuse_cycles
                && relation.forbids_cycles()
                && let Some(path) = self.forbidden_path(t, f)
            {
                return Err(GraphError::Cycle {
                    from: from.to_string(),
                    relation,
                    to: to.to_string(),
                    path,
                });
            }
        }
        let new_items = usize::from(known.0.is_none()) + usize::from(known.1.is_none());
        if self.names.len() + new_items > MAX_ITEMS as usize {
            return Err(GraphError::TooManyItems { max: MAX_ITEMS });
        }
        // The lookups above found the known ones: a graph of 300,000 edges is built
        // with one hash lookup per end instead of two.
        let f = known.0.unwrap_or_else(|| self.intern(from));
        let t = known.1.unwrap_or_else(|| self.intern(to));
        self.out[f as usize].push(Half { node: t, relation });
        self.inc[t as usize].push(Half { node: f, relation });
        self.edges += 1;
        Ok(true)
    }

    /// Adds "`from` `relation` `to`" as a store holds it: like [`add_edge`](Self::add_edge)
    /// (the same refusals of empty ids and self-loops, false for a duplicate) but without
    /// the cycle check. The store refused cycles when the relations were made; one that got
    /// in anyway (two writers at once, a bulk load) must not stop the analysis of every
    /// other item, and the traversals terminate on cycles of any relation.
    pub fn add_stored_edge(
        &mut self,
        from: &str,
        relation: RelationType,
        to: &str,
    ) -> Result<bool, GraphError> {
        self.insert(from, relation, to, false)
    }

    /// The number an item has in this graph, from 0 to [`item_count`](Self::item_count)
    /// minus one: stable for the life of the graph (removing edges keeps it), so a caller
    /// can keep facts about items in a vector beside the graph.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.ids.get(id).copied()
    }

    /// The item with that number.
    pub fn item_at(&self, index: u32) -> Option<&str> {
        self.names.get(index as usize).map(|n| &**n)
    }

    /// The edges leaving the item with that number, "`index` relation `to`", in the order
    /// they were added, as (relation, number of `to`).
    pub fn edges_from(&self, index: u32) -> impl Iterator<Item = (RelationType, u32)> + '_ {
        self.out
            .get(index as usize)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|h| (h.relation, h.node))
    }

    /// Removes that exact edge; false if it was not there. Items stay known.
    pub fn remove_edge(&mut self, from: &str, relation: RelationType, to: &str) -> bool {
        let (Some(&f), Some(&t)) = (self.ids.get(from), self.ids.get(to)) else {
            return false;
        };
        let out = &mut self.out[f as usize];
        let Some(i) = out.iter().position(|h| *h == Half { node: t, relation }) else {
            return false;
        };
        // `remove`, not `swap_remove`: the order of the lists decides which of
        // two equally short paths is shown, and it should not jump around.
        out.remove(i);
        let inc = &mut self.inc[t as usize];
        if let Some(j) = inc.iter().position(|h| *h == Half { node: f, relation }) {
            inc.remove(j);
        }
        self.edges -= 1;
        true
    }

    /// The `to` ends of the edges "`from` `relation` …", in the order they were added.
    pub fn targets<'g>(
        &'g self,
        from: &str,
        relation: RelationType,
    ) -> impl Iterator<Item = &'g str> + use<'g> {
        let list: &'g [Half] = match self.ids.get(from) {
            Some(&f) => &self.out[f as usize],
            None => &[],
        };
        list.iter()
            .filter(move |h| h.relation == relation)
            .map(move |h| &*self.names[h.node as usize])
    }

    /// The `from` ends of the edges "… `relation` `to`", in the order they were added.
    pub fn sources<'g>(
        &'g self,
        to: &str,
        relation: RelationType,
    ) -> impl Iterator<Item = &'g str> + use<'g> {
        let list: &'g [Half] = match self.ids.get(to) {
            Some(&t) => &self.inc[t as usize],
            None => &[],
        };
        list.iter()
            .filter(move |h| h.relation == relation)
            .map(move |h| &*self.names[h.node as usize])
    }

    /// What breaks if `item` fails: every item that needs it transitively
    /// through failure-propagating relations (runs_on, depends_on, connects_to),
    /// each with the shortest path by which it is reached and its [`Effect`].
    /// Never contains `item` itself; an unknown item has an empty impact.
    ///
    /// The redundancy rule. An item works if it does not need the failed item
    /// at all. Otherwise it works only if
    /// - every item it runs_on or depends_on works, and
    /// - when it has connects_to uplinks, at least one of them works,
    ///
    /// where the failed item never works and working must be shown from items
    /// that do not need the failed item: support that only goes round a cycle
    /// does not count (formally, the least fixpoint). An impacted item that
    /// still works is [`Effect::Degraded`], the others are [`Effect::Down`].
    ///
    /// So when one of a care home's two uplinks (fibre, 4G) fails, its router
    /// and the alarms behind it are Degraded; a ring of switches whose only way
    /// out is the failed core is Down; and an application whose VM is down is
    /// Down however many uplinks it has.
    ///
    /// Entries come nearest first (breadth-first order). Each path starts at the
    /// entry, ends at `item` and follows edges in their stored direction.
    pub fn impact_of(&self, item: &str) -> Impact<'_> {
        let mut impact = self.reach(item, Direction::Dependents);
        if impact.entries.is_empty() {
            return impact;
        }
        let members: Vec<u32> = impact.entries.iter().map(|s| s.node).collect();
        let position = &impact.position;
        let alive = self.alive(&members, |node| position[node as usize], None);
        for (slot, works) in impact.entries.iter_mut().zip(alive) {
            if works {
                slot.effect = Effect::Degraded;
            }
        }
        impact
    }

    /// What `item` needs, transitively, through failure-propagating relations:
    /// the reverse of [`impact_of`](Self::impact_of). Each entry's effect is
    /// what a failure of that entry alone does to `item`, so Down marks a
    /// single point of failure. Exactly: `needs_of(x)` has `y` with depth `d`
    /// and effect `e` if and only if `impact_of(y)` has `x` with depth `d` and
    /// effect `e`. Each path starts at `item` and ends at the entry.
    pub fn needs_of(&self, item: &str) -> Impact<'_> {
        let mut impact = self.reach(item, Direction::Needs);
        let has_choice = std::iter::once(impact.origin_node)
            .chain(impact.entries.iter().map(|s| s.node))
            .filter(|&node| node != NONE)
            .any(|node| {
                let uplinks = self.out[node as usize].iter();
                uplinks
                    .filter(|h| h.relation.is_alternative())
                    .nth(1)
                    .is_some()
            });
        // Without a choice anywhere, every path is a chain of hard needs and
        // every needed item is a single point of failure: the default Down holds.
        if !has_choice {
            return impact;
        }
        let position = &impact.position;
        // Local numbers within the needed items: 0 is the origin, k + 1 is entry k.
        let local = |node: u32| match position[node as usize] {
            NONE => NONE,
            ORIGIN => 0,
            p => p + 1,
        };
        let size = impact.entries.len() + 1;
        let mut mark = vec![0u32; size];
        let mut index = vec![0u32; size];
        let mut members: Vec<u32> = Vec::new();
        let mut effects = Vec::with_capacity(impact.entries.len());
        for (k, slot) in impact.entries.iter().enumerate() {
            let failed = k as u32 + 1;
            let generation = failed;
            // The needed items (and the origin) that need the failed one.
            members.clear();
            let (mut at, mut head) = (slot.node, 0usize);
            loop {
                for h in &self.inc[at as usize] {
                    if !h.relation.propagates_failure() {
                        continue;
                    }
                    let l = local(h.node);
                    if l == NONE || l == failed || mark[l as usize] == generation {
                        continue;
                    }
                    mark[l as usize] = generation;
                    index[l as usize] = members.len() as u32;
                    members.push(h.node);
                }
                let Some(&next) = members.get(head) else {
                    break;
                };
                at = next;
                head += 1;
            }
            debug_assert_eq!(mark[0], generation, "the origin needs every entry");
            let watch = index[0] as usize;
            let place = |node: u32| {
                let l = local(node);
                if l == NONE {
                    NONE
                } else if l == failed {
                    ORIGIN
                } else if mark[l as usize] == generation {
                    index[l as usize]
                } else {
                    NONE
                }
            };
            let alive = self.alive(&members, place, Some(watch));
            effects.push(if alive[watch] {
                Effect::Degraded
            } else {
                Effect::Down
            });
        }
        for (slot, effect) in impact.entries.iter_mut().zip(effects) {
            slot.effect = effect;
        }
        impact
    }

    /// Breadth-first search from `item` over failure-propagating edges, every
    /// entry Down for now.
    fn reach(&self, item: &str, direction: Direction) -> Impact<'_> {
        let mut impact = Impact {
            graph: self,
            origin: item.to_string(),
            origin_node: NONE,
            direction,
            entries: Vec::new(),
            position: Vec::new(),
        };
        let Some(&origin) = self.ids.get(item) else {
            return impact;
        };
        impact.origin_node = origin;
        let mut position = vec![NONE; self.names.len()];
        position[origin as usize] = ORIGIN;
        let adjacency = match direction {
            Direction::Dependents => &self.inc,
            Direction::Needs => &self.out,
        };
        let entries = &mut impact.entries;
        let (mut at, mut depth, mut head) = (origin, 0u32, 0usize);
        loop {
            for h in &adjacency[at as usize] {
                if h.relation.propagates_failure() && position[h.node as usize] == NONE {
                    position[h.node as usize] = entries.len() as u32;
                    entries.push(Slot {
                        node: h.node,
                        via: at,
                        depth: depth + 1,
                        effect: Effect::Down,
                    });
                }
            }
            let Some(next) = entries.get(head) else {
                break;
            };
            (at, depth) = (next.node, next.depth);
            head += 1;
        }
        impact.position = position;
        impact
    }

    /// The redundancy rule of [`impact_of`](Self::impact_of) for `members`, the
    /// items that need the failed one. `place(node)` is a member's index in
    /// `members`, ORIGIN for the failed item and NONE for an item that does not
    /// need it. Returns which members still work.
    ///
    /// Counter propagation (as for Horn clauses): each member counts the hard
    /// needs not yet known to work and the uplinks known to work; items become
    /// known to work from the outside in, so each edge is looked at twice.
    /// Stops early once `watch` is known to work.
    fn alive(
        &self,
        members: &[u32],
        place: impl Fn(u32) -> u32,
        watch: Option<usize>,
    ) -> Vec<bool> {
        let m = members.len();
        let mut hard = vec![0u32; m];
        let mut uplinks = vec![0u32; m];
        let mut working = vec![0u32; m];
        let mut alive = vec![false; m];
        let mut ready = Vec::new();
        for (i, &node) in members.iter().enumerate() {
            for h in &self.out[node as usize] {
                if !h.relation.propagates_failure() {
                    continue;
                }
                let works = place(h.node) == NONE;
                if h.relation.is_alternative() {
                    uplinks[i] += 1;
                    working[i] += u32::from(works);
                } else if !works {
                    hard[i] += 1;
                }
            }
            if hard[i] == 0 && (uplinks[i] == 0 || working[i] > 0) {
                alive[i] = true;
                ready.push(i);
            }
        }
        while let Some(i) = ready.pop() {
            if watch.is_some_and(|w| alive[w]) {
                break;
            }
            for h in &self.inc[members[i] as usize] {
                if !h.relation.propagates_failure() {
                    continue;
                }
                let j = place(h.node);
                if j >= ORIGIN || alive[j as usize] {
                    continue;
                }
                let j = j as usize;
                if h.relation.is_alternative() {
                    working[j] += 1;
                } else {
                    hard[j] -= 1;
                }
                if hard[j] == 0 && (uplinks[j] == 0 || working[j] > 0) {
                    alive[j] = true;
                    ready.push(j);
                }
            }
        }
        alive
    }

    /// The chain of cycle-forbidding edges from `start` to `goal`, if any.
    fn forbidden_path(&mut self, start: u32, goal: u32) -> Option<Vec<String>> {
        let n = self.names.len();
        let s = &mut self.scratch;
        if s.mark.len() < n {
            s.mark.resize(n, 0);
            s.via.resize(n, NONE);
        }
        s.generation = s.generation.wrapping_add(1);
        if s.generation == 0 {
            s.mark.fill(0);
            s.generation = 1;
        }
        let generation = s.generation;
        s.queue.clear();
        s.queue.push(start);
        s.mark[start as usize] = generation;
        let mut head = 0;
        while let Some(&node) = s.queue.get(head) {
            head += 1;
            for h in &self.out[node as usize] {
                if !h.relation.forbids_cycles() || s.mark[h.node as usize] == generation {
                    continue;
                }
                s.mark[h.node as usize] = generation;
                s.via[h.node as usize] = node;
                if h.node == goal {
                    let mut path = vec![self.names[goal as usize].to_string()];
                    let mut at = goal;
                    while at != start {
                        at = s.via[at as usize];
                        path.push(self.names[at as usize].to_string());
                    }
                    path.reverse();
                    return Some(path);
                }
                s.queue.push(h.node);
            }
        }
        None
    }

    fn intern(&mut self, id: &str) -> u32 {
        if let Some(&n) = self.ids.get(id) {
            return n;
        }
        let n = self.names.len() as u32;
        let name: Arc<str> = Arc::from(id);
        self.ids.insert(Arc::clone(&name), n);
        self.names.push(name);
        self.out.push(Vec::new());
        self.inc.push(Vec::new());
        n
    }
}

/// One reached item, by number: `via` is the item it was reached from.
#[derive(Clone, Copy, Debug)]
struct Slot {
    node: u32,
    via: u32,
    depth: u32,
    effect: Effect,
}

/// The result of [`RelationGraph::impact_of`] or [`RelationGraph::needs_of`].
/// It borrows the graph and builds paths only when asked, so analysing a core
/// switch with 100,000 dependents does not copy 100,000 paths of strings.
#[derive(Clone)]
pub struct Impact<'g> {
    graph: &'g RelationGraph,
    origin: String,
    /// NONE when the origin is not in the graph.
    origin_node: u32,
    direction: Direction,
    entries: Vec<Slot>,
    /// Node → index in `entries`, ORIGIN or NONE; empty when the origin is unknown.
    position: Vec<u32>,
}

impl Impact<'_> {
    /// The item the analysis started from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Nearest first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ImpactEntry<'_>> {
        self.entries
            .iter()
            .map(move |&slot| ImpactEntry { impact: self, slot })
    }

    pub fn get(&self, item: &str) -> Option<ImpactEntry<'_>> {
        let &node = self.graph.ids.get(item)?;
        let &p = self.position.get(node as usize)?;
        (p < ORIGIN).then(|| ImpactEntry {
            impact: self,
            slot: self.entries[p as usize],
        })
    }

    pub fn contains(&self, item: &str) -> bool {
        self.get(item).is_some()
    }

    pub fn count(&self, effect: Effect) -> usize {
        self.entries.iter().filter(|s| s.effect == effect).count()
    }
}

impl fmt::Debug for Impact<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Impact")
            .field("origin", &self.origin)
            .field("direction", &self.direction)
            .field("entries", &self.iter().collect::<Vec<_>>())
            .finish()
    }
}

/// One item of an [`Impact`].
#[derive(Clone, Copy)]
pub struct ImpactEntry<'a> {
    impact: &'a Impact<'a>,
    slot: Slot,
}

impl<'a> ImpactEntry<'a> {
    pub fn item(&self) -> &'a str {
        &self.impact.graph.names[self.slot.node as usize]
    }

    /// The item's number in the graph (see [`RelationGraph::index_of`]).
    pub fn index(&self) -> u32 {
        self.slot.node
    }

    /// Relations between this item and the origin on the shortest path; 1 for a neighbour.
    pub fn depth(&self) -> u32 {
        self.slot.depth
    }

    pub fn effect(&self) -> Effect {
        self.slot.effect
    }

    /// The ids along a shortest path, `depth() + 1` of them, following edges in
    /// their stored direction: from this item to the failed origin for
    /// `impact_of`, from the origin to this item for `needs_of`.
    pub fn path(&self) -> Vec<&'a str> {
        let impact = self.impact;
        let names = &impact.graph.names;
        let mut path = Vec::with_capacity(self.slot.depth as usize + 1);
        path.push(&*names[self.slot.node as usize]);
        let mut at = self.slot.via;
        while at != impact.origin_node {
            path.push(&*names[at as usize]);
            at = impact.entries[impact.position[at as usize] as usize].via;
        }
        path.push(&*names[at as usize]);
        if impact.direction == Direction::Needs {
            path.reverse();
        }
        path
    }
}

impl fmt::Debug for ImpactEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImpactEntry")
            .field("item", &self.item())
            .field("depth", &self.depth())
            .field("effect", &self.effect())
            .field("path", &self.path())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Effect::*;
    use Lifecycle::*;
    use RelationType::*;
    use proptest::prelude::*;

    fn graph(edges: &[(&str, RelationType, &str)]) -> RelationGraph {
        RelationGraph::from_edges(edges.iter().copied()).unwrap()
    }

    fn effect(impact: &Impact<'_>, item: &str) -> Option<Effect> {
        impact.get(item).map(|e| e.effect())
    }

    fn sorted(impact: &Impact<'_>) -> Vec<String> {
        let mut items: Vec<String> = impact.iter().map(|e| e.item().to_string()).collect();
        items.sort();
        items
    }

    /// A small municipality: a school on one fibre link, a care home with fibre
    /// and a 4G backup, and a data centre with the home-care journal.
    fn municipality() -> RelationGraph {
        graph(&[
            ("sw-dc", ConnectsTo, "sw-core"),
            ("fibre-school", ConnectsTo, "sw-core"),
            ("router-school", ConnectsTo, "fibre-school"),
            ("pc-school-1", ConnectsTo, "router-school"),
            ("pc-school-2", ConnectsTo, "router-school"),
            ("fibre-care", ConnectsTo, "sw-core"),
            ("4g-care", ConnectsTo, "fw-internet"),
            ("router-care", ConnectsTo, "fibre-care"),
            ("router-care", ConnectsTo, "4g-care"),
            ("alarm-care-1", ConnectsTo, "router-care"),
            ("cluster", ConnectsTo, "sw-dc"),
            ("vm-app", RunsOn, "cluster"),
            ("vm-db", RunsOn, "cluster"),
            ("db-journal", RunsOn, "vm-db"),
            ("app-journal", RunsOn, "vm-app"),
            ("app-journal", DependsOn, "db-journal"),
            ("svc-home-care", DependsOn, "app-journal"),
            // None of these carries a failure.
            ("backup", BacksUp, "vm-db"),
            ("nas", BacksUp, "backup"),
            ("office", InstalledOn, "pc-school-1"),
            ("pc-school-1", LocatedAt, "school"),
            ("pc-school-1", UsedBy, "kari"),
        ])
    }

    #[test]
    fn codes_round_trip_and_match_serde() {
        fn check<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
        where
            T: Copy + PartialEq + fmt::Debug + Serialize,
        {
            for &v in all {
                assert_eq!(parse(as_str(v)), Some(v));
                assert_eq!(serde_json::to_value(v).unwrap(), as_str(v), "{v:?}");
            }
        }
        check(ItemType::ALL, ItemType::as_str, ItemType::parse);
        check(Lifecycle::ALL, Lifecycle::as_str, Lifecycle::parse);
        check(RelationType::ALL, RelationType::as_str, RelationType::parse);
        check(Effect::ALL, Effect::as_str, Effect::parse);
        assert_eq!(ItemType::ALL.len(), 16);
        assert_eq!(
            ItemType::parse("welfare_device"),
            Some(ItemType::WelfareDevice)
        );
        assert_eq!(ItemType::parse("Laptop"), None);
        assert_eq!(RelationType::ConnectsTo.to_string(), "connects_to");
    }

    #[test]
    fn life_cycle() {
        assert!(Ordered.can_move_to(InStock));
        assert!(
            Ordered.can_move_to(Deployed),
            "delivered straight to the site"
        );
        assert!(Ordered.can_move_to(Retired), "a cancelled order");
        assert!(!Ordered.can_move_to(InRepair));
        assert!(InStock.can_move_to(Deployed));
        assert!(Deployed.can_move_to(InRepair));
        assert!(InRepair.can_move_to(Deployed));
        assert!(Deployed.can_move_to(InStock));
        assert!(Deployed.can_move_to(Retired));
        assert!(Retired.can_move_to(InStock));
        assert!(!Retired.can_move_to(Deployed), "checked in stock first");
        assert!(Retired.can_move_to(Disposed));
        for &s in Lifecycle::ALL {
            assert!(!s.can_move_to(s));
            assert!(!s.can_move_to(Ordered));
            assert!(!Disposed.can_move_to(s), "disposed is final");
            assert_eq!(s.can_move_to(Disposed), s == Retired, "{s}");
            assert_eq!(s.is_final(), s == Disposed);
        }
    }

    #[test]
    fn disposal_needs_recycler_and_certificate() {
        let d = Disposal::new("  Norsirk AS ", " CERT-2025-0042 ").unwrap();
        assert_eq!(d.recycler, "Norsirk AS");
        assert_eq!(d.certificate, "CERT-2025-0042");
        assert_eq!(Retired.check_move(Disposed, Some(&d)), Ok(()));

        let err = Disposal::new(" ", "CERT-1").unwrap_err();
        assert_eq!(err, LifecycleError::Required { field: "recycler" });
        assert_eq!(err.to_string(), "recycler: is required");
        assert_eq!(
            Disposal::new("Norsirk", "").unwrap_err().field(),
            "certificate"
        );

        let missing = Retired.check_move(Disposed, None).unwrap_err();
        assert_eq!(missing, LifecycleError::DisposalMissing);
        assert_eq!(missing.field(), "disposal");
        // A record built by hand or read back is checked again.
        let blank = Disposal {
            recycler: "Norsirk".into(),
            certificate: "  ".into(),
        };
        assert_eq!(
            Retired
                .check_move(Disposed, Some(&blank))
                .unwrap_err()
                .field(),
            "certificate"
        );
        assert_eq!(
            InStock.check_move(Deployed, Some(&d)),
            Err(LifecycleError::DisposalUnexpected)
        );
        let refused = Deployed.check_move(Disposed, Some(&d)).unwrap_err();
        assert_eq!(
            refused,
            LifecycleError::Transition {
                from: Deployed,
                to: Disposed
            }
        );
        assert_eq!(
            refused.to_string(),
            "lifecycle: an item cannot go from deployed to disposed"
        );
        assert_eq!(refused.code(), "lifecycle-transition");
        assert_eq!(
            Disposed.check_move(InStock, None).unwrap_err().field(),
            "lifecycle"
        );
    }

    #[test]
    fn relation_semantics() {
        let cyclic: Vec<_> = RelationType::ALL
            .iter()
            .filter(|r| r.forbids_cycles())
            .collect();
        assert_eq!(cyclic, [&RunsOn, &DependsOn, &InstalledOn, &LocatedAt]);
        let failing: Vec<_> = RelationType::ALL
            .iter()
            .filter(|r| r.propagates_failure())
            .collect();
        assert_eq!(failing, [&RunsOn, &DependsOn, &ConnectsTo]);
        assert!(ConnectsTo.is_alternative() && !RunsOn.is_alternative());
    }

    #[test]
    fn a_single_fibre_link_takes_the_school_down() {
        let g = municipality();
        let impact = g.impact_of("fibre-school");
        assert_eq!(impact.origin(), "fibre-school");
        assert_eq!(
            sorted(&impact),
            ["pc-school-1", "pc-school-2", "router-school"]
        );
        assert_eq!(impact.count(Down), 3);
        let pc = impact.get("pc-school-1").unwrap();
        assert_eq!(pc.depth(), 2);
        assert_eq!(pc.path(), ["pc-school-1", "router-school", "fibre-school"]);
        assert_eq!(
            impact.iter().next().unwrap().item(),
            "router-school",
            "nearest first"
        );
        // Who is affected is one step away.
        let people: Vec<_> = g.targets("pc-school-1", UsedBy).collect();
        assert_eq!(people, ["kari"]);
    }

    #[test]
    fn a_backup_link_leaves_the_care_home_degraded() {
        let g = municipality();
        let impact = g.impact_of("fibre-care");
        assert_eq!(impact.len(), 2);
        assert_eq!(effect(&impact, "router-care"), Some(Degraded));
        assert_eq!(effect(&impact, "alarm-care-1"), Some(Degraded));
        let impact = g.impact_of("4g-care");
        assert_eq!(effect(&impact, "router-care"), Some(Degraded));
        let impact = g.impact_of("fw-internet");
        assert_eq!(sorted(&impact), ["4g-care", "alarm-care-1", "router-care"]);
        assert_eq!(effect(&impact, "4g-care"), Some(Down));
        assert_eq!(effect(&impact, "router-care"), Some(Degraded));
    }

    #[test]
    fn the_core_switch() {
        let g = municipality();
        let impact = g.impact_of("sw-core");
        for down in [
            "sw-dc",
            "fibre-school",
            "router-school",
            "pc-school-1",
            "pc-school-2",
            "fibre-care",
            "cluster",
            "vm-app",
            "vm-db",
            "db-journal",
            "app-journal",
            "svc-home-care",
        ] {
            assert_eq!(effect(&impact, down), Some(Down), "{down}");
        }
        assert_eq!(effect(&impact, "router-care"), Some(Degraded));
        assert_eq!(effect(&impact, "alarm-care-1"), Some(Degraded));
        assert_eq!(impact.len(), 14);
        for quiet in [
            "sw-core", "backup", "nas", "office", "school", "kari", "4g-care",
        ] {
            assert!(!impact.contains(quiet), "{quiet}");
        }
        let svc = impact.get("svc-home-care").unwrap();
        assert_eq!(svc.depth(), 5);
        assert_eq!(
            svc.path(),
            [
                "svc-home-care",
                "app-journal",
                "vm-app",
                "cluster",
                "sw-dc",
                "sw-core"
            ]
        );
    }

    #[test]
    fn backups_installations_locations_and_users_carry_no_failure() {
        let g = municipality();
        let impact = g.impact_of("vm-db");
        assert_eq!(
            sorted(&impact),
            ["app-journal", "db-journal", "svc-home-care"]
        );
        assert!(g.impact_of("backup").is_empty());
        assert!(g.impact_of("pc-school-1").is_empty());
        assert!(g.impact_of("school").is_empty());
        assert!(g.impact_of("kari").is_empty());
        let unknown = g.impact_of("no-such-item");
        assert!(unknown.is_empty());
        assert_eq!(unknown.origin(), "no-such-item");
        assert!(g.needs_of("no-such-item").is_empty());
    }

    #[test]
    fn what_the_home_care_service_needs() {
        let g = municipality();
        let needs = g.needs_of("svc-home-care");
        assert_eq!(
            sorted(&needs),
            [
                "app-journal",
                "cluster",
                "db-journal",
                "sw-core",
                "sw-dc",
                "vm-app",
                "vm-db"
            ]
        );
        assert_eq!(
            needs.count(Down),
            7,
            "every one is a single point of failure"
        );
        let core = needs.get("sw-core").unwrap();
        assert_eq!(core.depth(), 5);
        assert_eq!(
            core.path(),
            [
                "svc-home-care",
                "app-journal",
                "vm-app",
                "cluster",
                "sw-dc",
                "sw-core"
            ]
        );

        let needs = g.needs_of("alarm-care-1");
        assert_eq!(effect(&needs, "router-care"), Some(Down));
        for spare in ["fibre-care", "4g-care", "sw-core", "fw-internet"] {
            assert_eq!(effect(&needs, spare), Some(Degraded), "{spare}");
        }
        assert_eq!(needs.len(), 5);
    }

    #[test]
    fn a_failed_hard_need_beats_working_uplinks() {
        let g = graph(&[
            ("app", RunsOn, "vm"),
            ("app", ConnectsTo, "sw-1"),
            ("app", ConnectsTo, "sw-2"),
            ("web", DependsOn, "app"),
        ]);
        let impact = g.impact_of("vm");
        assert_eq!(effect(&impact, "app"), Some(Down));
        assert_eq!(effect(&impact, "web"), Some(Down));
        let impact = g.impact_of("sw-1");
        assert_eq!(effect(&impact, "app"), Some(Degraded));
        assert_eq!(effect(&impact, "web"), Some(Degraded));
    }

    #[test]
    fn cycles_of_hierarchical_relations_are_refused() {
        let mut g = graph(&[("app", RunsOn, "vm"), ("vm", RunsOn, "cluster")]);
        let err = g.add_edge("cluster", RunsOn, "app").unwrap_err();
        assert_eq!(
            err,
            GraphError::Cycle {
                from: "cluster".into(),
                relation: RunsOn,
                to: "app".into(),
                path: vec!["app".into(), "vm".into(), "cluster".into()],
            }
        );
        assert_eq!(err.field(), "to");
        assert_eq!(
            err.to_string(),
            "to: 'app' already leads back to 'cluster' (app → vm → cluster), \
             so 'cluster' runs_on 'app' would close a cycle"
        );
        // Mixed types are checked together.
        let mut g = graph(&[("a", DependsOn, "b"), ("b", RunsOn, "c")]);
        assert!(matches!(
            g.add_edge("c", DependsOn, "a"),
            Err(GraphError::Cycle { .. })
        ));
        assert!(matches!(
            g.add_edge("c", InstalledOn, "a"),
            Err(GraphError::Cycle { .. })
        ));
        assert_eq!(g.edge_count(), 2, "a refused edge leaves no trace");
        assert_eq!(g.item_count(), 3);
        // A connects_to link in the chain breaks the hierarchy, so that is no cycle.
        let mut g = graph(&[("a", DependsOn, "b"), ("b", ConnectsTo, "c")]);
        assert_eq!(g.add_edge("c", DependsOn, "a"), Ok(true));
        // Self-loops are refused for every type.
        for &r in RelationType::ALL {
            let err = g.add_edge("x", r, "x").unwrap_err();
            assert!(matches!(err, GraphError::SelfLoop { .. }), "{r}");
        }
        assert_eq!(g.add_edge("", RunsOn, "x").unwrap_err().field(), "from");
        assert_eq!(
            g.add_edge("x", RunsOn, "").unwrap_err(),
            GraphError::EmptyId { field: "to" }
        );
        assert!(!g.contains_item("x"));
    }

    #[test]
    fn cycles_of_links_are_accepted_and_duplicates_ignored() {
        let mut g = RelationGraph::new();
        assert_eq!(g.add_edge("sw-a", ConnectsTo, "sw-b"), Ok(true));
        assert_eq!(g.add_edge("sw-b", ConnectsTo, "sw-a"), Ok(true));
        assert_eq!(g.add_edge("sw-b", ConnectsTo, "sw-a"), Ok(false));
        assert_eq!(g.add_edge("sw-a", BacksUp, "sw-b"), Ok(true));
        assert_eq!(g.add_edge("sw-b", BacksUp, "sw-a"), Ok(true));
        assert_eq!(g.edge_count(), 4);
        assert!(g.contains_edge("sw-b", ConnectsTo, "sw-a"));
        assert!(g.remove_edge("sw-b", ConnectsTo, "sw-a"));
        assert!(!g.remove_edge("sw-b", ConnectsTo, "sw-a"));
        assert!(!g.contains_edge("sw-b", ConnectsTo, "sw-a"));
        assert_eq!(g.edge_count(), 3);
        assert!(g.impact_of("sw-a").is_empty());
        let sources: Vec<_> = g.sources("sw-b", ConnectsTo).collect();
        assert_eq!(sources, ["sw-a"]);
    }

    #[test]
    fn rings_terminate_and_islands_go_down() {
        // A ring of four switches, attached to the core at r1 only.
        let g = graph(&[
            ("r1", ConnectsTo, "r2"),
            ("r2", ConnectsTo, "r3"),
            ("r3", ConnectsTo, "r4"),
            ("r4", ConnectsTo, "r1"),
            ("r1", ConnectsTo, "core"),
            ("pc", ConnectsTo, "r3"),
        ]);
        let impact = g.impact_of("core");
        assert_eq!(sorted(&impact), ["pc", "r1", "r2", "r3", "r4"]);
        assert_eq!(impact.count(Down), 5, "the ring only reaches itself");
        assert_eq!(impact.get("r3").unwrap().path(), ["r3", "r4", "r1", "core"]);

        let impact = g.impact_of("r2");
        assert!(!impact.contains("r2"));
        assert_eq!(sorted(&impact), ["pc", "r1", "r3", "r4"]);
        assert_eq!(
            impact.count(Degraded),
            4,
            "the way round through core remains"
        );
        assert_eq!(impact.get("r1").unwrap().depth(), 1);
        assert_eq!(impact.get("r3").unwrap().path(), ["r3", "r4", "r1", "r2"]);

        let needs = g.needs_of("pc");
        assert_eq!(sorted(&needs), ["core", "r1", "r2", "r3", "r4"]);
        for single in ["r3", "r4", "r1", "core"] {
            assert_eq!(effect(&needs, single), Some(Down), "{single}");
        }
        assert_eq!(
            effect(&needs, "r2"),
            Some(Degraded),
            "r1 still has its uplink to the core"
        );
    }

    #[test]
    fn stored_edges_skip_the_cycle_check_and_the_analysis_still_ends() {
        let mut g = RelationGraph::new();
        assert_eq!(g.add_stored_edge("vm", RunsOn, "cluster"), Ok(true));
        assert_eq!(g.add_stored_edge("app", RunsOn, "vm"), Ok(true));
        // A cycle add_edge refuses, as a bulk load or two writers at once could store it.
        assert!(g.clone().add_edge("vm", DependsOn, "app").is_err());
        assert_eq!(g.add_stored_edge("vm", DependsOn, "app"), Ok(true));
        assert_eq!(
            g.add_stored_edge("vm", DependsOn, "app"),
            Ok(false),
            "duplicate"
        );
        assert_eq!(
            g.add_stored_edge("vm", RunsOn, "vm"),
            Err(GraphError::SelfLoop {
                id: "vm".into(),
                relation: RunsOn
            })
        );
        assert_eq!(
            g.add_stored_edge("", RunsOn, "vm"),
            Err(GraphError::EmptyId { field: "from" })
        );
        assert_eq!(g.edge_count(), 3);
        // The least fixpoint: support that only goes round the cycle does not count.
        let impact = g.impact_of("cluster");
        assert_eq!(sorted(&impact), ["app", "vm"]);
        assert_eq!(impact.count(Down), 2);
        let impact = g.impact_of("app");
        assert_eq!(effect(&impact, "vm"), Some(Down));
        assert!(!impact.contains("app"));
        let needs = g.needs_of("vm");
        assert_eq!(sorted(&needs), ["app", "cluster"]);
    }

    #[test]
    fn a_graph_built_with_room_is_the_same_graph() {
        let edges = [
            ("b", ConnectsTo, "a"),
            ("c", ConnectsTo, "b"),
            ("c", RunsOn, "a"),
        ];
        let mut g = RelationGraph::with_capacity(1_000);
        for (from, relation, to) in edges {
            g.add_edge(from, relation, to).unwrap();
        }
        let h = graph(&edges);
        assert_eq!((g.item_count(), g.edge_count()), (3, 3));
        for item in ["a", "b", "c"] {
            assert_eq!(g.index_of(item), h.index_of(item));
        }
        assert_eq!(
            format!("{:?}", g.impact_of("a")),
            format!("{:?}", h.impact_of("a"))
        );
    }

    #[test]
    fn items_have_numbers_for_facts_kept_beside_the_graph() {
        let mut g = municipality();
        let core = g.index_of("sw-core").unwrap();
        assert_eq!(g.item_at(core), Some("sw-core"));
        assert_eq!(g.index_of("nowhere"), None);
        assert_eq!(g.item_at(g.item_count() as u32), None);
        let care = g.index_of("router-care").unwrap();
        let uplinks: Vec<(RelationType, &str)> = g
            .edges_from(care)
            .map(|(r, to)| (r, g.item_at(to).unwrap()))
            .collect();
        assert_eq!(
            uplinks,
            [(ConnectsTo, "fibre-care"), (ConnectsTo, "4g-care")],
            "in the order added"
        );
        assert_eq!(g.edges_from(u32::MAX).count(), 0);
        let impact = g.impact_of("sw-core");
        for entry in impact.iter() {
            assert_eq!(g.item_at(entry.index()), Some(entry.item()));
        }
        // Numbers stay when edges go, so vectors beside the graph stay valid.
        assert!(g.remove_edge("router-care", ConnectsTo, "fibre-care"));
        assert_eq!(g.index_of("router-care"), Some(care));
        assert_eq!(g.edges_from(care).count(), 1);
    }

    // ---- properties, checked against a slow model of the same rules ----

    /// An edge between numbered nodes n0..n7.
    type Edge = (usize, RelationType, usize);

    /// Edges by node number, weighted towards connects_to so redundancy shows up.
    fn arb_edges(max: usize) -> impl Strategy<Value = Vec<Edge>> {
        const MIX: [RelationType; 9] = [
            RunsOn,
            DependsOn,
            ConnectsTo,
            ConnectsTo,
            ConnectsTo,
            BacksUp,
            InstalledOn,
            UsedBy,
            LocatedAt,
        ];
        prop::collection::vec((0usize..8, 0usize..MIX.len(), 0usize..8), 0..max)
            .prop_map(|v| v.into_iter().map(|(a, r, b)| (a, MIX[r], b)).collect())
    }

    fn name(n: usize) -> String {
        format!("n{n}")
    }

    /// The graph and the edges it accepted.
    fn build(edges: &[Edge]) -> (RelationGraph, Vec<Edge>) {
        let mut g = RelationGraph::new();
        let mut kept = Vec::new();
        for &(a, r, b) in edges {
            if g.add_edge(&name(a), r, &name(b)) == Ok(true) {
                kept.push((a, r, b));
            }
        }
        (g, kept)
    }

    /// Shortest distance from `x` to `f` over edges that satisfy `follow`.
    fn distance(
        edges: &[Edge],
        x: usize,
        f: usize,
        follow: fn(RelationType) -> bool,
    ) -> Option<u32> {
        let mut dist = [None; 8];
        dist[x] = Some(0u32);
        let mut frontier = vec![x];
        let mut d = 0;
        while !frontier.is_empty() {
            d += 1;
            let mut next = Vec::new();
            for &(a, r, b) in edges {
                if follow(r) && frontier.contains(&a) && dist[b].is_none() {
                    dist[b] = Some(d);
                    next.push(b);
                }
            }
            frontier = next;
        }
        dist[f]
    }

    /// The redundancy rule, by iterating to the least fixpoint over all nodes.
    fn model_impact(edges: &[Edge], f: usize) -> Vec<Option<(u32, Effect)>> {
        let reaches = |x: usize| {
            (x != f)
                .then(|| distance(edges, x, f, RelationType::propagates_failure))
                .flatten()
        };
        let mut works: Vec<bool> = (0..8).map(|x| x != f && reaches(x).is_none()).collect();
        loop {
            let mut changed = false;
            for x in (0..8).filter(|&x| x != f) {
                if works[x] {
                    continue;
                }
                let (mut hard_ok, mut uplinks, mut up) = (true, 0, 0);
                for &(_, r, b) in edges.iter().filter(|e| e.0 == x) {
                    match r {
                        ConnectsTo => {
                            uplinks += 1;
                            up += usize::from(works[b]);
                        }
                        RunsOn | DependsOn => hard_ok &= works[b],
                        _ => {}
                    }
                }
                if hard_ok && (uplinks == 0 || up > 0) {
                    works[x] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        (0..8)
            .map(|x| reaches(x).map(|d| (d, if works[x] { Degraded } else { Down })))
            .collect()
    }

    proptest! {
        #[test]
        fn impact_matches_the_model(edges in arb_edges(28)) {
            let (g, kept) = build(&edges);
            for f in 0..8 {
                let failed = name(f);
                let impact = g.impact_of(&failed);
                let model = model_impact(&kept, f);
                prop_assert!(!impact.contains(&name(f)));
                prop_assert_eq!(impact.len(), model.iter().flatten().count());
                for (x, expected) in model.iter().enumerate() {
                    let got = impact.get(&name(x)).map(|e| (e.depth(), e.effect()));
                    prop_assert_eq!(got, *expected, "item n{} failed n{}", x, f);
                }
                let mut last_depth = 0;
                for e in impact.iter() {
                    prop_assert!(e.depth() >= last_depth, "nearest first");
                    last_depth = e.depth();
                    let path = e.path();
                    prop_assert_eq!(path.len() as u32, e.depth() + 1);
                    prop_assert_eq!(path[0], e.item());
                    prop_assert_eq!(*path.last().unwrap(), failed.as_str());
                    for w in path.windows(2) {
                        prop_assert!(
                            RelationType::ALL
                                .iter()
                                .any(|&r| r.propagates_failure() && g.contains_edge(w[0], r, w[1])),
                            "{} → {} is no propagating edge", w[0], w[1]
                        );
                    }
                }
            }
        }

        #[test]
        fn adding_an_edge_never_removes_an_impacted_item(
            edges in arb_edges(24),
            extra in arb_edges(2),
        ) {
            // Effects may change both ways (a new uplink turns Down into
            // Degraded, a new hard need the reverse); membership only grows.
            let (before, _) = build(&edges);
            let mut after = before.clone();
            for &(a, r, b) in &extra {
                let _ = after.add_edge(&name(a), r, &name(b));
            }
            for f in 0..8 {
                let (small, large) = (before.impact_of(&name(f)), after.impact_of(&name(f)));
                for e in small.iter() {
                    prop_assert!(large.contains(e.item()), "{} left the impact of n{}", e.item(), f);
                    prop_assert!(large.get(e.item()).unwrap().depth() <= e.depth());
                }
            }
        }

        #[test]
        fn needs_of_is_the_exact_reverse_of_impact_of(edges in arb_edges(28)) {
            // For every graph, redundancy included: y is in needs_of(x) iff x is
            // in impact_of(y), with the same depth and the same effect.
            let (g, _) = build(&edges);
            for x in 0..8 {
                let origin = name(x);
                let needs = g.needs_of(&origin);
                prop_assert!(!needs.contains(&origin));
                for e in needs.iter() {
                    let path = e.path();
                    prop_assert_eq!(path[0], origin.as_str());
                    prop_assert_eq!(*path.last().unwrap(), e.item());
                    prop_assert_eq!(path.len() as u32, e.depth() + 1);
                }
                for y in 0..8 {
                    let forward = needs.get(&name(y)).map(|e| (e.depth(), e.effect()));
                    let impact = g.impact_of(&name(y));
                    let backward = impact.get(&name(x)).map(|e| (e.depth(), e.effect()));
                    prop_assert_eq!(forward, backward, "needs_of(n{}) vs impact_of(n{})", x, y);
                }
            }
        }

        #[test]
        fn add_edge_refuses_exactly_the_edges_that_close_a_cycle(edges in arb_edges(28)) {
            let mut g = RelationGraph::new();
            let mut kept: Vec<Edge> = Vec::new();
            for &(a, r, b) in &edges {
                let closes = a == b
                    || (r.forbids_cycles()
                        && distance(&kept, b, a, RelationType::forbids_cycles).is_some());
                match g.add_edge(&name(a), r, &name(b)) {
                    Ok(added) => {
                        prop_assert!(!closes);
                        prop_assert_eq!(added, !kept.contains(&(a, r, b)));
                        if added {
                            kept.push((a, r, b));
                        }
                    }
                    Err(GraphError::Cycle { path, .. }) => {
                        prop_assert!(closes && a != b);
                        prop_assert_eq!(path.first().unwrap(), &name(b));
                        prop_assert_eq!(path.last().unwrap(), &name(a));
                        for w in path.windows(2) {
                            prop_assert!(RelationType::ALL
                                .iter()
                                .any(|&r| r.forbids_cycles() && g.contains_edge(&w[0], r, &w[1])));
                        }
                    }
                    Err(other) => {
                        let self_loop = matches!(other, GraphError::SelfLoop { .. });
                        prop_assert!(a == b && self_loop);
                    }
                }
                prop_assert_eq!(g.edge_count(), kept.len());
            }
        }

        #[test]
        fn moves_need_a_disposal_exactly_when_going_to_disposed(
            a in 0usize..6,
            b in 0usize..6,
            recycler in "[ a-z]{0,3}",
            certificate in "[ 0-9]{0,3}",
            with_record in any::<bool>(),
        ) {
            let (a, b) = (Lifecycle::ALL[a], Lifecycle::ALL[b]);
            let record = Disposal { recycler: recycler.clone(), certificate: certificate.clone() };
            let result = a.check_move(b, with_record.then_some(&record));
            let valid = !recycler.trim().is_empty() && !certificate.trim().is_empty();
            let expected = a.can_move_to(b) && (b == Disposed) == with_record && (!with_record || valid);
            prop_assert_eq!(result.is_ok(), expected, "{:?}", result);
            if a == Disposed {
                prop_assert!(result.is_err());
            }
        }
    }
}
