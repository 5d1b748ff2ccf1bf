-- Status pages: one per municipality, public (no sign-in) or for those who see the
-- municipality, showing the monitors the municipality chose.
CREATE TABLE status_pages (
    tenant_id   TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id),
    public      BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at  BIGINT NOT NULL
);
ALTER TABLE monitors ADD COLUMN on_status_page BOOLEAN NOT NULL DEFAULT FALSE;
