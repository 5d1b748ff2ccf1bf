//! `drifta-bench wall`: the operations wall (`GET /wall`) with thousands of monitors,
//! timed end to end over loopback HTTP as a technician's browser would fetch it.
//!
//! Creates monitors through the store (active checks and heartbeats, spread over several
//! municipalities) and gives some of them the states a wall shows on a normal day (down,
//! degraded, maintenance, paused), signs in through the login form as a technician granted
//! on every municipality, and fetches the wall again and again, reading the whole page.
//! The store's `list_monitors` alone is timed too, so the page's own cost can be told from
//! the query's. Runs on SQLite and, when `DRIFTA_TEST_PG` names a PostgreSQL admin URL, on
//! a fresh database made there (and dropped afterwards); `--database-url` measures that
//! one database instead.

use crate::monitors::{Database, Server, backend_name, init_logging, tenants};
use crate::{Failure, Sample, ms, thousands};
use clap::Args;
use drifta_core::monitor::{MonitorKind, MonitorState};
use drifta_core::password::PasswordHasher;
use drifta_core::{Role, Scope, TenantId};
use drifta_store::{NewCheck, NewUser, StateChange, Store, redact_url};
use std::time::{Duration, Instant};

#[derive(Args, Clone)]
pub struct WallArgs {
    /// Monitors to create, spread evenly over the municipalities.
    #[arg(long, default_value_t = 5_000)]
    monitors: usize,
    /// Municipalities the technician serves.
    #[arg(long, default_value_t = 5)]
    municipalities: usize,
    /// Timed requests for the page (after three untimed ones).
    #[arg(long, default_value_t = 50)]
    requests: usize,
    /// sqlite://PATH or postgres://USER@HOST:PORT/DATABASE (must be empty): measure this
    /// database only. By default a SQLite file in a temporary directory, then PostgreSQL
    /// when DRIFTA_TEST_PG is set.
    #[arg(long)]
    database_url: Option<String>,
}

const PASSWORD: &str = "Benk-vegg-passord-2026";
const USERNAME: &str = "veggtekniker";

pub async fn run(args: WallArgs) -> Result<(), Failure> {
    init_logging();
    if args.monitors == 0 || args.municipalities == 0 || args.requests == 0 {
        return Err("--monitors, --municipalities and --requests must be at least 1".into());
    }
    if let Some(url) = &args.database_url {
        return measure(&args, Database::new(Some(url.clone()), "wall.db")?).await;
    }
    measure(&args, Database::new(None, "wall.db")?).await?;
    if let Ok(admin) = std::env::var("DRIFTA_TEST_PG") {
        println!();
        let fresh = FreshPg::create(&admin).await?;
        let result = measure(&args, Database::new(Some(fresh.url.clone()), "wall.db")?).await;
        fresh.drop_database().await;
        result?;
    }
    Ok(())
}

/// A database made for one run in the PostgreSQL that `DRIFTA_TEST_PG` points at.
struct FreshPg {
    admin: sqlx::PgPool,
    name: String,
    url: String,
}

impl FreshPg {
    async fn create(admin_url: &str) -> Result<FreshPg, Failure> {
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(admin_url)
            .await
            .map_err(|e| format!("DRIFTA_TEST_PG ({}): {e}", redact_url(admin_url)))?;
        let name = format!("drifta_bench_wall_{}", std::process::id());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .map_err(|e| format!("creating database {name}: {e}"))?;
        let (base, _) = admin_url
            .rsplit_once('/')
            .ok_or("DRIFTA_TEST_PG has no database path")?;
        let url = format!("{base}/{name}");
        Ok(FreshPg { admin, name, url })
    }

    async fn drop_database(self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&self.admin)
            .await
        {
            eprintln!("drifta-bench: could not drop {}: {e}", self.name);
        }
        self.admin.close().await;
    }
}

/// How many of every hundred monitors are in each state other than up: a bad day on a
/// wall, not a catastrophe.
const DOWN: usize = 2;
const DEGRADED: usize = 3;
const MAINTENANCE: usize = 2;
const PAUSED: usize = 4;

const SERVICES: &[&str] = &[
    "Intranett",
    "Sak/arkiv",
    "Økonomisystem",
    "Skoleportal",
    "Helseplattform",
    "Lønn og personal",
    "Byggesak",
    "Kartinnsyn",
    "Bibliotek",
    "Trygghetsalarm mottak",
    "Rådhus brannmur",
    "Barnehage Wi-Fi",
];

async fn measure(args: &WallArgs, db: Database) -> Result<(), Failure> {
    let store = db.open().await?;
    let backend = backend_name(store.backend());
    eprintln!(
        "drifta-bench: {backend}, {} monitors in {} municipalities",
        thousands(args.monitors as i64),
        args.municipalities
    );
    let started = Instant::now();
    let (scope, municipalities) = tenants(&store, args.municipalities).await?;
    let states = create_monitors(&store, &scope, &municipalities, args.monitors).await?;
    let setup = started.elapsed();
    eprintln!(
        "drifta-bench: set up in {:.1} s (down {}, degraded {}, maintenance {}, paused {})",
        setup.as_secs_f64(),
        states[0],
        states[1],
        states[2],
        states[3]
    );
    let hasher = PasswordHasher::fast_insecure_for_tests();
    let technician = store
        .create_user(
            &scope,
            NewUser {
                tenant_id: municipalities[0].clone(),
                username: USERNAME.into(),
                email: "veggtekniker@benk.example".into(),
                display_name: "Vegg Tekniker".into(),
                phone: String::new(),
                language: None,
                password_hash: Some(hasher.hash(PASSWORD)?),
            },
        )
        .await?;
    let grants: Vec<(TenantId, Role)> = municipalities
        .iter()
        .map(|m| (m.clone(), Role::Technician))
        .collect();
    store.set_grants(&scope, &technician.id, &grants).await?;
    store.analyze().await?;

    let server = Server::start(&store).await?;
    let base = format!("http://{}", server.addr);
    let client = sign_in(&base).await?;
    let url = format!("{base}/wall");
    let mut bytes = 0;
    let mut tiles = 0;
    for _ in 0..3 {
        let page = fetch(&client, &url).await?;
        bytes = page.len();
        tiles = page.matches("class=\"wall-tile ").count();
    }
    if tiles != args.monitors {
        eprintln!(
            "drifta-bench: the wall shows {tiles} tiles, not {} (is the technician's scope right?)",
            args.monitors
        );
    }
    let mut times = Vec::with_capacity(args.requests);
    for _ in 0..args.requests {
        let t = Instant::now();
        let page = fetch(&client, &url).await?;
        times.push(ms(t.elapsed()));
        bytes = page.len();
    }
    let page = Sample::new("GET /wall", "< 300 ms", times);
    // The query alone, with the technician's scope, as the handler calls it.
    let (user, _) = store
        .find_login(USERNAME)
        .await?
        .ok_or("the technician cannot be found")?;
    let tech = store.scope_for(&user, "127.0.0.1").await?;
    let mut times = Vec::with_capacity(args.requests);
    for _ in 0..args.requests {
        let t = Instant::now();
        let n = store.list_monitors(&tech).await?.len();
        times.push(ms(t.elapsed()));
        if n != args.monitors {
            return Err(format!("list_monitors returned {n} of {} monitors", args.monitors).into());
        }
    }
    let query = Sample::new("Store::list_monitors", "", times);
    server.stop().await;
    store.close().await;

    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(0);
    println!(
        "drifta operations wall benchmark: {backend} ({}), {cores} cores; {} monitors in {} municipalities, {} requests one after another",
        redact_url(&db.url),
        thousands(args.monitors as i64),
        args.municipalities,
        args.requests
    );
    println!(
        "  page: {} bytes ({:.0} KiB), {} tiles; states: {} down, {} degraded, {} maintenance, {} paused",
        thousands(bytes as i64),
        bytes as f64 / 1024.0,
        thousands(tiles as i64),
        states[0],
        states[1],
        states[2],
        states[3]
    );
    println!(
        "  {:<34} {:>6} {:>10} {:>10} {:>10}   target",
        "", "n", "p50", "p95", "max"
    );
    for s in [&page, &query] {
        let f = |p: f64| format!("{:.1} ms", s.pct(p));
        println!(
            "  {:<34} {:>6} {:>10} {:>10} {:>10}   {}",
            s.label,
            s.millis.len(),
            f(50.0),
            f(95.0),
            f(100.0),
            s.target
        );
    }
    Ok(())
}

/// Creates the monitors (one in five a heartbeat) and gives some active checks a problem
/// state and some monitors of either kind a pause. Heartbeats stay up otherwise: the sweep
/// that runs beside the server would judge them up again. Returns how many are down,
/// degraded, in maintenance and paused.
async fn create_monitors(
    store: &Store,
    scope: &Scope,
    municipalities: &[TenantId],
    count: usize,
) -> Result<[usize; 4], Failure> {
    let started = Instant::now();
    let mut changes = Vec::new();
    let mut paused = Vec::new();
    let now = store.now_ms();
    for i in 0..count {
        let tenant = &municipalities[i % municipalities.len()];
        let service = SERVICES[(i / municipalities.len()) % SERVICES.len()];
        let n = i / (municipalities.len() * SERVICES.len()) + 1;
        let heartbeat = i % 5 == 4;
        let monitor = if heartbeat {
            store
                .create_heartbeat(
                    scope,
                    tenant,
                    &format!("{service}: nattlig jobb {n}"),
                    jiff::SignedDuration::from_hours(24),
                    jiff::SignedDuration::from_hours(1),
                )
                .await
                .map(|(_, m)| m)
        } else {
            store
                .create_check_monitor(
                    scope,
                    NewCheck {
                        tenant_id: tenant.clone(),
                        name: format!("{service} {n}"),
                        kind: MonitorKind::Http,
                        probe: serde_json::json!({
                            "kind": "http",
                            "url": format!("https://tjeneste{n}.kommune{}.example/", i % municipalities.len()),
                        }),
                        interval_secs: 60,
                        timeout_secs: 10,
                        retries: 2,
                        degraded_above_ms: Some(2_000),
                        location_id: None,
                    },
                )
                .await
        }
        .map_err(|e| format!("creating monitor {}: {e}", i + 1))?;
        if (i + 1) % 1_000 == 0 {
            eprintln!(
                "drifta-bench: created {} monitors in {:.1} s",
                thousands(i as i64 + 1),
                started.elapsed().as_secs_f64()
            );
        }
        // Spread over the hundred so that every municipality gets some of each.
        let slot = (i * 37) % 100;
        let (to, reason) = if slot < DOWN {
            (
                MonitorState::Down,
                "connection refused (3 of 3 attempts)".to_string(),
            )
        } else if slot < DOWN + DEGRADED {
            (
                MonitorState::Degraded,
                format!("response took {} ms, over 2000 ms", 2_100 + i % 900),
            )
        } else if slot < DOWN + DEGRADED + MAINTENANCE {
            (MonitorState::Maintenance, "planned maintenance".to_string())
        } else if slot < DOWN + DEGRADED + MAINTENANCE + PAUSED {
            paused.push(monitor.id);
            continue;
        } else {
            continue;
        };
        if heartbeat {
            continue;
        }
        changes.push(StateChange {
            monitor_id: monitor.id,
            at: now - (i as i64 % 7_200) * 1_000,
            from: MonitorState::Up,
            to,
            reason,
            announced: false,
        });
    }
    let mut states = [0; 4];
    for c in &changes {
        states[match c.to {
            MonitorState::Down => 0,
            MonitorState::Degraded => 1,
            _ => 2,
        }] += 1;
    }
    for chunk in changes.chunks(200) {
        store.record_state_changes(chunk).await?;
    }
    for id in &paused {
        store.set_monitor_paused(scope, id, true).await?;
    }
    states[3] = paused.len();
    Ok(states)
}

/// Signs in through the login form (double-submit CSRF cookie), as a browser does.
async fn sign_in(base: &str) -> Result<reqwest::Client, Failure> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("the login page has no CSRF field")?
        .to_string();
    let answer = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", USERNAME),
            ("password", PASSWORD),
            ("next", "/wall"),
        ])
        .send()
        .await?;
    if answer.status() != reqwest::StatusCode::SEE_OTHER {
        return Err(format!("signing in answered {}, expected 303", answer.status()).into());
    }
    Ok(client)
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<String, Failure> {
    let response = client.get(url).send().await?;
    let status = response.status();
    let body = response.text().await?;
    if status != reqwest::StatusCode::OK {
        return Err(format!("GET {url} answered {status}").into());
    }
    Ok(body)
}
