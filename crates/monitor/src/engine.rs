//! The scheduler: runs every active monitor of the buckets this node holds at its interval,
//! feeds the results to each monitor's [`MonitorTracker`] in memory, and hands state changes
//! (at most once a second) and hourly history (once a minute) to a writer task.
//!
//! One task owns all monitor state, so no locks are needed; probes run in their own tasks,
//! bounded by a semaphore so a flood of hanging targets cannot exhaust sockets or memory.

use crate::probe::{Probe, Prober};
use drifta_core::clock::{from_millis, to_millis};
use drifta_core::monitor::{
    CheckSettings, IncidentId, LinkRole, MaintenanceWindow, MonitorState, MonitorTracker,
    RollupRecorder, Transition,
};
use drifta_core::monitor_history::{HourRecord, PackedMinutes, hour_start};
use drifta_store::{
    EngineMonitor, HourRow, Maintenance, MaintenanceTarget, StateChange, Store, check_settings,
};
use jiff::{SignedDuration, Timestamp};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// This node's name in the lease table; unique per running process.
    pub node_id: String,
    /// Checks running at once.
    pub max_in_flight: usize,
    /// How long a bucket lease lasts without renewal: a dead node's monitors move to
    /// another node within this time.
    pub lease: SignedDuration,
    /// How often the lease is renewed and the settings fingerprint compared.
    pub reload_every: Duration,
    /// How often history is written.
    pub history_every: Duration,
    /// Runs every monitor at this interval instead of its own: for tests and the load
    /// generator only, which cannot wait for the 20-second minimum.
    pub interval_override: Option<Duration>,
}

impl EngineConfig {
    pub fn new(node_id: impl Into<String>) -> Self {
        EngineConfig {
            node_id: node_id.into(),
            max_in_flight: 1024,
            lease: SignedDuration::from_secs(60),
            reload_every: Duration::from_secs(10),
            history_every: Duration::from_secs(60),
            interval_override: None,
        }
    }
}

/// What the engine has done, for benchmarks and the health page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineStats {
    pub monitors: usize,
    pub buckets: usize,
    pub checks_started: u64,
    pub checks_done: u64,
    /// How late checks started against their schedule, over the last samples (ms).
    pub lag_p50_ms: u32,
    pub lag_p99_ms: u32,
    pub lag_max_ms: u32,
    /// Since the engine started, when every loaded monitor had been checked once.
    pub all_checked_after: Option<Duration>,
    pub state_changes_written: u64,
    pub write_errors: u64,
}

#[derive(Default)]
struct SharedStats {
    stats: EngineStats,
    lag: Vec<u32>,
    lag_next: usize,
}

const LAG_SAMPLES: usize = 20_000;

impl SharedStats {
    fn add_lag(&mut self, ms: u32) {
        if self.lag.len() < LAG_SAMPLES {
            self.lag.push(ms);
        } else {
            self.lag[self.lag_next] = ms;
            self.lag_next = (self.lag_next + 1) % LAG_SAMPLES;
        }
    }
}

/// A running engine.
pub struct EngineHandle {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    stats: Arc<Mutex<SharedStats>>,
}

impl EngineHandle {
    pub fn stats(&self) -> EngineStats {
        let Ok(shared) = self.stats.lock() else {
            return EngineStats::default();
        };
        let mut stats = shared.stats.clone();
        let mut lag = shared.lag.clone();
        lag.sort_unstable();
        let at = |p: usize| {
            lag.get((lag.len() * p / 100).min(lag.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        stats.lag_p50_ms = at(50);
        stats.lag_p99_ms = at(99);
        stats.lag_max_ms = lag.last().copied().unwrap_or(0);
        stats
    }

    /// Stops checking, writes what is in memory and gives the leases back.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "monitor engine stopped abnormally");
        }
    }
}

/// Starts the engine on the current tokio runtime.
pub fn spawn(store: Store, prober: Prober, config: EngineConfig) -> EngineHandle {
    let (shutdown, shutdown_rx) = watch::channel(false);
    let stats = Arc::new(Mutex::new(SharedStats::default()));
    let engine = Engine {
        store,
        prober,
        semaphore: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
        config,
        slots: HashMap::new(),
        queue: BinaryHeap::new(),
        buckets: Vec::new(),
        version: None,
        windows: Vec::new(),
        pending: Vec::new(),
        finished_rows: Vec::new(),
        stats: stats.clone(),
        started: Instant::now(),
        unchecked: 0,
    };
    let task = tokio::spawn(engine.run(shutdown_rx));
    EngineHandle {
        shutdown,
        task,
        stats,
    }
}

struct Slot {
    monitor: EngineMonitor,
    probe: Arc<Probe>,
    timeout: Duration,
    interval: Duration,
    tracker: MonitorTracker,
    recorder: RollupRecorder,
    hour: Option<HourRecord>,
    /// The state last written to the database.
    written: MonitorState,
    /// Bumped when the slot is replaced, so results and queue entries of the old one are
    /// recognised and dropped.
    generation: u64,
    running: bool,
    checked: bool,
}

struct Done {
    id: Arc<str>,
    generation: u64,
    outcome: drifta_core::monitor::CheckOutcome,
}

enum Write {
    Changes(Vec<StateChange>),
    Hours(Vec<HourRow>),
}

struct Engine {
    store: Store,
    prober: Prober,
    config: EngineConfig,
    semaphore: Arc<Semaphore>,
    slots: HashMap<Arc<str>, Slot>,
    queue: BinaryHeap<Reverse<(Instant, u64, Arc<str>)>>,
    buckets: Vec<i64>,
    version: Option<(i64, i64, i64)>,
    windows: Vec<Maintenance>,
    pending: Vec<StateChange>,
    /// Hours of monitors no longer checked here, written with the next history batch.
    finished_rows: Vec<HourRow>,
    stats: Arc<Mutex<SharedStats>>,
    started: Instant,
    /// Loaded monitors not yet checked once since start.
    unchecked: usize,
}

impl Engine {
    async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
        let (write_tx, write_rx) = mpsc::unbounded_channel::<Write>();
        let writer = tokio::spawn(write_loop(self.store.clone(), write_rx, self.stats.clone()));
        let mut reload = tokio::time::interval(self.config.reload_every);
        reload.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut changes = tokio::time::interval(Duration::from_secs(1));
        changes.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Offset by half a reload period, so the history write (which holds SQLite's one
        // writer longest) never lands in the same instant as the lease renewal the loop
        // awaits: measured at 10,000 monitors, that coincidence stalled checks for ~0.9 s.
        let mut history = tokio::time::interval_at(
            Instant::now() + self.config.history_every + self.config.reload_every / 2,
            self.config.history_every,
        );
        history.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let next_due = self
                .queue
                .peek()
                .map(|Reverse((at, _, _))| *at)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tokio::time::sleep_until(next_due) => self.start_due(&done_tx),
                Some(done) = done_rx.recv() => {
                    self.finish(done);
                    // Drain what else has arrived, so a burst costs one wake-up.
                    while let Ok(done) = done_rx.try_recv() {
                        self.finish(done);
                    }
                }
                _ = reload.tick() => self.reload().await,
                _ = changes.tick() => {
                    if !self.pending.is_empty() {
                        let _ = write_tx.send(Write::Changes(std::mem::take(&mut self.pending)));
                    }
                }
                _ = history.tick() => {
                    let rows = self.history_rows(jiff::Timestamp::now());
                    let _ = write_tx.send(Write::Hours(rows));
                }
            }
        }
        // Shutdown: what is in memory goes to the database before the leases are returned.
        if !self.pending.is_empty() {
            let _ = write_tx.send(Write::Changes(std::mem::take(&mut self.pending)));
        }
        let rows = self.history_rows(jiff::Timestamp::now());
        let _ = write_tx.send(Write::Hours(rows));
        drop(write_tx);
        let _ = writer.await;
        if let Err(e) = self.store.release_buckets(&self.config.node_id).await {
            tracing::warn!(error = %e, "could not release monitor leases");
        }
    }

    fn stats(&self) -> std::sync::MutexGuard<'_, SharedStats> {
        // A poisoned lock only means a panic elsewhere while counting; the counts are
        // still usable.
        self.stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn start_due(&mut self, done_tx: &mpsc::UnboundedSender<Done>) {
        let now = Instant::now();
        while let Some(Reverse((due, generation, id))) = self.queue.peek().cloned() {
            if due > now {
                break;
            }
            self.queue.pop();
            let Some(slot) = self.slots.get_mut(&id) else {
                continue;
            };
            if slot.generation != generation {
                continue;
            }
            // Next run on the grid, unless the engine fell behind by more than an interval.
            let mut next = due + slot.interval;
            if next <= now {
                next = now + slot.interval;
            }
            self.queue.push(Reverse((next, generation, id.clone())));
            if slot.running {
                // The previous check is still within its timeout; do not stack another.
                continue;
            }
            slot.running = true;
            let probe = slot.probe.clone();
            let timeout = slot.timeout;
            let prober = self.prober.clone();
            let semaphore = self.semaphore.clone();
            let done_tx = done_tx.clone();
            let stats = self.stats.clone();
            tokio::spawn(async move {
                let Ok(_permit) = semaphore.acquire_owned().await else {
                    return;
                };
                let lag = Instant::now().saturating_duration_since(due);
                if let Ok(mut s) = stats.lock() {
                    s.stats.checks_started += 1;
                    s.add_lag(u32::try_from(lag.as_millis()).unwrap_or(u32::MAX));
                }
                let outcome = prober.check(&probe, timeout).await;
                let _ = done_tx.send(Done {
                    id,
                    generation,
                    outcome,
                });
            });
        }
    }

    fn finish(&mut self, done: Done) {
        let Some(slot) = self.slots.get_mut(&done.id) else {
            return;
        };
        if slot.generation != done.generation {
            return;
        }
        slot.running = false;
        let at = done.outcome.at;
        let transition = slot.tracker.observe(&done.outcome);
        slot.recorder
            .record(at, slot.tracker.measured_state(at), Some(&done.outcome));
        let first_check = !std::mem::replace(&mut slot.checked, true);
        let link = slot.monitor.link;
        let location = slot.monitor.location_id.clone();
        let backup = match (link, &location) {
            (Some(LinkRole::Primary), Some(location)) => self.backup_up(location, at),
            _ => None,
        };
        let Some(slot) = self.slots.get_mut(&done.id) else {
            return;
        };
        if let Some(change) = decide(slot, transition.as_ref(), at, backup.as_deref()) {
            self.pending.push(change);
            // The site's primary link now shows this backup's state through its own.
            if link == Some(LinkRole::Backup)
                && let Some(location) = location
            {
                self.redecide_primaries(&location, at);
            }
        }
        if first_check {
            self.unchecked = self.unchecked.saturating_sub(1);
            if self.unchecked == 0 {
                let after = self.started.elapsed();
                self.stats().stats.all_checked_after.get_or_insert(after);
            }
        }
        self.stats().stats.checks_done += 1;
    }

    async fn reload(&mut self) {
        match self
            .store
            .claim_buckets(&self.config.node_id, self.config.lease)
            .await
        {
            Ok(buckets) => {
                if buckets != self.buckets {
                    tracing::info!(node = %self.config.node_id, buckets = buckets.len(), "monitor leases changed");
                    self.buckets = buckets;
                    self.version = None;
                }
            }
            Err(e) => {
                // Without a renewed lease another node may take these monitors over; carrying
                // on checking for one lease period does no harm (state changes are claimed
                // conditionally), stopping would leave gaps.
                tracing::warn!(error = %e, "could not renew monitor leases");
            }
        }
        match self.store.all_maintenance().await {
            Ok(windows) => {
                if windows != self.windows {
                    self.windows = windows;
                    let ids: Vec<Arc<str>> = self.slots.keys().cloned().collect();
                    for id in ids {
                        self.apply_maintenance(&id);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not load maintenance windows"),
        }
        let version = match self.store.checks_version().await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "could not read monitor settings");
                return;
            }
        };
        if self.version == Some(version) {
            return;
        }
        let monitors = match self.store.engine_monitors(&self.buckets).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "could not load monitors");
                return;
            }
        };
        self.version = Some(version);
        self.load(monitors).await;
    }

    async fn load(&mut self, monitors: Vec<EngineMonitor>) {
        let mut keep: HashMap<Arc<str>, ()> = HashMap::new();
        let mut added = Vec::new();
        for monitor in monitors {
            if monitor.state == "paused" {
                continue;
            }
            let id: Arc<str> = Arc::from(monitor.id.as_str());
            keep.insert(id.clone(), ());
            if self
                .slots
                .get(&id)
                .is_some_and(|s| s.monitor.updated_at == monitor.updated_at)
            {
                continue;
            }
            match new_slot(monitor, self.config.interval_override) {
                Ok(slot) => added.push((id, slot)),
                Err(reason) => {
                    tracing::warn!(monitor = %id, %reason, "monitor not scheduled");
                }
            }
        }
        let removed: Vec<Arc<str>> = self
            .slots
            .keys()
            .filter(|id| !keep.contains_key(*id))
            .cloned()
            .collect();
        let now = Timestamp::now();
        for id in removed {
            if let Some(mut slot) = self.slots.remove(&id) {
                if !slot.checked {
                    self.unchecked = self.unchecked.saturating_sub(1);
                }
                // Its history up to now is kept.
                self.finished_rows.extend(slot_rows(&mut slot, now));
            }
        }
        if added.is_empty() {
            self.publish_counts();
            return;
        }
        // Continue the current hour's history where a previous run left it.
        let hour = hour_start(now);
        let ids: Vec<String> = added.iter().map(|(id, _)| id.to_string()).collect();
        let stored: HashMap<String, HourRow> =
            match self.store.engine_hours(&ids, to_millis(hour)).await {
                Ok(rows) => rows
                    .into_iter()
                    .map(|r| (r.monitor_id.clone(), r))
                    .collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "could not resume this hour's history");
                    HashMap::new()
                }
            };
        let start = Instant::now();
        for (id, mut slot) in added {
            if let Some(row) = stored.get(id.as_ref())
                && let Ok(minutes) = PackedMinutes::from_bytes(&row.minutes)
            {
                slot.hour = Some(HourRecord::resume(hour, minutes));
            }
            if let Some(old) = self.slots.get(&id) {
                // New settings: the history so far carries on in memory.
                slot.generation = old.generation + 1;
                slot.checked = old.checked;
                slot.recorder = old.recorder.clone();
                slot.hour = old.hour.clone();
            } else {
                self.unchecked += 1;
            }
            // Spread first checks over one interval, by id, so a restart neither bursts nor
            // leaves any monitor waiting longer than its interval.
            // Over 95% of the interval, so loading time does not push the last first check
            // past one interval after start.
            let offset = slot.interval.mul_f64(spread(&id) * 0.95);
            self.queue
                .push(Reverse((start + offset, slot.generation, id.clone())));
            slot.recorder
                .record(now, slot.tracker.measured_state(now), None);
            self.slots.insert(id.clone(), slot);
            self.apply_maintenance(&id);
        }
        self.publish_counts();
    }

    fn publish_counts(&self) {
        let (monitors, buckets) = (self.slots.len(), self.buckets.len());
        let mut s = self.stats();
        s.stats.monitors = monitors;
        s.stats.buckets = buckets;
    }

    fn apply_maintenance(&mut self, id: &Arc<str>) {
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        let windows = self
            .windows
            .iter()
            .filter(|w| applies(w, &slot.monitor))
            .filter_map(to_window)
            .collect();
        slot.tracker.set_maintenance(windows);
    }

    /// Closes the minutes up to `now` and returns every monitor's current hour (and any hour
    /// that just ended), including the minute in progress.
    fn history_rows(&mut self, now: Timestamp) -> Vec<HourRow> {
        let mut rows = std::mem::take(&mut self.finished_rows);
        rows.reserve(self.slots.len());
        let backups: HashMap<String, String> = self
            .slots
            .values()
            .filter(|s| {
                s.monitor.link == Some(LinkRole::Backup) && s.tracker.state(now) == MonitorState::Up
            })
            .filter_map(|s| Some((s.monitor.location_id.clone()?, s.monitor.name.clone())))
            .collect();
        for slot in self.slots.values_mut() {
            let backup = match (&slot.monitor.link, &slot.monitor.location_id) {
                (Some(LinkRole::Primary), Some(location)) => {
                    backups.get(location).map(String::as_str)
                }
                _ => None,
            };
            // A maintenance window that began without a check still shows on the status.
            if let Some(change) = decide(slot, None, now, backup) {
                self.pending.push(change);
            }
            rows.extend(slot_rows(slot, now));
        }
        rows
    }

    /// The name of a backup link at `location` that is up, if any. Only primary links
    /// ask, and few monitors are links, so a scan is cheaper than keeping an index.
    fn backup_up(&self, location: &str, now: Timestamp) -> Option<String> {
        self.slots
            .values()
            .find(|s| {
                s.monitor.link == Some(LinkRole::Backup)
                    && s.monitor.location_id.as_deref() == Some(location)
                    && s.tracker.state(now) == MonitorState::Up
            })
            .map(|s| s.monitor.name.clone())
    }

    fn redecide_primaries(&mut self, location: &str, now: Timestamp) {
        let backup = self.backup_up(location, now);
        for slot in self.slots.values_mut() {
            if slot.monitor.link == Some(LinkRole::Primary)
                && slot.monitor.location_id.as_deref() == Some(location)
                && let Some(change) = decide(slot, None, now, backup.as_deref())
            {
                self.pending.push(change);
            }
        }
    }
}

/// Brings a monitor's history up to `now`: closed minutes go into its hour record; the rows
/// to write are any hour that ended and the current hour with the minute in progress.
fn slot_rows(slot: &mut Slot, now: Timestamp) -> Vec<HourRow> {
    let mut rows = Vec::new();
    let state = slot.tracker.measured_state(now);
    slot.recorder.record(now, state, None);
    for minute in slot.recorder.flush(now) {
        if slot.hour.as_ref().is_some_and(|h| !h.covers(minute.minute))
            && let Some(done) = slot.hour.take()
        {
            rows.push(hour_row(&slot.monitor.id, &done));
        }
        let hour = slot
            .hour
            .get_or_insert_with(|| HourRecord::new(minute.minute));
        if let Err(e) = hour.add(&minute) {
            tracing::warn!(error = %e, "minute outside its hour");
        }
    }
    let mut current = slot
        .hour
        .clone()
        .filter(|h| h.covers(now))
        .unwrap_or_else(|| HourRecord::new(now));
    for open in slot.recorder.open_minutes() {
        if current.covers(open.minute) {
            // Only the snapshot gets the open minute; the record gets it once it closes.
            let _ = current.add(open);
        }
    }
    rows.push(hour_row(&slot.monitor.id, &current));
    rows
}

/// The state change to write, if what the status should show differs from what is stored.
/// Tickets follow only announced transitions (not silenced by maintenance or flapping).
fn decide(
    slot: &mut Slot,
    transition: Option<&Transition>,
    now: Timestamp,
    backup_up: Option<&str>,
) -> Option<StateChange> {
    let measured = slot.tracker.state(now);
    let shown = LinkRole::shown(measured, slot.monitor.link, backup_up.is_some());
    if shown == slot.written {
        return None;
    }
    // A primary link's outage turns into "degraded" (and back to "down") by what its
    // backup does, without a transition of its own: people hear of it unless maintenance
    // or flapping holds alerts back.
    let by_backup = measured == MonitorState::Down && slot.monitor.link == Some(LinkRole::Primary);
    let reason = match (shown, backup_up) {
        (MonitorState::Degraded, Some(backup)) if by_backup => format!("on backup link: {backup}"),
        _ => transition
            .and_then(|t| t.reason.clone())
            .unwrap_or_default(),
    };
    let announced = match transition {
        Some(t) => !t.silenced && t.to == measured,
        None => by_backup && !slot.tracker.in_maintenance(now) && !slot.tracker.is_flapping(),
    };
    let change = StateChange {
        monitor_id: slot.monitor.id.clone(),
        at: to_millis(transition.map_or(now, |t| t.at)),
        from: slot.written,
        to: shown,
        reason,
        announced,
    };
    slot.written = shown;
    Some(change)
}

fn hour_row(monitor_id: &str, hour: &HourRecord) -> HourRow {
    let t = &hour.totals;
    HourRow {
        monitor_id: monitor_id.to_string(),
        hour: to_millis(hour.hour()),
        up_secs: i64::from(t.up_seconds),
        degraded_secs: i64::from(t.degraded_seconds),
        down_secs: i64::from(t.down_seconds),
        maintenance_secs: i64::from(t.maintenance_seconds),
        checks: i64::from(t.checks),
        latency_p50: t.latency_p50().map(i64::from),
        latency_p95: t.latency_p95().map(i64::from),
        minutes: hour.minutes.to_bytes(),
    }
}

fn new_slot(monitor: EngineMonitor, interval: Option<Duration>) -> Result<Slot, String> {
    let probe: Probe = serde_json::from_str(&monitor.probe).map_err(|e| format!("probe: {e}"))?;
    let settings: CheckSettings = check_settings(
        monitor.interval_secs,
        monitor.timeout_secs,
        monitor.retries,
        monitor.degraded_above_ms,
    )
    .map_err(|e| e.to_string())?;
    let stored = MonitorState::parse(&monitor.state).unwrap_or(MonitorState::Up);
    let tracker = match stored {
        MonitorState::Down | MonitorState::Degraded => MonitorTracker::restore(
            settings,
            &Transition {
                at: from_millis(monitor.state_since),
                from: MonitorState::Up,
                to: stored,
                reason: None,
                incident: (stored == MonitorState::Down)
                    .then(|| IncidentId(from_millis(monitor.state_since))),
                silenced: false,
                flapping: false,
            },
        ),
        _ => MonitorTracker::new(settings),
    }
    .map_err(|e| e.to_string())?;
    Ok(Slot {
        timeout: interval.map_or(settings.timeout.unsigned_abs(), |i| {
            settings.timeout.unsigned_abs().min(i)
        }),
        interval: interval.unwrap_or(settings.interval.unsigned_abs()),
        probe: Arc::new(probe),
        tracker,
        recorder: RollupRecorder::new(),
        hour: None,
        written: stored,
        generation: 0,
        running: false,
        checked: false,
        monitor,
    })
}

fn applies(window: &Maintenance, monitor: &EngineMonitor) -> bool {
    window.tenant_id == monitor.tenant_id
        && match &window.target {
            MaintenanceTarget::Tenant => true,
            MaintenanceTarget::Location(id) => monitor.location_id.as_deref() == Some(id),
            MaintenanceTarget::Monitor(id) => *id == monitor.id,
        }
}

/// The core rule's window for a stored one; `None` (logged) for one that no longer makes
/// sense, e.g. a zone the system does not know.
pub fn to_window(window: &Maintenance) -> Option<MaintenanceWindow> {
    let made = window.window();
    if made.is_none() {
        tracing::warn!(window = %window.id, "maintenance window ignored: it cannot be applied");
    }
    made
}

/// A fraction in [0, 1) from the id, to place a monitor's first check within its interval.
fn spread(id: &str) -> f64 {
    let hash = id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    f64::from(hash) / (f64::from(u32::MAX) + 1.0)
}

async fn write_loop(
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Write>,
    stats: Arc<Mutex<SharedStats>>,
) {
    while let Some(write) = rx.recv().await {
        // A failed write is retried a few times: the database may be busy with a backup or
        // briefly unreachable; after that the batch is logged and dropped rather than
        // growing memory without bound.
        let mut attempt = 0;
        loop {
            let result = match &write {
                Write::Changes(changes) => store.record_state_changes(changes).await.map(|n| {
                    if let Ok(mut s) = stats.lock() {
                        s.stats.state_changes_written += n as u64;
                    }
                }),
                Write::Hours(rows) => store.write_monitor_hours(rows).await,
            };
            match result {
                Ok(()) => break,
                Err(e) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "monitor write failed; retrying");
                    tokio::time::sleep(Duration::from_secs(attempt)).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "monitor write failed; batch dropped");
                    if let Ok(mut s) = stats.lock() {
                        s.stats.write_errors += 1;
                    }
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drifta_store::MaintenanceSchedule;

    #[test]
    fn spread_is_within_one_interval() {
        for i in 0..1000 {
            let f = spread(&format!("monitor-{i}"));
            assert!((0.0..1.0).contains(&f));
        }
        assert_ne!(spread("a"), spread("b"));
    }

    fn maintenance(schedule: MaintenanceSchedule, target: MaintenanceTarget) -> Maintenance {
        Maintenance {
            id: "w".into(),
            tenant_id: drifta_core::TenantId::from_db("t".to_string()),
            tenant_name: "T".into(),
            time_zone: "Europe/Oslo".into(),
            title: "Patch night".into(),
            target,
            target_name: String::new(),
            schedule,
        }
    }

    #[test]
    fn weekly_windows_use_the_municipality_zone() {
        // Tuesdays 22:00–02:00 Oslo time.
        let w = to_window(&maintenance(
            MaintenanceSchedule::Weekly {
                weekdays: 2,
                start_minute: 22 * 60,
                duration_mins: 240,
            },
            MaintenanceTarget::Tenant,
        ))
        .unwrap();
        // 2026-11-24 is a Tuesday; 22:30 Oslo is 21:30 UTC in winter.
        assert!(w.is_active("2026-11-24T21:30:00Z".parse().unwrap()));
        assert!(w.is_active("2026-11-25T00:30:00Z".parse().unwrap()));
        assert!(!w.is_active("2026-11-25T01:30:00Z".parse().unwrap()));
        assert!(!w.is_active("2026-11-23T21:30:00Z".parse().unwrap()));
    }

    #[test]
    fn broken_windows_are_ignored_not_fatal() {
        let mut bad = maintenance(
            MaintenanceSchedule::Weekly {
                weekdays: 1,
                start_minute: 60,
                duration_mins: 30,
            },
            MaintenanceTarget::Tenant,
        );
        bad.time_zone = "Mars/Olympus".into();
        assert!(to_window(&bad).is_none());
        let inverted = maintenance(
            MaintenanceSchedule::Once {
                starts_at: 2000,
                ends_at: 1000,
            },
            MaintenanceTarget::Tenant,
        );
        assert!(to_window(&inverted).is_none());
    }

    #[test]
    fn windows_apply_by_municipality_location_or_monitor() {
        let monitor = EngineMonitor {
            id: "m1".into(),
            tenant_id: drifta_core::TenantId::from_db("t".to_string()),
            name: "Web".into(),
            kind: "http".into(),
            probe: "{}".into(),
            interval_secs: 60,
            timeout_secs: 10,
            retries: 2,
            degraded_above_ms: None,
            state: "up".into(),
            state_since: 0,
            location_id: Some("loc".into()),
            updated_at: 0,
            link: None,
        };
        let once = MaintenanceSchedule::Once {
            starts_at: 0,
            ends_at: 1,
        };
        assert!(applies(
            &maintenance(once.clone(), MaintenanceTarget::Tenant),
            &monitor
        ));
        assert!(applies(
            &maintenance(once.clone(), MaintenanceTarget::Location("loc".into())),
            &monitor
        ));
        assert!(!applies(
            &maintenance(once.clone(), MaintenanceTarget::Location("other".into())),
            &monitor
        ));
        assert!(applies(
            &maintenance(once.clone(), MaintenanceTarget::Monitor("m1".into())),
            &monitor
        ));
        let mut elsewhere = maintenance(once, MaintenanceTarget::Tenant);
        elsewhere.tenant_id = drifta_core::TenantId::from_db("u".to_string());
        assert!(!applies(&elsewhere, &monitor));
    }
}
