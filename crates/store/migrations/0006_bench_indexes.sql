-- Indexes that drifta-bench showed missing (bench/service-desk.sh, 1,000,000 tickets).

-- The working queues (status not resolved or closed, soonest resolution due first) could not
-- use tickets_queue: "status NOT IN (...)" is no range on its second column, so every ticket
-- of each municipality in scope was read and sorted (166 ms on SQLite, 285 ms on PostgreSQL
-- for the largest municipality). This partial index holds only the active tickets (a few
-- percent), in the queue's order, so one municipality's page is read in order without a
-- sort; with id last it also covers the page's id query (Store::list_tickets), so the queue
-- across all municipalities sorts index entries instead of visiting every active ticket's
-- row (PostgreSQL: an index-only scan, 13 ms instead of 85 ms warm and 340 ms cold).
CREATE INDEX tickets_active_queue ON tickets (tenant_id, (resolution_due_at IS NULL), resolution_due_at, created_at, id)
WHERE status NOT IN ('resolved', 'closed');
