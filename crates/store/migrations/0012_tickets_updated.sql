-- Every ticket change stamps updated_at past the municipality's latest (Tx::ticket_stamp), and
-- the live queues poll the same maximum. Without this index both read every ticket of the
-- municipality: 124,000 rows per change in the largest one of drifta-bench's million tickets,
-- inside SQLite's single write transaction.
CREATE INDEX tickets_updated ON tickets (tenant_id, updated_at);
