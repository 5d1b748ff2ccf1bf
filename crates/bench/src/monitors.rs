//! `drifta-bench monitors`, `heartbeats` and `monitor-target`: the monitoring engine and the
//! heartbeat endpoint under load, against local targets only (loopback).
//!
//! `monitors` starts `monitor-target` (this same binary) as a child process, so the target's
//! CPU is not counted against Drifta, creates HTTP monitors pointing at it through
//! `Store::create_check_monitor`, starts what `drifta serve` starts (web server, search
//! indexer, heartbeat sweep, check engine) in this process, and measures the whole process:
//! CPU, memory, checks per second, schedule lag, state changes and database growth, then
//! restarts the engine and measures how long until every monitor has been checked again.
//!
//! `heartbeats` creates heartbeat monitors and sends pings to `POST /ping/<secret>` over
//! loopback HTTP from this same process.

use crate::{Failure, Sample, ms, size, thousands};
use clap::Args;
use drifta_core::monitor::{MAX_INTERVAL, MIN_CHECK_INTERVAL, MonitorKind};
use drifta_core::password::PasswordHasher;
use drifta_core::{Actor, Country, Scope, TenantId};
use drifta_monitor::engine::{self, EngineConfig, EngineHandle, EngineStats};
use drifta_monitor::probe::{Probe, Prober};
use drifta_store::{Backend, ConnectOptions, NewCheck, NewTenant, Store, redact_url};
use drifta_web::{AppState, WebConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

// ---- monitor-target ---------------------------------------------------------------------

#[derive(Args, Clone)]
pub struct TargetArgs {
    /// Address to listen on; port 0 picks a free one. The bound address is printed on the
    /// first line of stdout.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Wait this long before answering, to stand in for a slow service.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// HTTP status of every answer.
    #[arg(long, default_value_t = 200)]
    status: u16,
}

/// Longest request head read; the probes send a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;
/// A client that sends nothing is dropped after this long, so stuck connections cannot pile
/// up in the target and distort a run.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A tiny HTTP/1.1 server answering every request with the same short response and
/// `connection: close`, until killed. Deliberately not hyper: the less the target does, the
/// less it takes from the two cores Drifta is measured on.
pub async fn target(args: TargetArgs) -> Result<(), Failure> {
    if !(100..=599).contains(&args.status) {
        return Err(format!("--status {} is not an HTTP status (100-599)", args.status).into());
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    let body = "ok\n";
    let response: Arc<[u8]> = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        args.status,
        reason_phrase(args.status),
        body.len()
    )
    .into_bytes()
    .into();
    // The parent waits for this line; it must be the first thing on stdout.
    println!("{addr}");
    std::io::Write::flush(&mut std::io::stdout())?;
    let delay = Duration::from_millis(args.delay_ms);
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                tokio::spawn(answer(socket, response.clone(), delay));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning, and
                // say so, since it means the run is measuring the target's limits.
                eprintln!("monitor-target: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn answer(mut socket: TcpStream, response: Arc<[u8]>, delay: Duration) {
    let mut head = vec![0u8; MAX_HEAD];
    let mut seen = 0;
    let read_head = async {
        loop {
            match socket.read(&mut head[seen..]).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => {
                    // Only the newly read bytes and the three before them can complete the
                    // blank line that ends the head.
                    let from = seen.saturating_sub(3);
                    seen += n;
                    if head[from..seen].windows(4).any(|w| w == b"\r\n\r\n") || seen == MAX_HEAD {
                        return true;
                    }
                }
            }
        }
    };
    if !matches!(
        tokio::time::timeout(READ_TIMEOUT, read_head).await,
        Ok(true)
    ) {
        return;
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let _ = socket.write_all(&response).await;
    let _ = socket.shutdown().await;
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        // The reason phrase is informational (RFC 9112); clients go by the code.
        _ => "Status",
    }
}

/// The target server as a child process; killed when dropped.
struct TargetProcess {
    child: tokio::process::Child,
    addr: SocketAddr,
    _stdout: BufReader<tokio::process::ChildStdout>,
}

impl TargetProcess {
    async fn start(delay_ms: u64) -> Result<TargetProcess, Failure> {
        let exe = std::env::current_exe()
            .map_err(|e| format!("cannot find this program to start the target server: {e}"))?;
        let mut child = tokio::process::Command::new(&exe)
            .args(["monitor-target", "--listen", "127.0.0.1:0", "--delay-ms"])
            .arg(delay_ms.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {} monitor-target: {e}", exe.display()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the target server's output was not captured")?;
        // Kept open for the child's lifetime: a closed pipe would make any later write to
        // its stdout fail.
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        match tokio::time::timeout(Duration::from_secs(10), read).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(format!("reading the target server's address: {e}").into()),
            Err(_) => {
                return Err("the target server did not print its address within 10 s".into());
            }
        }
        let addr = line.trim().parse().map_err(|_| {
            format!(
                "the target server printed {:?} instead of its address",
                line.trim()
            )
        })?;
        Ok(TargetProcess {
            child,
            addr,
            _stdout: stdout,
        })
    }

    /// CPU ticks the target has used, for showing what was kept out of Drifta's figure.
    fn cpu_ticks(&self) -> Option<u64> {
        let pid = self.child.id()?;
        cpu_ticks_of(&format!("/proc/{pid}/stat"))
    }
}

// ---- What `drifta serve` runs beside the engine -------------------------------------------

/// The web server, search indexer, heartbeat sweep and alert sender, as `drifta serve` starts
/// them, so the process measured is the one an operator runs.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    web: JoinHandle<std::io::Result<()>>,
    indexer: JoinHandle<()>,
    sweeper: JoinHandle<()>,
    alerts: Option<drifta_monitor::alerts::AlertHandle>,
}

impl Server {
    pub(crate) async fn start(store: &Store) -> Result<Server, Failure> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot listen for the web server on 127.0.0.1: {e}"))?;
        let addr = listener.local_addr()?;
        // No one signs in during the benchmark; the production hasher would only add its
        // 19 MiB argon2 working memory once, for the dummy hash made at start.
        let state = AppState::new(
            store.clone(),
            PasswordHasher::fast_insecure_for_tests(),
            WebConfig::default(),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let web = tokio::spawn(drifta_web::serve(listener, state, async {
            let _ = stopped.await;
        }));
        let indexer = store.spawn_search_indexer();
        // The same sweep as `drifta serve` (crates/cli), every 30 s.
        let sweep_store = store.clone();
        let sweeper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = sweep_store.evaluate_heartbeats().await {
                    eprintln!("drifta-bench: heartbeat sweep failed: {e}");
                }
            }
        });
        let mut alert_config = drifta_monitor::alerts::AlertConfig::new(
            "bench",
            std::sync::Arc::new(drifta_web::alert_text),
        );
        alert_config.render_ticket = Some(std::sync::Arc::new(drifta_web::ticket_mail_text));
        let alerts = drifta_monitor::alerts::spawn(store.clone(), alert_config)
            .map_err(|e| format!("cannot start the alert sender: {e}"))?;
        Ok(Server {
            addr,
            stop: Some(stop),
            web,
            indexer,
            sweeper,
            alerts: Some(alerts),
        })
    }

    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.indexer.abort();
        self.sweeper.abort();
        if let Some(alerts) = self.alerts.take() {
            alerts.shutdown().await;
        }
        match tokio::time::timeout(Duration::from_secs(5), &mut self.web).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => eprintln!("drifta-bench: the web server stopped with: {e}"),
            Ok(Err(e)) => eprintln!("drifta-bench: the web server task failed: {e}"),
            Err(_) => self.web.abort(),
        }
    }
}

// ---- The database --------------------------------------------------------------------------

/// The database a run uses: given, or a fresh SQLite file in a directory removed at the end.
pub(crate) struct Database {
    pub(crate) url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Database {
    pub(crate) fn new(url: Option<String>, file: &str) -> Result<Database, Failure> {
        match url {
            Some(url) => Ok(Database { url, _dir: None }),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("drifta-bench-")
                    .tempdir()
                    .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
                let url = format!("sqlite://{}", dir.path().join(file).display());
                Ok(Database {
                    url,
                    _dir: Some(dir),
                })
            }
        }
    }

    /// Connects, migrates and insists on an empty database: the figures are for what this
    /// run creates.
    pub(crate) async fn open(&self) -> Result<Store, Failure> {
        let store = Store::connect(&self.url, &ConnectOptions::default()).await?;
        store.migrate().await?;
        if !store.is_empty().await? {
            return Err(format!(
                "{} is not empty; the benchmark needs a fresh database",
                redact_url(&self.url)
            )
            .into());
        }
        Ok(store)
    }

    /// The SQLite file on disk, for file sizes.
    fn sqlite_file(&self) -> Option<PathBuf> {
        let rest = self
            .url
            .strip_prefix("sqlite://")
            .or_else(|| self.url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or(rest);
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }
}

/// A second connection for counting rows and sizes, which the store does not offer: the
/// engine's own counter of state changes counts only announced ones, so the rows are the
/// truth.
enum Peek {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

#[derive(Clone, Copy, Default)]
struct DbFigures {
    /// SQLite pages in use (WAL included) or `pg_database_size`.
    bytes: i64,
    /// SQLite main file plus `-wal`, as `ls` shows them.
    file_bytes: Option<u64>,
    hour_rows: i64,
    events: i64,
}

impl Peek {
    async fn open(db: &Database, backend: Backend) -> Result<Peek, Failure> {
        let failed = |e: sqlx::Error| format!("second connection to the database: {e}");
        Ok(match backend {
            Backend::Sqlite => Peek::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect(&db.url)
                    .await
                    .map_err(failed)?,
            ),
            Backend::Postgres => Peek::Pg(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&db.url)
                    .await
                    .map_err(failed)?,
            ),
        })
    }

    async fn figures(&self, db: &Database) -> Result<DbFigures, Failure> {
        const HOURS: &str = "SELECT COUNT(*) FROM monitor_hours";
        const EVENTS: &str = "SELECT COUNT(*) FROM monitor_events";
        let one = |r: Result<(i64,), sqlx::Error>| {
            r.map(|(n,)| n)
                .map_err(|e| format!("counting in the database: {e}"))
        };
        Ok(match self {
            Peek::Sqlite(pool) => DbFigures {
                bytes: one(sqlx::query_as(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(pool)
                .await)?,
                file_bytes: db.sqlite_file().map(|main| {
                    let len = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
                    let mut wal = main.clone().into_os_string();
                    wal.push("-wal");
                    len(&main) + len(std::path::Path::new(&wal))
                }),
                hour_rows: one(sqlx::query_as(HOURS).fetch_one(pool).await)?,
                events: one(sqlx::query_as(EVENTS).fetch_one(pool).await)?,
            },
            Peek::Pg(pool) => DbFigures {
                bytes: one(
                    sqlx::query_as("SELECT pg_database_size(current_database())")
                        .fetch_one(pool)
                        .await,
                )?,
                file_bytes: None,
                hour_rows: one(sqlx::query_as(HOURS).fetch_one(pool).await)?,
                events: one(sqlx::query_as(EVENTS).fetch_one(pool).await)?,
            },
        })
    }

    async fn close(self) {
        match self {
            Peek::Sqlite(pool) => pool.close().await,
            Peek::Pg(pool) => pool.close().await,
        }
    }
}

/// A provider and `count` municipalities, made through the product's store calls.
pub(crate) async fn tenants(
    store: &Store,
    count: usize,
) -> Result<(Scope, Vec<TenantId>), Failure> {
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
    let mut municipalities = Vec::with_capacity(count);
    for i in 0..count {
        // A scope lists the tenants that existed when it was made, so it is renewed after
        // each new municipality.
        let scope = store.installation_scope(actor.clone()).await?;
        let m = store
            .create_municipality(
                &scope,
                &provider.id,
                NewTenant {
                    name: format!("Benk {} kommune", i + 1),
                    slug: format!("benk-{}", i + 1),
                    country: Country::No,
                    time_zone: None,
                    language: None,
                },
            )
            .await?;
        municipalities.push(m.id);
    }
    Ok((store.installation_scope(actor).await?, municipalities))
}

// ---- Process figures from /proc --------------------------------------------------------

/// utime + stime of a process, in clock ticks.
fn cpu_ticks_of(stat_path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(stat_path).ok()?;
    // The command name in parentheses may contain spaces; fields are counted after it.
    let after = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of proc(5); the first field after the name is field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn own_cpu_ticks() -> Result<u64, Failure> {
    cpu_ticks_of("/proc/self/stat")
        .ok_or_else(|| "cannot read /proc/self/stat (this benchmark needs Linux)".into())
}

/// Clock ticks per second, from `getconf CLK_TCK`; 100 (Linux's value on every common
/// architecture) if that cannot be run. The flag says which.
fn clock_ticks() -> (f64, bool) {
    let asked = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0);
    match asked {
        Some(t) => (t, true),
        None => (100.0, false),
    }
}

/// (VmRSS, VmHWM) in bytes.
fn memory() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets VmHWM to the current RSS (proc(5), `clear_refs` value 5), so the peak covers the
/// measurement and not the setup before it. False where the kernel refuses.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

// ---- monitors ------------------------------------------------------------------------------

#[derive(Args, Clone)]
pub struct MonitorsArgs {
    /// HTTP monitors to create, all pointing at the local target server.
    #[arg(long, default_value_t = 1_000)]
    monitors: usize,
    /// Each monitor's interval (20 s is the shortest the product allows).
    #[arg(long, default_value_t = 20)]
    interval_secs: u64,
    /// Length of the measurement, after one interval of warm-up.
    #[arg(long, default_value_t = 120)]
    seconds: u64,
    /// sqlite://PATH or postgres://USER@HOST:PORT/DATABASE (must be empty); by default a
    /// SQLite file in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Municipalities the monitors are spread over.
    #[arg(long, default_value_t = 5)]
    municipalities: usize,
    /// The target server waits this long before answering, to stand in for slow services.
    #[arg(long, default_value_t = 0)]
    target_delay_ms: u64,
    /// Skip the engine restart at the end.
    #[arg(long)]
    no_restart: bool,
    /// Also send a heartbeat ping every 100 ms through the web server and report its
    /// latency: every ping needs the database writer, so this shows how long the engine's
    /// writes keep web requests waiting. Adds a little CPU of its own to the figures.
    #[arg(long)]
    probe_writes: bool,
}

/// Point-in-time figures at the edges of the measurement.
struct Snapshot {
    at: Instant,
    ticks: u64,
    target_ticks: Option<u64>,
    stats: EngineStats,
    db: DbFigures,
}

async fn snapshot(
    engine: &EngineHandle,
    target: &TargetProcess,
    peek: &Peek,
    db: &Database,
) -> Result<Snapshot, Failure> {
    // Database first: its queries are the slow part, and the CPU window should not include
    // them at one end only.
    let figures = peek.figures(db).await?;
    Ok(Snapshot {
        at: Instant::now(),
        ticks: own_cpu_ticks()?,
        target_ticks: target.cpu_ticks(),
        stats: engine.stats(),
        db: figures,
    })
}

pub async fn monitors(args: MonitorsArgs) -> Result<(), Failure> {
    init_logging();
    let interval = Duration::from_secs(args.interval_secs);
    if args.monitors == 0 {
        return Err("--monitors must be at least 1".into());
    }
    if interval < MIN_CHECK_INTERVAL.unsigned_abs() || interval > MAX_INTERVAL.unsigned_abs() {
        return Err(format!(
            "--interval-secs {} is outside what the product allows ({}-{} s)",
            args.interval_secs,
            MIN_CHECK_INTERVAL.as_secs(),
            MAX_INTERVAL.as_secs()
        )
        .into());
    }
    if args.seconds == 0 {
        return Err("--seconds must be at least 1".into());
    }
    let (tick_rate, tick_rate_asked) = clock_ticks();

    let target = TargetProcess::start(args.target_delay_ms).await?;
    let db = Database::new(args.database_url.clone(), "monitors.db")?;
    let store = db.open().await?;
    let backend = store.backend();
    let peek = Peek::open(&db, backend).await?;
    eprintln!(
        "drifta-bench: {}, {} HTTP monitors every {} s against {} (target pid {})",
        backend_name(backend),
        thousands(args.monitors as i64),
        args.interval_secs,
        target.addr,
        target.child.id().unwrap_or(0)
    );

    let (scope, municipalities) = tenants(&store, args.municipalities.max(1)).await?;
    let started = Instant::now();
    for i in 0..args.monitors {
        let probe =
            serde_json::json!({"kind": "http", "url": format!("http://{}/m/{i}", target.addr)});
        // The web form validates probes before the store sees them; so does the benchmark.
        let parsed: Probe = serde_json::from_value(probe.clone())?;
        parsed.validate()?;
        store
            .create_check_monitor(
                &scope,
                NewCheck {
                    tenant_id: municipalities[i % municipalities.len()].clone(),
                    name: format!("Benk web {}", i + 1),
                    kind: MonitorKind::Http,
                    probe,
                    interval_secs: i64::try_from(args.interval_secs)?,
                    timeout_secs: 5,
                    retries: 2,
                    degraded_above_ms: None,
                    location_id: None,
                },
            )
            .await
            .map_err(|e| format!("creating monitor {}: {e}", i + 1))?;
        if (i + 1) % 2_000 == 0 {
            eprintln!(
                "drifta-bench: created {} monitors in {}",
                thousands(i as i64 + 1),
                secs(started.elapsed())
            );
        }
    }
    let create_time = started.elapsed();
    eprintln!(
        "drifta-bench: created {} monitors in {}",
        thousands(args.monitors as i64),
        secs(create_time)
    );

    let server = Server::start(&store).await?;
    let web_ok = web_answers(server.addr).await;
    let prober = Prober::new()?;
    let writes = if args.probe_writes {
        let (secret, _) = store
            .create_heartbeat(
                &scope,
                &municipalities[0],
                "Benk skriveprobe",
                jiff::SignedDuration::from_secs(60),
                jiff::SignedDuration::from_secs(60),
            )
            .await?;
        Some(WriteProbe::start(format!(
            "http://{}/ping/{secret}",
            server.addr
        ))?)
    } else {
        None
    };
    let before_engine = peek.figures(&db).await?;
    let engine_started = Instant::now();
    if let Some(w) = &writes {
        w.mark(engine_started);
    }
    let engine = engine::spawn(store.clone(), prober.clone(), EngineConfig::new("bench"));
    eprintln!("drifta-bench: engine started; warming up for one interval");
    tokio::time::sleep(interval).await;

    let peak_reset = reset_peak_rss();
    let start = snapshot(&engine, &target, &peek, &db).await?;
    let mut rss_max = memory().0;
    let end_at = start.at + Duration::from_secs(args.seconds);
    let mut last = (start.at, start.ticks, start.stats.checks_done);
    while Instant::now() < end_at {
        let next = (Instant::now() + Duration::from_secs(1)).min(end_at);
        tokio::time::sleep_until(next.into()).await;
        rss_max = rss_max.max(memory().0);
        // A line every 10 s shows a trend (lag growing, rate falling) that totals hide.
        if last.0.elapsed() >= Duration::from_secs(10) || Instant::now() >= end_at {
            let now = Instant::now();
            let stats = engine.stats();
            let ticks = own_cpu_ticks()?;
            let span = now.duration_since(last.0).as_secs_f64();
            eprintln!(
                "drifta-bench: t={:>4.0} s  {:>6.1} checks/s  cpu {:>5.1} %  rss {}  lag p99 {} ms (max {} ms)  in flight {}",
                now.duration_since(engine_started).as_secs_f64(),
                (stats.checks_done - last.2) as f64 / span,
                (ticks - last.1) as f64 / tick_rate / span * 100.0,
                mib(memory().0),
                stats.lag_p99_ms,
                stats.lag_max_ms,
                stats.checks_started.saturating_sub(stats.checks_done),
            );
            last = (now, ticks, stats.checks_done);
        }
    }
    let end = snapshot(&engine, &target, &peek, &db).await?;
    let (rss_end, hwm) = memory();

    let restart = if args.no_restart {
        // Its last history write belongs to the run, and the store closes below.
        engine.shutdown().await;
        None
    } else {
        eprintln!("drifta-bench: restarting the engine");
        let t = Instant::now();
        engine.shutdown().await;
        let shutdown_time = t.elapsed();
        let engine = engine::spawn(store.clone(), prober, EngineConfig::new("bench"));
        let restarted = Instant::now();
        let deadline = restarted + interval * 3 + Duration::from_secs(30);
        let mut stats = engine.stats();
        while stats.all_checked_after.is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            stats = engine.stats();
        }
        engine.shutdown().await;
        Some((shutdown_time, stats, deadline.duration_since(restarted)))
    };
    let after_all = peek.figures(&db).await?;
    let writes = match writes {
        Some(w) => Some(w.stop(start.at, end_at).await),
        None => None,
    };

    server.stop().await;
    peek.close().await;
    store.close().await;
    drop(target);

    let span = end.at.duration_since(start.at);
    let checks = end.stats.checks_done - start.stats.checks_done;
    let report = MonitorsReport {
        args: &args,
        backend,
        url: redact_url(&db.url),
        create_time,
        web_ok,
        span,
        cpu_pct: (end.ticks - start.ticks) as f64 / tick_rate / span.as_secs_f64() * 100.0,
        target_cpu_pct: match (start.target_ticks, end.target_ticks) {
            (Some(a), Some(b)) => {
                Some(b.saturating_sub(a) as f64 / tick_rate / span.as_secs_f64() * 100.0)
            }
            _ => None,
        },
        tick_rate,
        tick_rate_asked,
        checks_per_s: checks as f64 / span.as_secs_f64(),
        rss_end,
        rss_max,
        hwm,
        peak_reset,
        stats: end.stats,
        before_engine,
        start_db: start.db,
        end_db: end.db,
        after_all,
        restart,
        writes,
    };
    print_monitors(&report);
    Ok(())
}

/// Whether the in-process web server answers (an unknown heartbeat is a cheap request that
/// goes through routing and the store).
async fn web_answers(addr: SocketAddr) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .get(format!("http://{addr}/ping/none"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match response.status().as_u16() {
        404 => Ok(()),
        other => Err(format!("GET /ping/none answered {other}, expected 404")),
    }
}

struct MonitorsReport<'a> {
    args: &'a MonitorsArgs,
    backend: Backend,
    url: String,
    create_time: Duration,
    web_ok: Result<(), String>,
    span: Duration,
    cpu_pct: f64,
    target_cpu_pct: Option<f64>,
    tick_rate: f64,
    tick_rate_asked: bool,
    checks_per_s: f64,
    rss_end: u64,
    rss_max: u64,
    hwm: u64,
    peak_reset: bool,
    stats: EngineStats,
    before_engine: DbFigures,
    start_db: DbFigures,
    end_db: DbFigures,
    after_all: DbFigures,
    restart: Option<(Duration, EngineStats, Duration)>,
    writes: Option<WriteFigures>,
}

pub(crate) fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

fn print_monitors(r: &MonitorsReport<'_>) {
    let n = r.args.monitors;
    let interval = r.args.interval_secs;
    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(0);
    let row = |label: &str, value: String, target: &str| {
        println!("  {label:<38} {value:>26}   {target}");
    };
    println!(
        "drifta monitoring benchmark: {} ({}), {cores} cores; {} HTTP monitors every {interval} s, measured {:.0} s after {interval} s warm-up",
        backend_name(r.backend),
        r.url,
        thousands(n as i64),
        r.span.as_secs_f64(),
    );
    println!(
        "  process: check engine + web server + search indexer + heartbeat sweep + alert sender; the target server is a separate process"
    );
    let (cpu_target, rss_target) = if n <= 1_000 {
        ("< 3 % (1,000 / 20 s)", "< 60 MB (1,000 / 20 s)")
    } else if n >= 10_000 {
        ("< 25 % (10,000 / 20 s)", "< 150 MB (10,000 / 20 s)")
    } else {
        (
            "< 3 % at 1,000, < 25 % at 10,000",
            "< 60 MB at 1,000, < 150 MB at 10,000",
        )
    };
    let per_s = n as f64 / r.create_time.as_secs_f64().max(1e-9);
    row(
        "monitors created (one by one)",
        format!("{} in {}", thousands(n as i64), secs(r.create_time)),
        &format!("{per_s:.0}/s"),
    );
    row(
        "checks per second",
        format!("{:.1}", r.checks_per_s),
        &format!(
            "expected {:.1} (monitors / interval)",
            n as f64 / interval as f64
        ),
    );
    row(
        "CPU, % of one core (whole process)",
        format!("{:.2} %", r.cpu_pct),
        cpu_target,
    );
    row("RSS at end", mib(r.rss_end), rss_target);
    row(
        if r.peak_reset {
            "RSS peak during measurement (VmHWM)"
        } else {
            "RSS peak since process start (VmHWM)"
        },
        mib(r.hwm),
        rss_target,
    );
    row("RSS max, sampled each second", mib(r.rss_max), "");
    let s = &r.stats;
    row(
        "schedule lag p50 / p99 / max",
        format!("{} / {} / {} ms", s.lag_p50_ms, s.lag_p99_ms, s.lag_max_ms),
        "p99 < 1 s (last 20,000 checks)",
    );
    row(
        "state changes (engine counter / rows)",
        format!(
            "{} / {}",
            s.state_changes_written,
            r.end_db.events - r.before_engine.events
        ),
        "0 (every target answers 200)",
    );
    row("engine write errors", s.write_errors.to_string(), "0");
    let all = |after: Option<Duration>| after.map_or("never".to_string(), secs);
    row(
        "all monitors checked after start",
        all(s.all_checked_after),
        &format!("<= {interval} s (one interval)"),
    );
    match &r.restart {
        Some((shutdown, stats, waited)) => {
            row("engine shutdown took", secs(*shutdown), "");
            row(
                "all monitors checked after restart",
                stats
                    .all_checked_after
                    .map_or(format!("not within {}", secs(*waited)), secs),
                &format!("<= {interval} s (one interval)"),
            );
        }
        None => row("restart", "skipped".into(), ""),
    }
    // Growth: the engine writes one row per monitor and hour (inserted at the first history
    // write of the hour, replaced in place afterwards), so a two-minute window holds at most
    // one hour's inserts; extrapolating the window's growth would count them every two
    // minutes. The projection uses the measured bytes per new row instead.
    let grown = r.after_all.bytes - r.before_engine.bytes;
    let rows = r.after_all.hour_rows - r.before_engine.hour_rows;
    let window = r.end_db.bytes - r.start_db.bytes;
    row("database at engine start", size(r.before_engine.bytes), "");
    row(
        "growth in the measured window",
        format!(
            "{} ({} hour rows)",
            kib(window),
            thousands(r.end_db.hour_rows - r.start_db.hour_rows)
        ),
        &format!(
            "naive x{:.0} = {:.0} MB/day",
            86_400.0 / r.span.as_secs_f64(),
            window as f64 * 86_400.0 / r.span.as_secs_f64() / 1e6
        ),
    );
    if rows > 0 {
        let per_row = grown as f64 / rows as f64;
        let per_day = per_row * 24.0 * n as f64;
        row(
            "growth per hour row (whole run)",
            format!("{per_row:.0} B ({} rows)", thousands(rows)),
            "",
        );
        row(
            "projected growth (24 rows/monitor/day)",
            format!("{:.1} MB/day", per_day / 1e6),
            "< 30 MB/day at 1,000 / 20 s",
        );
    } else {
        row(
            "projected growth",
            "no history written yet".into(),
            "(run longer than 60 s)",
        );
    }
    if let (Some(a), Some(b)) = (r.start_db.file_bytes, r.end_db.file_bytes) {
        row(
            "files (main + -wal), start -> end",
            format!("{} -> {}", mib(a), mib(b)),
            "",
        );
    }
    if let Some(t) = r.target_cpu_pct {
        row(
            "target server CPU (not counted above)",
            format!("{t:.2} %"),
            "",
        );
    }
    if let Some(w) = &r.writes {
        let slowest: Vec<String> = w
            .slowest
            .iter()
            .map(|(at, ms)| format!("{ms:.0} ms at t={at:.1} s"))
            .collect();
        row(
            "ping every 100 ms: p50 / p99 / max",
            format!("{:.1} / {:.1} / {:.1} ms", w.p50, w.p99, w.max),
            &format!("{} pings in the window, {} failed", w.n, w.failed),
        );
        row(
            "slowest pings (t since engine start)",
            String::new(),
            &slowest.join(", "),
        );
    }
    row(
        "web server answering",
        match &r.web_ok {
            Ok(()) => "yes".into(),
            Err(e) => format!("NO: {e}"),
        },
        "",
    );
    println!(
        "  CPU from utime+stime in /proc/self/stat at {} ticks/s ({}); RSS from VmRSS/VmHWM in /proc/self/status{}",
        r.tick_rate,
        if r.tick_rate_asked {
            "getconf CLK_TCK"
        } else {
            "assumed: getconf CLK_TCK failed"
        },
        if r.peak_reset {
            ", peak reset at the start of the measurement"
        } else {
            "; the peak could not be reset, so it includes the setup"
        }
    );
}

/// One heartbeat ping every 100 ms, timed: a probe of how long web writes wait for the
/// database writer while the engine writes.
struct WriteProbe {
    task: JoinHandle<Vec<(Instant, f64, bool)>>,
    stop: tokio::sync::watch::Sender<bool>,
    origin: Arc<std::sync::OnceLock<Instant>>,
}

struct WriteFigures {
    n: usize,
    failed: usize,
    p50: f64,
    p99: f64,
    max: f64,
    /// The three slowest (seconds since engine start, milliseconds).
    slowest: Vec<(f64, f64)>,
}

impl WriteProbe {
    fn start(url: String) -> Result<WriteProbe, Failure> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()?;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            // Skipped ticks, not a burst after a slow ping: the probe must not add load
            // exactly when the writer is busy.
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = tick.tick() => {}
                }
                let t = Instant::now();
                let ok = match client.post(&url).body("probe").send().await {
                    Ok(r) => {
                        let status = r.status();
                        r.bytes().await.is_ok() && status == reqwest::StatusCode::OK
                    }
                    Err(_) => false,
                };
                seen.push((t, ms(t.elapsed()), ok));
            }
            seen
        });
        Ok(WriteProbe {
            task,
            stop,
            origin: Arc::new(std::sync::OnceLock::new()),
        })
    }

    fn mark(&self, engine_started: Instant) {
        let _ = self.origin.set(engine_started);
    }

    /// Figures for pings sent within `from..to`.
    async fn stop(self, from: Instant, to: Instant) -> WriteFigures {
        let _ = self.stop.send(true);
        let seen = self.task.await.unwrap_or_default();
        let origin = self.origin.get().copied().unwrap_or(from);
        let window: Vec<_> = seen
            .into_iter()
            .filter(|(t, _, _)| *t >= from && *t < to)
            .collect();
        let failed = window.iter().filter(|(_, _, ok)| !ok).count();
        let mut by_time: Vec<(f64, f64)> = window
            .iter()
            .map(|(t, ms, _)| (t.duration_since(origin).as_secs_f64(), *ms))
            .collect();
        by_time.sort_by(|a, b| b.1.total_cmp(&a.1));
        let sample = Sample::new("", "", window.iter().map(|(_, ms, _)| *ms).collect());
        WriteFigures {
            n: window.len(),
            failed,
            p50: sample.pct(50.0),
            p99: sample.pct(99.0),
            max: sample.pct(100.0),
            slowest: by_time.into_iter().take(3).collect(),
        }
    }
}

fn kib(bytes: i64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

// ---- heartbeats ----------------------------------------------------------------------------

#[derive(Args, Clone)]
pub struct HeartbeatsArgs {
    /// Heartbeat monitors to create; pings go to them in turn.
    #[arg(long, default_value_t = 100)]
    monitors: usize,
    /// How long to send pings (after one second of warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Clients sending at once, each over its own keep-alive connection.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// sqlite://PATH or postgres://USER@HOST:PORT/DATABASE (must be empty); by default a
    /// SQLite file in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
}

/// What the clients saw.
#[derive(Default)]
struct Pings {
    millis: Vec<f64>,
    refused: usize,
    first_error: Option<String>,
}

pub async fn heartbeats(args: HeartbeatsArgs) -> Result<(), Failure> {
    init_logging();
    if args.monitors == 0 || args.concurrency == 0 || args.seconds == 0 {
        return Err("--monitors, --concurrency and --seconds must be at least 1".into());
    }
    let (tick_rate, _) = clock_ticks();
    let db = Database::new(args.database_url.clone(), "heartbeats.db")?;
    let store = db.open().await?;
    let backend = store.backend();
    let (scope, municipalities) = tenants(&store, 1).await?;
    let mut urls = Vec::with_capacity(args.monitors);
    let server = Server::start(&store).await?;
    for i in 0..args.monitors {
        let (secret, _) = store
            .create_heartbeat(
                &scope,
                &municipalities[0],
                &format!("Benk jobb {}", i + 1),
                jiff::SignedDuration::from_secs(60),
                jiff::SignedDuration::from_secs(60),
            )
            .await
            .map_err(|e| format!("creating heartbeat {}: {e}", i + 1))?;
        urls.push(format!("http://{}/ping/{secret}", server.addr));
    }
    let urls: Arc<[String]> = urls.into();
    // One pool of keep-alive connections, as a fleet of cron jobs behind a proxy would reuse.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()?;
    eprintln!(
        "drifta-bench: {}, {} heartbeats, {} clients; warming up for 1 s",
        backend_name(backend),
        args.monitors,
        args.concurrency
    );
    hammer(&client, &urls, args.concurrency, Duration::from_secs(1)).await;
    let ticks = own_cpu_ticks()?;
    let started = Instant::now();
    let pings = hammer(
        &client,
        &urls,
        args.concurrency,
        Duration::from_secs(args.seconds),
    )
    .await;
    let span = started.elapsed();
    let cpu = (own_cpu_ticks()? - ticks) as f64 / tick_rate / span.as_secs_f64() * 100.0;
    server.stop().await;
    store.close().await;

    let ok = pings.millis.len();
    let sample = Sample::new("POST /ping/<secret>", "> 5,000 pings/s", pings.millis);
    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(0);
    println!(
        "drifta heartbeat benchmark: {} ({}), {cores} cores; {} heartbeats, {} keep-alive clients, {:.0} s",
        backend_name(backend),
        redact_url(&db.url),
        args.monitors,
        args.concurrency,
        span.as_secs_f64()
    );
    println!(
        "  the clients run in the same process and share its {cores} cores with the server, so the server alone would do better"
    );
    let row = |label: &str, value: String, target: &str| {
        println!("  {label:<38} {value:>26}   {target}");
    };
    row(
        "pings answered 200 per second",
        format!("{:.0}", ok as f64 / span.as_secs_f64()),
        sample.target,
    );
    row(
        "latency p50 / p99 / max",
        format!(
            "{:.2} / {:.2} / {:.2} ms",
            sample.pct(50.0),
            sample.pct(99.0),
            sample.pct(100.0)
        ),
        "",
    );
    row(
        "answers other than 200",
        pings.refused.to_string(),
        pings.first_error.as_deref().unwrap_or("0"),
    );
    row(
        "CPU, % of one core (server + clients)",
        format!("{cpu:.0} %"),
        &format!("{cores} cores = {} %", cores * 100),
    );
    Ok(())
}

/// `concurrency` clients sending pings one after another for `duration`.
async fn hammer(
    client: &reqwest::Client,
    urls: &Arc<[String]>,
    concurrency: usize,
    duration: Duration,
) -> Pings {
    let end = Instant::now() + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let (client, urls) = (client.clone(), urls.clone());
        tasks.push(tokio::spawn(async move {
            let mut seen = Pings::default();
            let mut i = worker;
            while Instant::now() < end {
                let url = &urls[i % urls.len()];
                i += concurrency;
                let t = Instant::now();
                match client.post(url).body("bench").send().await {
                    Ok(response) => {
                        let status = response.status();
                        // Reading the body hands the connection back to the pool.
                        let body = response.bytes().await;
                        if status == reqwest::StatusCode::OK && body.is_ok() {
                            seen.millis.push(ms(t.elapsed()));
                        } else {
                            seen.refused += 1;
                            seen.first_error.get_or_insert_with(|| {
                                format!(
                                    "HTTP {status}: {}",
                                    body.map(|b| String::from_utf8_lossy(&b).trim().to_string())
                                        .unwrap_or_else(|e| e.to_string())
                                )
                            });
                        }
                    }
                    Err(e) => {
                        seen.refused += 1;
                        seen.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            seen
        }));
    }
    let mut all = Pings::default();
    for task in tasks {
        match task.await {
            Ok(seen) => {
                all.millis.extend(seen.millis);
                all.refused += seen.refused;
                if all.first_error.is_none() {
                    all.first_error = seen.first_error;
                }
            }
            Err(e) => {
                all.refused += 1;
                all.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    all
}

/// Engine and store warnings on stderr: a benchmark that hides them would report figures
/// for a run that went wrong.
pub(crate) fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
