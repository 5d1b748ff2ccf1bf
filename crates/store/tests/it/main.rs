//! Storage integration tests. Every test runs on SQLite and, when `DRIFTA_TEST_PG` is set,
//! on PostgreSQL.

mod audit;
mod bulk;
mod checks;
mod demo;
mod impact;
mod import;
mod inventory;
mod isolation;
mod kb;
mod mail;
mod monitors;
mod schema;
mod search;
mod sessions;
mod sla_notify;
mod support;
mod tickets;
mod uptime_report;
mod users;
