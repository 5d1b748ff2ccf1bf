//! The mail intake's benchmark: messages already waiting in a real IMAP mailbox (Dovecot from
//! `.ci/imap-start`, filled by `.ci/imap-multiappend.py`) become tickets. Prints the time and
//! the counts; the count must match exactly, or the run fails.

use crate::Failure;
use crate::monitors::Database;
use clap::Args;
use drifta_core::seal::SecretKey;
use drifta_core::{Actor, Country};
use drifta_monitor::mail_intake::{self, IntakeConfig};
use drifta_store::{MailSecurity, NewMailbox, NewTenant, Store};
use std::time::Instant;

#[derive(Args, Clone)]
pub struct MailArgs {
    /// The IMAP user whose INBOX holds the waiting messages.
    #[arg(long)]
    user: String,
    /// How many messages wait there.
    #[arg(long, default_value_t = 1_000)]
    expect: usize,
    /// sqlite://PATH or postgres://…; a fresh SQLite file when left out.
    #[arg(long)]
    database_url: Option<String>,
}

fn env(name: &str) -> Result<String, Failure> {
    std::env::var(name).map_err(|_| format!("{name} is not set; run through bench/mail.sh").into())
}

pub async fn run(args: MailArgs) -> Result<(), Failure> {
    let database = Database::new(args.database_url.clone(), "mail.db")?;
    let store = database
        .open()
        .await?
        .with_secret_key(SecretKey::from_hex(&SecretKey::generate_hex())?);
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
    let scope = store.installation_scope(actor.clone()).await?;
    let municipality = store
        .create_municipality(
            &scope,
            &provider.id,
            NewTenant {
                name: "Benkvik".into(),
                slug: "benkvik".into(),
                country: Country::No,
                time_zone: None,
                language: None,
            },
        )
        .await?;
    let scope = store.installation_scope(actor).await?;
    store
        .create_mailbox(
            &scope,
            &NewMailbox {
                tenant_id: municipality.id.clone(),
                name: "Benk".into(),
                address: "support@benk.example.no".into(),
                host: env("DRIFTA_IMAP_HOST")?,
                port: env("DRIFTA_IMAPS_PORT")?.parse()?,
                security: Some(MailSecurity::Tls),
                username: args.user.clone(),
                password: env("DRIFTA_IMAP_PASSWORD")?,
                folder: "INBOX".into(),
                poll_seconds: 60,
                enabled: true,
                routes: Vec::new(),
            },
        )
        .await?;
    let mut config = IntakeConfig::new("bench");
    config.extra_roots = mail_intake::read_ca_file(&env("DRIFTA_IMAP_CA")?)?;
    let job = store
        .claim_mailbox("bench", 600_000)
        .await?
        .ok_or("the mailbox was not due")?;
    let started = Instant::now();
    let report = mail_intake::poll_once(&store, &config, &job).await?;
    let took = started.elapsed();
    let tickets = count_tickets(&store).await?;
    println!(
        "mail intake ({}): {} messages waiting -> {} tickets, {} replies, {} ignored, {} kept aside, {} duplicates in {:.2} s ({:.0} messages/s)",
        match store.backend() {
            drifta_store::Backend::Sqlite => "SQLite",
            drifta_store::Backend::Postgres => "PostgreSQL",
        },
        args.expect,
        report.tickets,
        report.replies,
        report.ignored,
        report.kept_aside,
        report.duplicates,
        took.as_secs_f64(),
        report.total() as f64 / took.as_secs_f64().max(1e-9),
    );
    println!("tickets in the database: {tickets}");
    let again = mail_intake::poll_once(&store, &config, &job).await?;
    println!("second poll: {} messages (must be 0)", again.total());
    if report.tickets != args.expect || tickets != args.expect as i64 || again.total() != 0 {
        return Err(format!(
            "count mismatch: expected {} tickets, the poll made {} and the database holds {}",
            args.expect, report.tickets, tickets
        )
        .into());
    }
    Ok(())
}

async fn count_tickets(store: &Store) -> Result<i64, Failure> {
    let scope = store
        .installation_scope(Actor::system("drifta-bench"))
        .await?;
    Ok(store.dataset_stats(&scope).await?.tickets)
}
