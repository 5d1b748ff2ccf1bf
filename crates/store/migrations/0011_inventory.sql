-- Inventory and application portfolio: configuration items, suppliers and contracts,
-- typed relations between items, links from tickets and monitors.

-- Suppliers and contracts usually belong to the provider (shared by its municipalities),
-- sometimes to one municipality that buys on its own.
CREATE TABLE suppliers (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    org_number  TEXT NOT NULL DEFAULT '',
    contact     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE contracts (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL PRIMARY KEY,
    supplier_id   TEXT NOT NULL REFERENCES suppliers (id),
    name          TEXT NOT NULL,
    starts_on     TEXT,
    ends_on       TEXT,
    notice_months BIGINT NOT NULL DEFAULT 0,
    -- Whole units of the currency: budgets are steered in kroner, not øre.
    annual_cost   BIGINT NOT NULL DEFAULT 0,
    currency      TEXT NOT NULL DEFAULT 'NOK',
    created_at    BIGINT NOT NULL
);
CREATE INDEX contracts_ends ON contracts (tenant_id, ends_on);

-- Dates are ISO text (YYYY-MM-DD): they sort, compare and read the same on both backends.
-- Natural keys are NULL when unknown, so the partial unique indexes ignore them.
CREATE TABLE items (
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    id                   TEXT NOT NULL PRIMARY KEY,
    item_type            TEXT NOT NULL,
    name                 TEXT NOT NULL,
    location_id          TEXT REFERENCES locations (id),
    owner                TEXT NOT NULL DEFAULT '',
    supplier_id          TEXT REFERENCES suppliers (id),
    contract_id          TEXT REFERENCES contracts (id),
    serial_number        TEXT,
    hostname             TEXT,
    asset_tag            TEXT,
    purchased_on         TEXT,
    warranty_until       TEXT,
    lifecycle            TEXT NOT NULL,
    disposal_recycler    TEXT NOT NULL DEFAULT '',
    disposal_certificate TEXT NOT NULL DEFAULT '',
    -- Type-specific fields as a JSON object; their definitions live in core (built in) and
    -- item_fields (added per provider without code changes).
    attributes           TEXT NOT NULL DEFAULT '{}',
    -- The application portfolio (GDPR, hosting, migration) of application items, as JSON.
    portfolio            TEXT,
    migration_status     TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE UNIQUE INDEX items_serial_number ON items (tenant_id, serial_number) WHERE serial_number IS NOT NULL;
CREATE UNIQUE INDEX items_hostname ON items (tenant_id, hostname) WHERE hostname IS NOT NULL;
CREATE UNIQUE INDEX items_asset_tag ON items (tenant_id, asset_tag) WHERE asset_tag IS NOT NULL;
CREATE INDEX items_by_type ON items (tenant_id, item_type, name);
CREATE INDEX items_by_name ON items (tenant_id, name);
CREATE INDEX items_location ON items (location_id);
CREATE INDEX items_supplier ON items (supplier_id);
CREATE INDEX items_contract ON items (contract_id);
CREATE INDEX items_warranty ON items (tenant_id, warranty_until);

-- from_id relates to to_id (see drifta_core::cmdb::RelationType). tenant_id is from_id's
-- tenant; to_id may belong to another municipality of the same provider (shared servers).
CREATE TABLE item_relations (
    tenant_id   TEXT NOT NULL,
    from_id     TEXT NOT NULL REFERENCES items (id),
    relation    TEXT NOT NULL,
    to_id       TEXT NOT NULL REFERENCES items (id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (from_id, relation, to_id)
);
CREATE INDEX item_relations_to ON item_relations (to_id, relation);

-- Fields a provider adds to a type without code changes.
CREATE TABLE item_fields (
    provider_id TEXT NOT NULL REFERENCES tenants (id),
    item_type   TEXT NOT NULL,
    field_key   TEXT NOT NULL,
    label       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    choices     TEXT NOT NULL DEFAULT '',
    position    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (provider_id, item_type, field_key)
);

-- Items a ticket is about.
CREATE TABLE ticket_items (
    tenant_id   TEXT NOT NULL,
    ticket_id   TEXT NOT NULL,
    item_id     TEXT NOT NULL REFERENCES items (id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, item_id)
);
CREATE INDEX ticket_items_item ON ticket_items (item_id);

ALTER TABLE monitors ADD COLUMN item_id TEXT REFERENCES items (id);
