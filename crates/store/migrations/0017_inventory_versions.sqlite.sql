-- SQLite has row triggers only. A bump updates one row in place (its page is cached), and
-- the WHEN clause leaves an update that changes none of those columns (an import of
-- the same file again) without any.
CREATE TRIGGER item_relations_added AFTER INSERT ON item_relations
BEGIN
    INSERT INTO inventory_versions (provider_id, version)
    SELECT COALESCE(parent_id, id), 1 FROM tenants WHERE id = NEW.tenant_id
    ON CONFLICT (provider_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER item_relations_removed AFTER DELETE ON item_relations
BEGIN
    INSERT INTO inventory_versions (provider_id, version)
    SELECT COALESCE(parent_id, id), 1 FROM tenants WHERE id = OLD.tenant_id
    ON CONFLICT (provider_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER items_graph_changed AFTER UPDATE OF name, location_id, item_type, tenant_id ON items
WHEN OLD.name IS NOT NEW.name OR OLD.location_id IS NOT NEW.location_id
    OR OLD.item_type IS NOT NEW.item_type OR OLD.tenant_id IS NOT NEW.tenant_id
BEGIN
    INSERT INTO inventory_versions (provider_id, version)
    SELECT COALESCE(parent_id, id), 1 FROM tenants WHERE id = NEW.tenant_id
    ON CONFLICT (provider_id) DO UPDATE SET version = version + 1;
END;
