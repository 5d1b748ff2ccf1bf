-- Indexes that drifta-bench showed missing (bench/inventory.sh: 200,000 items, 500,000
-- relations, 50 municipalities).

-- Impact analysis walks relations towards the items that need the failed one
-- (to_id = reached item → from_id). item_relations_to held no from_id, so every step also
-- read the relation's row: 23,707 steps for the largest municipality's core switch. With
-- from_id in the index each step reads the index alone (PostgreSQL: an index-only scan,
-- the recursive part in 74 ms instead of 206 ms). It has the old index's columns first, so
-- that one goes.
CREATE INDEX item_relations_to_from ON item_relations (to_id, relation, from_id);
DROP INDEX item_relations_to;

-- Inventory lists across municipalities are sorted by municipality name first. With this
-- index PostgreSQL walks the municipalities in name order and sorts one municipality's
-- matches at a time (an incremental sort), stopping once the page is full, instead of
-- sorting every match of every municipality: the warranty list of all 50 municipalities in
-- 7 ms instead of 133 ms. SQLite 3.51's planner does not take this path (3.40's did): it
-- still sorts every match (about 100-170 ms at 200,000 items).
CREATE INDEX tenants_by_name ON tenants (name, id);
