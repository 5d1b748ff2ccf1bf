//! Roles a person holds in a tenant, and what each role may do there.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the provider: every municipality under it, users, settings.
    ProviderAdmin,
    /// Works tickets, inventory and monitors in the municipalities granted.
    Technician,
    /// A municipality's IT coordinator or chief executive: reads most, files requests.
    Coordinator,
    /// An employee who reports problems and follows their own requests.
    Requester,
    /// Reads everything in scope including the audit log; changes nothing.
    Auditor,
}

/// What an action needs. Checked against the role a person holds in the tenant acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See that the tenant exists, its locations and its status.
    View,
    /// Read the tenant's data broadly (inventory, all tickets, costs).
    ReadAll,
    /// Day-to-day technical work: tickets, inventory, monitors.
    Operate,
    /// File and follow one's own requests.
    Request,
    /// Read the audit log.
    ReadAudit,
    /// Create users, grant roles, disable accounts.
    ManageUsers,
    /// Create and change municipalities and locations.
    ManageTenants,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::ProviderAdmin,
        Role::Technician,
        Role::Coordinator,
        Role::Requester,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ProviderAdmin => "provider_admin",
            Role::Technician => "technician",
            Role::Coordinator => "coordinator",
            Role::Requester => "requester",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The permission matrix. One place, so a review of who may do what reads one function.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::ProviderAdmin => true,
            Role::Technician => matches!(permission, View | ReadAll | Operate | Request),
            Role::Coordinator => matches!(permission, View | ReadAll | Request),
            Role::Requester => matches!(permission, View | Request),
            Role::Auditor => matches!(permission, View | ReadAll | ReadAudit),
        }
    }

    /// Only a provider administrator's grant may sit on the provider itself; the others
    /// are for chosen municipalities, so nobody gets every municipality by accident.
    pub fn may_be_granted_on_provider(self) -> bool {
        matches!(self, Role::ProviderAdmin | Role::Technician | Role::Auditor)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn auditor_reads_but_never_writes() {
        assert!(Role::Auditor.allows(ReadAudit));
        assert!(Role::Auditor.allows(ReadAll));
        for p in [Operate, Request, ManageUsers, ManageTenants] {
            assert!(!Role::Auditor.allows(p), "{p:?}");
        }
    }

    #[test]
    fn only_admins_manage_users_and_tenants() {
        for r in Role::ALL {
            assert_eq!(r.allows(ManageUsers), r == Role::ProviderAdmin, "{r}");
            assert_eq!(r.allows(ManageTenants), r == Role::ProviderAdmin, "{r}");
        }
    }

    #[test]
    fn requester_cannot_read_everything() {
        assert!(Role::Requester.allows(Request));
        assert!(!Role::Requester.allows(ReadAll));
        assert!(!Role::Coordinator.allows(Operate));
        assert!(Role::Technician.allows(Operate));
        assert!(!Role::Technician.allows(ReadAudit));
    }
}
