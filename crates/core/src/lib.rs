//! Drifta's domain: the rules that hold whatever stores or serves them.
//!
//! Nothing here does IO, async or SQL, so every rule can be tested in isolation
//! and reused by the web shell, the monitor and the command line alike.

/// Gives an enum of stable codes its `ALL` list, `as_str`, `parse` and `Display`, so the
/// codes stored in the database and sent in forms are written once.
macro_rules! codes {
    ($t:ty { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$(<$t>::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($s => Some(<$t>::$v),)+ _ => None }
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod alert;
pub mod audit;
pub mod calendar;
pub mod clock;
pub mod cmdb;
pub mod csv_import;
pub mod desk;
pub mod gdpr;
pub mod ids;
pub mod impact_svg;
pub mod item_fields;
pub mod lang;
pub mod mail;
pub mod monitor;
pub mod monitor_history;
pub mod notify;
pub mod password;
pub mod role;
pub mod scope;
pub mod seal;
pub mod secret;
pub mod sla;
pub mod tenant;
pub mod ticket;
pub mod uptime;
pub mod validate;

pub use ids::{LocationId, TenantId, TokenId, UserId};
pub use lang::Language;
pub use role::{Permission, Role};
pub use scope::{Actor, Scope};
pub use tenant::{Country, TenantKind};
