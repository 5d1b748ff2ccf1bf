-- Full-text search documents live in backend-specific structures (see the two files beside
-- this one): SQLite FTS5 with the trigram tokenizer, PostgreSQL pg_trgm. Both find partial
-- words and keep æ, ø and å, which no Norwegian or Danish stemmer in SQLite would.
SELECT 1;
