//! The check engine: probes services on a schedule, keeps results in memory, and writes
//! state changes and per-minute roll-ups in batches (see ARCHITECTURE.md, "the monitor does
//! not write per check"). The rules for what a result means live in `drifta_core::monitor`.

pub mod alerts;
pub mod engine;
pub mod mail_intake;
pub mod probe;
