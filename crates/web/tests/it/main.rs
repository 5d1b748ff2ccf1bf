//! HTTP and browser tests of drifta-web, against a real server on a loopback port, on SQLite
//! and (with `DRIFTA_TEST_PG`) PostgreSQL. Browser tests run when `DRIFTA_TEST_BROWSER=1`.

mod alerts;
mod api;
mod api_inventory;
mod browser;
mod checks;
mod inventory_pages;
mod isolation;
mod kb;
mod mail;
mod pages;
mod status;
mod support;
mod tickets;
mod uptime_report;
