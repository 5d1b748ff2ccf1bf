//! The `drifta` binary: serve, demo, migrate, user, tenant, check-config, audit.

mod config;

use clap::{Parser, Subcommand};
use config::Config;
use drifta_core::password::{self, PasswordHasher};
use drifta_core::{Actor, Country, Role};
use drifta_store::{ConnectOptions, NewTenant, NewUser, Store, StoreError};
use drifta_web::{AppState, WebConfig};
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Drifta: IT operations for municipalities and their providers.
#[derive(Parser, Debug)]
#[command(name = "drifta", version, about, long_about = None)]
struct Cli {
    /// Configuration file (default: drifta.toml in the working directory, if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web server and background work (migrates the database first).
    Serve {
        /// Address to listen on, overriding `listen` (e.g. 0.0.0.0:8080).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Run with demo data: a fictional provider and five municipalities (creates drifta-demo.db).
    Demo {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Create providers and municipalities.
    Tenant {
        #[command(subcommand)]
        action: TenantCommand,
    },
    /// Check the configuration and the database connection, then print the settings.
    CheckConfig,
    /// Import inventory items of one type into one municipality from a CSV file. Starts
    /// with a dry run unless told otherwise; rows matching an item by serial number, host
    /// name or asset tag update it.
    Import {
        /// Short name (slug) of the municipality, e.g. fjordvik.
        #[arg(long)]
        tenant: String,
        /// Item type, e.g. laptop, network_link, application.
        #[arg(long = "type")]
        item_type: String,
        /// dry-run (check only), all-or-nothing, or valid-only.
        #[arg(long, default_value = "dry-run")]
        mode: String,
        /// The CSV file (UTF-8 or Windows-1252, ';' or ',' separated, a header row).
        file: PathBuf,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user with a role in one provider or municipality.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Full name as shown to others.
        #[arg(long)]
        name: String,
        /// Short name (slug) of the provider or municipality the user belongs to.
        #[arg(long)]
        tenant: String,
        /// provider_admin, technician, coordinator, requester or auditor.
        #[arg(long)]
        role: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (ends their sessions).
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user: ends their sessions; tokens stop working.
    Disable { username: String },
}

#[derive(Subcommand, Debug)]
enum TenantCommand {
    /// Create a provider (no --parent) or a municipality under a provider.
    Add {
        #[arg(long)]
        name: String,
        /// Short name used in URLs and commands, e.g. fjordvik.
        #[arg(long)]
        slug: String,
        /// NO or DK.
        #[arg(long)]
        country: String,
        /// Slug of the provider, for a municipality.
        #[arg(long)]
        parent: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check the hash chain; exits 1 and names the first broken entry if a row was changed.
    Verify,
}

/// One line for the person at the terminal; the exit code says the rest.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
    #[error(
        "cannot listen on {addr}: {reason}. Choose another address with --listen or DRIFTA_LISTEN."
    )]
    Listen { addr: SocketAddr, reason: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = |k: &str| std::env::var(k).ok();
    let config = match Config::load(cli.config.as_deref(), &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_max_level(config.log)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn open(config: &Config) -> Result<Store, CliError> {
    Ok(Store::connect(
        &config.database_url,
        &ConnectOptions {
            max_connections: config.max_connections,
            ..ConnectOptions::default()
        },
    )
    .await?)
}

/// Opens the database and brings the schema up to date (refusing a newer one).
async fn open_migrated(config: &Config) -> Result<Store, CliError> {
    let store = open(config).await?;
    store.migrate().await?;
    Ok(store)
}

async fn run(command: Command, mut config: Config) -> Result<ExitCode, CliError> {
    match command {
        Command::Serve { listen } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            let store = open_migrated(&config).await?;
            serve(store, &config, None).await?;
        }
        Command::Demo { listen } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            if config.database_url_is_default {
                config.database_url = "sqlite://drifta-demo.db".to_string();
            }
            let store = open_migrated(&config).await?;
            let hasher = PasswordHasher::production();
            if store.is_empty().await? {
                tracing::info!("seeding demo data");
                store.seed_demo(&hasher).await?;
                let inventory = store.seed_demo_inventory().await?;
                tracing::info!("demo inventory: {inventory}");
            }
            let mut banner = format!(
                "\nDrifta demo: open http://{}/ and sign in with one of these (password: {}):\n",
                config.listen,
                drifta_store::demo::DEMO_PASSWORD
            );
            for login in drifta_store::demo::demo_logins() {
                banner.push_str(&format!("  {:<22} {}\n", login.username, login.description));
            }
            serve(store, &config, Some(banner)).await?;
        }
        Command::Import {
            tenant,
            item_type,
            mode,
            file,
        } => {
            return import(&config, &tenant, &item_type, &mode, &file).await;
        }
        Command::Migrate => {
            let store = open(&config).await?;
            let applied = store.migrate().await?;
            let status = store.schema_status().await?;
            if applied.is_empty() {
                println!(
                    "database is up to date (schema version {})",
                    status.database
                );
            } else {
                println!(
                    "applied migrations {applied:?}; schema version {}",
                    status.database
                );
            }
        }
        Command::CheckConfig => {
            let store = open(&config).await?;
            let status = store.schema_status().await?;
            println!(
                "configuration file: {}",
                config
                    .file
                    .as_ref()
                    .map_or("(none)".to_string(), |p| p.display().to_string())
            );
            println!(
                "database_url: {}",
                drifta_store::redact_url(&config.database_url)
            );
            println!(
                "database: reachable, schema version {} (this drifta: {})",
                status.database, status.binary
            );
            println!("listen: {}", config.listen);
            println!("secure_cookies: {:?}", config.web.cookie_security);
            println!("trust_proxy: {}", config.web.trust_proxy);
            println!(
                "session_idle_minutes: {}",
                config.web.session_idle.as_secs() / 60
            );
            println!("max_connections: {}", config.max_connections);
            println!("log: {}", config.log);
            if status.database > status.binary {
                return Err(StoreError::SchemaTooNew {
                    database: status.database,
                    binary: status.binary,
                }
                .into());
            }
        }
        Command::Audit {
            action: AuditCommand::Verify,
        } => {
            let store = open(&config).await?;
            store.require_current_schema().await?;
            match store.verify_audit_chain().await? {
                Ok(n) => println!("audit log intact: {n} entries verified"),
                Err(broken) => {
                    eprintln!("audit log BROKEN: {broken}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Command::Tenant {
            action:
                TenantCommand::Add {
                    name,
                    slug,
                    country,
                    parent,
                },
        } => {
            let store = open_migrated(&config).await?;
            let country = Country::parse(&country)
                .ok_or_else(|| CliError::Usage(format!("--country '{country}' is not NO or DK")))?;
            let actor = Actor::system("drifta tenant add");
            let new = NewTenant {
                name,
                slug,
                country,
                time_zone: None,
                language: None,
            };
            let tenant = match parent {
                None => store.create_provider(&actor, new).await?,
                Some(p) => {
                    let scope = store.installation_scope(actor).await?;
                    let provider =
                        store
                            .find_tenant_by_slug(&scope, &p)
                            .await
                            .map_err(|e| match e {
                                StoreError::NotFound => {
                                    CliError::Usage(format!("no provider with slug '{p}'"))
                                }
                                other => other.into(),
                            })?;
                    store.create_municipality(&scope, &provider.id, new).await?
                }
            };
            println!(
                "created {} '{}' ({})",
                tenant.kind.as_str(),
                tenant.name,
                tenant.slug
            );
        }
        Command::User { action } => user_command(&config, action).await?,
    }
    Ok(ExitCode::SUCCESS)
}

fn read_password(from_stdin: bool) -> Result<String, CliError> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let first = rpassword::prompt_password("New password: ")?;
        let second = rpassword::prompt_password("Repeat it: ")?;
        if first != second {
            return Err(CliError::Usage("the two passwords differ".into()));
        }
        first
    };
    Ok(password)
}

async fn user_command(config: &Config, action: UserCommand) -> Result<(), CliError> {
    let store = open_migrated(config).await?;
    let scope = store
        .installation_scope(Actor::system("drifta user"))
        .await?;
    let find = |username: String| {
        let store = store.clone();
        let scope = scope.clone();
        async move {
            store
                .find_user_by_username(&scope, &username)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => CliError::Usage(format!("no user named '{username}'")),
                    other => other.into(),
                })
        }
    };
    let hasher = PasswordHasher::production();
    match action {
        UserCommand::Add {
            username,
            email,
            name,
            tenant,
            role,
            password_stdin,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                CliError::Usage(format!("--role '{role}' is not one of provider_admin, technician, coordinator, requester, auditor"))
            })?;
            let home = store.find_tenant_by_slug(&scope, &tenant).await.map_err(|e| match e {
                StoreError::NotFound => CliError::Usage(format!("no provider or municipality with slug '{tenant}' (create one with `drifta tenant add`)")),
                other => other.into(),
            })?;
            let plain = read_password(password_stdin)?;
            password::check_policy(&plain, &username)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let hash = hasher
                .hash(&plain)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let user = store
                .create_user(
                    &scope,
                    NewUser {
                        tenant_id: home.id.clone(),
                        username,
                        email,
                        display_name: name,
                        phone: String::new(),
                        language: None,
                        password_hash: Some(hash),
                    },
                )
                .await?;
            store
                .set_grants(&scope, &user.id, &[(home.id, role)])
                .await?;
            println!(
                "created user '{}' as {} in {}",
                user.username, role, home.name
            );
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            let user = find(username).await?;
            let plain = read_password(password_stdin)?;
            password::check_policy(&plain, &user.username)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let hash = hasher
                .hash(&plain)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            store.set_password(&scope, &user.id, &hash, None).await?;
            println!(
                "password changed for '{}'; their sessions were ended",
                user.username
            );
        }
        UserCommand::Disable { username } => {
            let user = find(username).await?;
            store.set_disabled(&scope, &user.id, true).await?;
            println!("disabled '{}'; their sessions were ended", user.username);
        }
    }
    Ok(())
}

async fn serve(store: Store, config: &Config, banner: Option<String>) -> Result<(), CliError> {
    drifta_web::i18n::check().map_err(|e| CliError::Usage(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| CliError::Listen {
            addr: config.listen,
            reason: e.to_string(),
        })?;
    // Outage tickets the engine and the heartbeat sweep open speak the municipality's language.
    let store = store.with_texts(std::sync::Arc::new(drifta_web::i18n::CatalogueTexts));
    let store = match secret_key(config, &store)? {
        Some(key) => store.with_secret_key(key),
        None => {
            tracing::warn!(
                "no secret_key is configured: mailboxes cannot be added until it is (see README)"
            );
            store
        }
    };
    let state = AppState::new(
        store.clone(),
        PasswordHasher::production(),
        WebConfig {
            ..config.web.clone()
        },
    );
    tracing::info!(address = %config.listen, backend = ?store.backend(), "drifta is listening");
    let sweeper = tokio::spawn(sweep_heartbeats(store.clone()));
    let indexer = store.spawn_search_indexer();
    let engine = match drifta_monitor::probe::Prober::new() {
        Ok(prober) => Some(drifta_monitor::engine::spawn(
            store.clone(),
            prober,
            drifta_monitor::engine::EngineConfig::new(node_id(config.listen)),
        )),
        Err(e) => {
            // The web and the service desk keep working; only active checks are missing.
            tracing::error!(error = %e, "monitoring engine not started");
            None
        }
    };
    let alerts = start_alerts(&store, config)?;
    let intake = start_mail_intake(&store, config)?;
    if let Some(b) = banner {
        println!("{b}");
    }
    drifta_web::serve(listener, state, shutdown_signal()).await?;
    sweeper.abort();
    indexer.abort();
    if let Some(engine) = engine {
        engine.shutdown().await;
    }
    alerts.shutdown().await;
    intake.shutdown().await;
    store.close().await;
    Ok(())
}

/// Starts the alert sender. Without SMTP or an SMS gateway configured it still runs:
/// webhooks need neither, and alerts on a missing channel are marked failed with the
/// setting to add, visible on the alerts page.
fn start_alerts(
    store: &Store,
    config: &Config,
) -> Result<drifta_monitor::alerts::AlertHandle, CliError> {
    use drifta_monitor::alerts::{AlertConfig, SmsGateway, SmtpConfig};
    let mut alerts = AlertConfig::new(
        node_id(config.listen),
        std::sync::Arc::new(drifta_web::alert_text),
    );
    alerts.render_ticket = Some(std::sync::Arc::new(drifta_web::ticket_mail_text));
    alerts.smtp = config.outgoing.smtp.clone().map(|(url, from)| SmtpConfig {
        url,
        from,
        extra_roots: Vec::new(),
    });
    if let (Some(smtp), Some(path)) = (alerts.smtp.as_mut(), &config.mail_ca_file) {
        smtp.extra_roots = drifta_monitor::mail_intake::read_ca_file(path)
            .map_err(|e| CliError::Usage(format!("configuration key {e}")))?
            .into_iter()
            .map(|c| c.to_vec())
            .collect();
    }
    alerts.sms = config
        .outgoing
        .sms
        .clone()
        .map(|(url, token)| SmsGateway { url, token });
    drifta_monitor::alerts::spawn(store.clone(), alerts)
        .map_err(|e| CliError::Usage(format!("configuration key {e}")))
}

/// The key that seals mailbox passwords: `secret_key` from the configuration, or for an
/// SQLite database a key kept in a file beside it (made on first start, readable by the
/// owner only), so a single-server installation needs no setup. A PostgreSQL installation
/// has several nodes that must share one key, so it must be configured.
fn secret_key(
    config: &Config,
    store: &Store,
) -> Result<Option<drifta_core::seal::SecretKey>, CliError> {
    if let Some(key) = &config.secret_key {
        return Ok(Some(key.clone()));
    }
    let Some(file) = store
        .sqlite_file()
        .filter(|f| !f.as_os_str().is_empty() && f.as_os_str() != ":memory:")
    else {
        return Ok(None);
    };
    let mut key_file = file.as_os_str().to_owned();
    key_file.push(".key");
    let key_file = std::path::PathBuf::from(key_file);
    let problem = |e: std::io::Error| {
        CliError::Usage(format!(
            "cannot use the key file {}: {e}. Set secret_key instead (openssl rand -hex 32)",
            key_file.display()
        ))
    };
    let text = match std::fs::read_to_string(&key_file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = drifta_core::seal::SecretKey::generate_hex();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&key_file).map_err(problem)?;
            std::io::Write::write_all(&mut file, text.as_bytes()).map_err(problem)?;
            tracing::info!(file = %key_file.display(), "made a secret key for mailbox passwords; back it up with the database");
            text
        }
        Err(e) => return Err(problem(e)),
    };
    drifta_core::seal::SecretKey::from_hex(&text)
        .map(Some)
        .map_err(|e| CliError::Usage(format!("the key file {}: {e}", key_file.display())))
}

/// Starts polling the mailboxes configured on the mail page.
fn start_mail_intake(
    store: &Store,
    config: &Config,
) -> Result<drifta_monitor::mail_intake::IntakeHandle, CliError> {
    use drifta_monitor::mail_intake::{self, IntakeConfig};
    let mut intake = IntakeConfig::new(node_id(config.listen));
    if let Some(path) = &config.mail_ca_file {
        intake.extra_roots = mail_intake::read_ca_file(path)
            .map_err(|e| CliError::Usage(format!("configuration key {e}")))?;
    }
    mail_intake::spawn(store.clone(), intake).map_err(|e| CliError::Usage(e.to_string()))
}

/// This node's name in the monitor lease table: host name and listening address. Stable
/// across restarts, so a node that crashed and came back takes its own leases up again at
/// once instead of waiting for them to expire; two nodes on one host differ by port.
fn node_id(listen: std::net::SocketAddr) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "drifta".into());
    format!("{host}-{listen}")
}

/// Checks heartbeats that have gone quiet; pings themselves are judged when they arrive.
/// Each state change is claimed with a conditional update, so several nodes may sweep.
async fn sweep_heartbeats(store: Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.evaluate_heartbeats().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(changed = n, "heartbeat sweep"),
            Err(e) => tracing::error!(error = %e, "heartbeat sweep failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// `drifta import`: reads the file, shows a progress bar on a terminal, prints the report.
/// Exits 1 when rows had problems, 0 otherwise.
async fn import(
    config: &Config,
    slug: &str,
    item_type: &str,
    mode: &str,
    file: &std::path::Path,
) -> Result<ExitCode, CliError> {
    use drifta_store::ImportMode;
    let item_type = drifta_core::cmdb::ItemType::parse(item_type).ok_or_else(|| {
        let all: Vec<&str> = drifta_core::cmdb::ItemType::ALL
            .iter()
            .map(|t| t.as_str())
            .collect();
        CliError::Usage(format!(
            "--type '{item_type}' is not an item type; use one of: {}",
            all.join(", ")
        ))
    })?;
    let mode = ImportMode::parse(&mode.replace('-', "_")).ok_or_else(|| {
        CliError::Usage(format!(
            "--mode '{mode}' is not dry-run, all-or-nothing or valid-only"
        ))
    })?;
    let bytes = std::fs::read(file)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    let store = open_migrated(config).await?;
    let scope = store
        .installation_scope(Actor::system("drifta import"))
        .await?;
    let tenant = store
        .find_tenant_by_slug(&scope, slug)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                CliError::Usage(format!("no municipality with short name '{slug}'"))
            }
            e => e.into(),
        })?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let report = store
        .import_items(&scope, &tenant.id, item_type, &bytes, mode, &progress)
        .await;
    bar.finish_and_clear();
    let report = match report {
        Ok(r) => r,
        Err(drifta_store::ImportError::Csv(e)) => {
            return Err(CliError::Usage(format!("{}: {e}", file.display())));
        }
        Err(drifta_store::ImportError::Store(e)) => return Err(e.into()),
    };
    println!(
        "{} rows ({}, separator '{}'): {} new, {} updates, {} with problems",
        report.total_rows,
        report.encoding,
        report.delimiter,
        report.created,
        report.updated,
        report.problems.len()
    );
    for p in report.problems.iter().take(200) {
        match &p.column {
            Some(c) => println!("  row {}, column {c}: {}", p.row, p.message),
            None => println!("  row {}: {}", p.row, p.message),
        }
    }
    if report.problems.len() > 200 {
        println!("  … and {} more", report.problems.len() - 200);
    }
    println!(
        "{}",
        match (report.mode, report.written) {
            (ImportMode::DryRun, _) =>
                "dry run: nothing written (run again with --mode all-or-nothing or valid-only)",
            (_, true) => "written",
            (_, false) => "nothing written: fix the rows above, or use --mode valid-only",
        }
    );
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
