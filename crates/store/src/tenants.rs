//! Providers, municipalities and locations.

use crate::audit::Change;
use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::tenant::{LocationKind, Tenant};
use drifta_core::validate::{FieldError, display_name};
use drifta_core::{
    Actor, Country, Language, LocationId, Permission, Role, Scope, TenantId, TenantKind,
};
use serde::Serialize;

#[derive(Clone, Debug)]
pub struct NewTenant {
    pub name: String,
    pub slug: String,
    pub country: Country,
    pub time_zone: Option<String>,
    pub language: Option<Language>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    pub id: LocationId,
    pub tenant_id: TenantId,
    pub name: String,
    pub kind: LocationKind,
    pub address: String,
}

#[derive(Clone, Debug)]
pub struct NewLocation {
    pub name: String,
    pub kind: LocationKind,
    pub address: String,
}

type TenantRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
);
const TENANT_COLUMNS: &str = "id, parent_id, kind, name, slug, country, time_zone, language";

fn tenant_from_row(r: TenantRow) -> Tenant {
    Tenant {
        id: TenantId::from_db(r.0),
        parent_id: r.1.map(TenantId::from_db),
        kind: TenantKind::parse(&r.2).unwrap_or(TenantKind::Municipality),
        name: r.3,
        slug: r.4,
        country: Country::parse(&r.5).unwrap_or(Country::No),
        time_zone: r.6,
        language: Language::from_code(&r.7).unwrap_or(Language::En),
    }
}

type LocationRow = (String, String, String, String, String);

fn location_from_row(r: LocationRow) -> Location {
    Location {
        id: LocationId::from_db(r.0),
        tenant_id: TenantId::from_db(r.1),
        name: r.2,
        kind: LocationKind::parse(&r.3).unwrap_or(LocationKind::Other),
        address: r.4,
    }
}

fn validate_slug(slug: &str) -> Result<String, FieldError> {
    let slug = slug.trim().to_lowercase();
    let ok = (2..=48).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(slug)
    } else {
        Err(FieldError::new(
            "slug",
            "slug-invalid",
            "must be 2 to 48 characters of a-z, 0-9 and inner dashes",
        ))
    }
}

fn validate_time_zone(tz: &str) -> Result<String, FieldError> {
    jiff::tz::TimeZone::get(tz)
        .map(|_| tz.to_string())
        .map_err(|_| {
            FieldError::new(
                "time_zone",
                "time-zone-unknown",
                "is not a known time zone (for example Europe/Oslo)",
            )
        })
}

impl Store {
    /// Creates a provider: the root of a tenant tree. Installation-level (the command line
    /// and the demo), so it takes no scope; the caller's actor is audited.
    pub async fn create_provider(
        &self,
        actor: &Actor,
        new: NewTenant,
    ) -> Result<Tenant, StoreError> {
        self.insert_tenant(actor, None, TenantKind::Provider, new)
            .await
    }

    pub async fn create_municipality(
        &self,
        scope: &Scope,
        provider: &TenantId,
        new: NewTenant,
    ) -> Result<Tenant, StoreError> {
        scope.require(provider, Permission::ManageTenants)?;
        let parent = self.get_tenant(scope, provider).await?;
        if parent.kind != TenantKind::Provider {
            return Err(StoreError::Invalid(FieldError::new(
                "parent",
                "parent-not-provider",
                "municipalities belong directly to a provider",
            )));
        }
        self.insert_tenant(scope.actor(), Some(provider), TenantKind::Municipality, new)
            .await
    }

    async fn insert_tenant(
        &self,
        actor: &Actor,
        parent: Option<&TenantId>,
        kind: TenantKind,
        new: NewTenant,
    ) -> Result<Tenant, StoreError> {
        let tenant = Tenant {
            id: TenantId::generate(),
            parent_id: parent.cloned(),
            kind,
            name: display_name("name", &new.name)?,
            slug: validate_slug(&new.slug)?,
            country: new.country,
            time_zone: validate_time_zone(
                new.time_zone
                    .as_deref()
                    .unwrap_or(new.country.default_time_zone_name()),
            )?,
            language: new.language.unwrap_or(new.country.default_language()),
        };
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute_raw(
            Sql::new(format!(
                "INSERT INTO tenants ({TENANT_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .arg(tenant.id.as_str())
            .arg(tenant.parent_id.as_ref().map(|p| p.as_str()))
            .arg(tenant.kind.as_str())
            .arg(tenant.name.as_str())
            .arg(tenant.slug.as_str())
            .arg(tenant.country.as_str())
            .arg(tenant.time_zone.as_str())
            .arg(tenant.language.code())
            .arg(now),
        )
        .await
        .map_err(|e| StoreError::taken_or(e, &["slug"]))?;
        tx.audit(
            actor,
            now,
            Change {
                tenant: Some(&tenant.id),
                action: "create",
                object_type: "tenant",
                object_id: tenant.id.as_str(),
                before: None,
                after: Some(serde_json::to_value(&tenant).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(tenant)
    }

    /// Tenants the scope sees, providers first, then by name.
    pub async fn list_tenants(&self, scope: &Scope) -> Result<Vec<Tenant>, StoreError> {
        let sql = Sql::new(format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE "))
            .in_scope(scope, Permission::View, "id")
            .push(" ORDER BY parent_id IS NOT NULL, name");
        Ok(self
            .fetch_all::<TenantRow>(sql)
            .await?
            .into_iter()
            .map(tenant_from_row)
            .collect())
    }

    /// One tenant, or [`StoreError::NotFound`] when it does not exist *or* lies outside the
    /// scope: the two are indistinguishable on purpose.
    pub async fn get_tenant(&self, scope: &Scope, id: &TenantId) -> Result<Tenant, StoreError> {
        let sql = Sql::new(format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1 AND "
        ))
        .arg(id.as_str())
        .in_scope(scope, Permission::View, "id");
        self.fetch_optional::<TenantRow>(sql)
            .await?
            .map(tenant_from_row)
            .ok_or(StoreError::NotFound)
    }

    pub async fn create_location(
        &self,
        scope: &Scope,
        tenant: &TenantId,
        new: NewLocation,
    ) -> Result<Location, StoreError> {
        scope.require(tenant, Permission::ManageTenants)?;
        let location = Location {
            id: LocationId::generate(),
            tenant_id: tenant.clone(),
            name: display_name("name", &new.name)?,
            kind: new.kind,
            address: new.address.trim().to_string(),
        };
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO locations (tenant_id, id, name, kind, address, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .arg(tenant.as_str())
                .arg(location.id.as_str())
                .arg(location.name.as_str())
                .arg(location.kind.as_str())
                .arg(location.address.as_str())
                .arg(now),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(tenant),
                action: "create",
                object_type: "location",
                object_id: location.id.as_str(),
                before: None,
                after: Some(serde_json::to_value(&location).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(location)
    }

    /// Locations of one tenant, or of every tenant in scope.
    pub async fn list_locations(
        &self,
        scope: &Scope,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<Location>, StoreError> {
        let mut sql = Sql::new("SELECT id, tenant_id, name, kind, address FROM locations WHERE ")
            .in_scope(scope, Permission::View, "tenant_id");
        if let Some(t) = tenant {
            sql = sql.push(" AND tenant_id = ").push_arg(t.as_str());
        }
        Ok(self
            .fetch_all::<LocationRow>(sql.push(" ORDER BY name"))
            .await?
            .into_iter()
            .map(location_from_row)
            .collect())
    }

    /// Counts of locations per tenant in scope, for the dashboard.
    pub async fn location_counts(&self, scope: &Scope) -> Result<Vec<(TenantId, i64)>, StoreError> {
        let sql = Sql::new("SELECT tenant_id, COUNT(*) FROM locations WHERE ")
            .in_scope(scope, Permission::View, "tenant_id")
            .push(" GROUP BY tenant_id");
        Ok(self
            .fetch_all::<(String, i64)>(sql)
            .await?
            .into_iter()
            .map(|(t, n)| (TenantId::from_db(t), n))
            .collect())
    }

    /// A scope with provider-administrator rights over every tenant: for the command line,
    /// which runs with the database owner's authority, and for seeding demo data.
    pub async fn installation_scope(&self, actor: Actor) -> Result<Scope, StoreError> {
        let ids: Vec<(String,)> = self.fetch_all(Sql::new("SELECT id FROM tenants")).await?;
        Ok(Scope::new(
            actor,
            ids.into_iter()
                .map(|(id,)| (TenantId::from_db(id), Role::ProviderAdmin)),
        ))
    }

    /// Providers in the installation (few), so the command line can pick one by slug.
    pub async fn find_tenant_by_slug(
        &self,
        scope: &Scope,
        slug: &str,
    ) -> Result<Tenant, StoreError> {
        let sql = Sql::new(format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = $1 AND "
        ))
        .arg(slug.trim().to_lowercase())
        .in_scope(scope, Permission::View, "id");
        self.fetch_optional::<TenantRow>(sql)
            .await?
            .map(tenant_from_row)
            .ok_or(StoreError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(validate_slug(" Fjordvik ").unwrap(), "fjordvik");
        assert!(validate_slug("-x").is_err());
        assert!(validate_slug("a").is_err());
        assert!(validate_slug("øy").is_err());
    }

    #[test]
    fn time_zones() {
        assert!(validate_time_zone("Europe/Oslo").is_ok());
        assert_eq!(
            validate_time_zone("Mars/Olympus").unwrap_err().field,
            "time_zone"
        );
    }
}
