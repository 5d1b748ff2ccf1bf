-- A municipality's opening hours, half-days and closures (drifta_core::desk::DeskSettings
-- as JSON). Without a row the country's defaults apply.
CREATE TABLE desk_settings (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id),
    settings   TEXT NOT NULL
);

-- Live views ask "has anything in my tickets changed?" every few seconds.
CREATE INDEX tickets_updated ON tickets (tenant_id, updated_at);
