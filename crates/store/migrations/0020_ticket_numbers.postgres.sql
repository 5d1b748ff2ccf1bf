-- Every create took the one ticket_counter row with UPDATE and held its lock to the end of
-- its transaction, so concurrent creates queued behind each other (create p99 12-22 ms at
-- 200 creates/s in drifta-bench). nextval() takes a number without a lock held to commit.
-- A rolled-back create leaves a gap in the numbers, as most service desks' numbers do.
CREATE SEQUENCE ticket_number_seq AS BIGINT;
SELECT setval('ticket_number_seq', (SELECT next FROM ticket_counter WHERE id = 1), false);
-- The counter stays for SQLite; on PostgreSQL nothing reads it any more, so a stale value
-- cannot be mistaken for the next number: it is removed here.
DELETE FROM ticket_counter;
