//! The application portfolio (hosting, contracts, data location, personal data, migration)
//! recorded on application items, and the record of processing activities (GDPR art. 30)
//! generated from it for the data protection officer.

use crate::audit::Change;
use crate::db::Store;
use crate::error::StoreError;
use crate::sql::Sql;
use drifta_core::cmdb::{ItemType, Lifecycle};
use drifta_core::gdpr::{Portfolio, RecordEntry, gaps, validate};
use drifta_core::validate::FieldError;
use drifta_core::{Permission, Scope, TenantId};

impl Store {
    /// An application's portfolio; the default (empty) one when nothing is recorded yet.
    pub async fn portfolio(&self, scope: &Scope, item_id: &str) -> Result<Portfolio, StoreError> {
        let item = self.get_item(scope, item_id).await?;
        if item.summary.item_type != ItemType::Application {
            return Err(StoreError::NotFound);
        }
        let row: Option<(Option<String>,)> = self
            .fetch_optional(Sql::new("SELECT portfolio FROM items WHERE id = $1").arg(item_id))
            .await?;
        match row.and_then(|(p,)| p) {
            None => Ok(Portfolio::default()),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Inconsistent(format!("portfolio of {item_id}: {e}"))),
        }
    }

    /// Records an application's portfolio. Needs `Operate` on its municipality.
    pub async fn set_portfolio(
        &self,
        scope: &Scope,
        item_id: &str,
        portfolio: Portfolio,
    ) -> Result<Portfolio, StoreError> {
        let before = self.portfolio(scope, item_id).await?;
        let item = self.get_item(scope, item_id).await?;
        let tenant = item.summary.tenant_id.clone();
        scope.require(&tenant, Permission::Operate)?;
        validate(&portfolio)
            .map_err(|e| FieldError::new(e.field(), e.code(), "the portfolio is not valid"))?;
        let mut portfolio = portfolio;
        for list in [&mut portfolio.data_location, &mut portfolio.backup_location] {
            for code in list.iter_mut() {
                *code = code.trim().to_uppercase();
            }
        }
        let json = serde_json::to_string(&portfolio)
            .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("UPDATE items SET portfolio = $1, migration_status = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
                .arg(json.as_str())
                .arg(portfolio.migration_status.as_str())
                .arg(now)
                .arg(tenant.as_str())
                .arg(item_id),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&tenant),
                action: "portfolio",
                object_type: "item",
                object_id: item_id,
                before: serde_json::to_value(&before).ok(),
                after: serde_json::to_value(&portfolio).ok(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(portfolio)
    }

    /// The record of processing activities of one municipality: every application in use
    /// or on its way out (not disposed), with its processor and the gaps found today.
    pub async fn processing_record(
        &self,
        scope: &Scope,
        tenant: &TenantId,
    ) -> Result<Vec<RecordEntry>, StoreError> {
        scope.require(tenant, Permission::ReadAll)?;
        let sql = Sql::new(
            "SELECT tn.name, i.name, COALESCE(s.name, ''), i.portfolio FROM items i \
             JOIN tenants tn ON tn.id = i.tenant_id LEFT JOIN suppliers s ON s.id = i.supplier_id \
             WHERE i.item_type = 'application' AND i.lifecycle <> ",
        )
        .push_arg(Lifecycle::Disposed.as_str())
        .push(" AND i.tenant_id = ")
        .push_arg(tenant.as_str())
        .push(" AND ")
        .in_scope(scope, Permission::ReadAll, "i.tenant_id")
        .push(" ORDER BY i.name, i.id");
        let rows: Vec<(String, String, String, Option<String>)> = self.fetch_all(sql).await?;
        let today = self.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        rows.into_iter()
            .map(|(municipality, application, supplier, json)| {
                let portfolio: Portfolio = match json {
                    Some(j) => serde_json::from_str(&j).map_err(|e| {
                        StoreError::Inconsistent(format!("portfolio of {application}: {e}"))
                    })?,
                    None => Portfolio::default(),
                };
                let external = portfolio.processor_is_external(!supplier.is_empty());
                let gaps = gaps(&portfolio, external, today);
                Ok(RecordEntry {
                    municipality,
                    application,
                    supplier,
                    portfolio,
                    gaps,
                })
            })
            .collect()
    }
}
