-- Indexes that drifta-bench showed missing (bench/service-desk.sh, 1,000,000 tickets).
-- The SQLite-specific file beside this one keys the full-text documents.
SELECT 1;
