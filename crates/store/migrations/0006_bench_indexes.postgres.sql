-- Nothing PostgreSQL-specific: search_documents already has its key as primary key.
SELECT 1;
