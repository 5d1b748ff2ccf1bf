-- Impact analysis keeps each provider's relation graph in memory (store::inventory::graph:
-- the failure-carrying relations, and each item's municipality, type, name and location)
-- and reads this counter, one primary-key lookup per analysis, to know whether its copy is
-- current. Triggers (in the per-backend files) bump it in the same transaction as every
-- change such a copy holds, whoever writes it (forms, API, CSV import, bulk load): a
-- relation added or removed, an item's name, location, type or municipality changed. A
-- new item needs no bump: it joins the graph with its first relation. So every node of a
-- PostgreSQL installation sees a change at its next analysis.
CREATE TABLE inventory_versions (
    provider_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id),
    version     BIGINT NOT NULL
);
