//! Who is acting, and which tenants they may touch with which roles.
//!
//! A [`Scope`] is built once per request from the session or API token, and every store
//! function that touches tenant data takes one. That makes isolation structural: there is
//! no way to ask the store for tenant data without saying whose eyes it is for.

use crate::ids::{TenantId, UserId};
use crate::role::{Permission, Role};
use std::collections::{BTreeMap, BTreeSet};

/// The person (or system process) behind a change, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub name: String,
    /// The client address, when acting through HTTP.
    pub ip: String,
}

impl Actor {
    pub fn user(user_id: UserId, name: impl Into<String>, ip: impl Into<String>) -> Self {
        Actor {
            user_id: Some(user_id),
            name: name.into(),
            ip: ip.into(),
        }
    }

    /// The command line or a background job: no user, named for the log.
    pub fn system(name: impl Into<String>) -> Self {
        Actor {
            user_id: None,
            name: name.into(),
            ip: String::new(),
        }
    }
}

/// Refusal of an action outside the actor's scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not permitted: {permission:?} in tenant {tenant}")]
pub struct Denied {
    pub tenant: TenantId,
    pub permission: Permission,
}

#[derive(Clone, Debug)]
pub struct Scope {
    actor: Actor,
    /// Effective roles per tenant, grants on a provider already expanded to its municipalities.
    roles: BTreeMap<TenantId, BTreeSet<Role>>,
}

impl Scope {
    /// `grants` must already be expanded (a provider-level grant listed for each municipality);
    /// the store does that when it builds a scope from the database.
    pub fn new(actor: Actor, grants: impl IntoIterator<Item = (TenantId, Role)>) -> Self {
        let mut roles: BTreeMap<TenantId, BTreeSet<Role>> = BTreeMap::new();
        for (tenant, role) in grants {
            roles.entry(tenant).or_default().insert(role);
        }
        Scope { actor, roles }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn user_id(&self) -> Option<&UserId> {
        self.actor.user_id.as_ref()
    }

    /// Every tenant the actor may see at all.
    pub fn tenant_ids(&self) -> impl Iterator<Item = &TenantId> {
        self.roles.keys()
    }

    /// Tenants where the actor holds a role that allows `permission`.
    pub fn tenants_allowing(&self, permission: Permission) -> Vec<&TenantId> {
        self.roles
            .iter()
            .filter(|(_, roles)| roles.iter().any(|r| r.allows(permission)))
            .map(|(t, _)| t)
            .collect()
    }

    pub fn roles_in(&self, tenant: &TenantId) -> impl Iterator<Item = Role> + '_ {
        self.roles.get(tenant).into_iter().flatten().copied()
    }

    pub fn can(&self, tenant: &TenantId, permission: Permission) -> bool {
        self.roles_in(tenant).any(|r| r.allows(permission))
    }

    pub fn require(&self, tenant: &TenantId, permission: Permission) -> Result<(), Denied> {
        if self.can(tenant, permission) {
            Ok(())
        } else {
            Err(Denied {
                tenant: tenant.clone(),
                permission,
            })
        }
    }

    /// True when the actor may do `permission` somewhere: decides which menu entries show.
    pub fn can_anywhere(&self, permission: Permission) -> bool {
        !self.tenants_allowing(permission).is_empty()
    }

    pub fn sees(&self, tenant: &TenantId) -> bool {
        self.roles.contains_key(tenant)
    }

    /// The same scope narrowed to one tenant (the municipality switcher), or unchanged
    /// when that tenant is outside it: narrowing can never widen.
    pub fn narrowed_to(&self, tenant: &TenantId) -> Scope {
        let roles = self
            .roles
            .iter()
            .filter(|(t, _)| *t == tenant)
            .map(|(t, r)| (t.clone(), r.clone()))
            .collect::<BTreeMap<_, _>>();
        if roles.is_empty() {
            return self.clone();
        }
        Scope {
            actor: self.actor.clone(),
            roles,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tenants(n: usize) -> Vec<TenantId> {
        (0..n).map(|_| TenantId::generate()).collect()
    }

    #[test]
    fn permissions_follow_the_role_in_that_tenant_only() {
        let t = tenants(2);
        let scope = Scope::new(
            Actor::system("test"),
            [
                (t[0].clone(), Role::Technician),
                (t[1].clone(), Role::Requester),
            ],
        );
        assert!(scope.can(&t[0], Permission::Operate));
        assert!(!scope.can(&t[1], Permission::Operate));
        assert!(scope.require(&t[1], Permission::Request).is_ok());
        let err = scope.require(&t[1], Permission::ReadAll).unwrap_err();
        assert_eq!(err.tenant, t[1]);
        assert_eq!(scope.tenants_allowing(Permission::Operate), vec![&t[0]]);
    }

    #[test]
    fn unknown_tenant_allows_nothing() {
        let scope = Scope::new(Actor::system("test"), []);
        let t = TenantId::generate();
        assert!(!scope.sees(&t));
        assert!(!scope.can(&t, Permission::View));
        assert!(!scope.can_anywhere(Permission::View));
    }

    proptest! {
        #[test]
        fn narrowing_never_widens(grants in proptest::collection::vec((0usize..6, 0usize..5), 0..12), pick in 0usize..8) {
            let t = tenants(8);
            let scope = Scope::new(
                Actor::system("p"),
                grants.iter().map(|(ti, ri)| (t[*ti].clone(), Role::ALL[*ri])),
            );
            let narrowed = scope.narrowed_to(&t[pick]);
            for id in narrowed.tenant_ids() {
                prop_assert!(scope.sees(id));
                for r in narrowed.roles_in(id) {
                    prop_assert!(scope.roles_in(id).any(|x| x == r));
                }
            }
            if scope.sees(&t[pick]) {
                prop_assert_eq!(narrowed.tenant_ids().count(), 1);
            }
        }
    }
}
