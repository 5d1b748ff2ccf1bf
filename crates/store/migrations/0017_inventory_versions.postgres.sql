-- Relations change in bulk (the loader writes thousands per statement), so their trigger
-- runs once per statement over the rows it changed. Items change one at a time or, in an
-- import, mostly without touching these columns: a row trigger whose WHEN clause is
-- checked without calling the function costs such an update nothing.
CREATE FUNCTION inventory_relations_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inventory_versions (provider_id, version)
    SELECT DISTINCT COALESCE(t.parent_id, t.id), 1
    FROM changed c JOIN tenants t ON t.id = c.tenant_id
    ON CONFLICT (provider_id) DO UPDATE SET version = inventory_versions.version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER item_relations_added AFTER INSERT ON item_relations
REFERENCING NEW TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION inventory_relations_changed();
CREATE TRIGGER item_relations_removed AFTER DELETE ON item_relations
REFERENCING OLD TABLE AS changed
FOR EACH STATEMENT EXECUTE FUNCTION inventory_relations_changed();

CREATE FUNCTION inventory_item_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inventory_versions (provider_id, version)
    SELECT COALESCE(parent_id, id), 1 FROM tenants WHERE id = NEW.tenant_id
    ON CONFLICT (provider_id) DO UPDATE SET version = inventory_versions.version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER items_graph_changed AFTER UPDATE OF name, location_id, item_type, tenant_id ON items
FOR EACH ROW
WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.location_id IS DISTINCT FROM NEW.location_id
    OR OLD.item_type IS DISTINCT FROM NEW.item_type OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
EXECUTE FUNCTION inventory_item_changed();
