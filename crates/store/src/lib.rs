//! Drifta's persistence: one [`Store`] over SQLite or PostgreSQL.
//!
//! Every function that reads or writes tenant data takes a [`Scope`](drifta_core::Scope)
//! and filters through [`sql::Sql::in_scope`], so isolation does not depend on remembering.
//! Every change appends to the hash-chained audit log in the same transaction.

mod alerts;
mod audit;
mod bulk;
mod bulk_inventory;
mod checks;
mod db;
pub mod demo;
mod demo_inventory;
mod error;
mod extras;
mod import;
mod inventory;
mod kb;
mod login_limit;
mod mail;
mod migrate;
mod monitors;
mod portfolio;
mod search;
mod sessions;
mod sla_notify;
mod sql;
mod status;
mod teams;
mod tenants;
#[cfg(feature = "testing")]
pub mod testing;
mod tickets;
mod tokens;
mod uptime_report;
mod users;

pub use alerts::{AlertRoute, Delivery, OutboxEntry, OutboxMessage, Payload};
pub use audit::{AuditFilter, AuditPage};
pub use bulk::{BulkActor, BulkComment, BulkLoaded, BulkTicket, DatasetStats};
pub use bulk_inventory::{BulkItem, BulkItemsLoaded, BulkRelation};
pub use checks::{
    EngineMonitor, HourRow, LEASE_BUCKETS, Maintenance, MaintenanceSchedule, MaintenanceTarget,
    NewCheck, NewMaintenance, StateChange, bucket_of, check_settings,
};
pub use db::{Backend, ConnectOptions, Store, redact_url};
pub use error::StoreError;
pub use extras::{Attachment, MAX_ATTACHMENT_BYTES, normalise_tag, sniff_content_type};
pub use import::{ImportError, ImportMode, ImportProblem, ImportReport, import_schema};
pub use inventory::{
    Contract, CustomField, ImpactColumn, ImpactDirection, ImpactEdge, ImpactNode, ImpactReport,
    ImpactView, Item, ItemFilter, ItemInput, ItemSummary, NewContract, NewItem, NewSupplier,
    Relation, Supplier, relation_types,
};
pub use kb::{Article, ArticleFilter, ArticleUpdate, MAX_BODY_CHARS, NewArticle};
pub use mail::{
    InboundEntry, Ingested, MAX_MAILS_PER_SENDER_HOUR, MailSecurity, Mailbox, MailboxJob,
    MailboxRoute, NewMailbox,
};
pub use migrate::{MIGRATIONS, Migration, SchemaStatus};
pub use monitors::{HEARTBEAT_PREFIX, Monitor, PingOutcome};
pub use search::query_words;
pub use sessions::Session;
pub use status::{STATUS_DAYS, StatusMaintenance, StatusPage, StatusService, StatusSettings};
pub use teams::{SavedFilter, Team, clean_filter_query};
pub use tenants::{Location, NewLocation, NewTenant};
pub use tickets::{
    Caller, NewTicket, QueueFilter, QueueView, StatusFilter, Ticket, TicketEvent, TimeEntry,
    default_sla_minutes,
};
pub use tokens::ApiToken;
pub use uptime_report::{MonitorUptime, MunicipalityUptime, UptimeReport};
pub use users::{NewUser, User};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
