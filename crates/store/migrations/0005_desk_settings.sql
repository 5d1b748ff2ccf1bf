-- A municipality's opening hours, half-days and closures (drifta_core::desk::DeskSettings
-- as JSON). Without a row the country's defaults apply.
CREATE TABLE desk_settings (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id),
    settings   TEXT NOT NULL
);
