-- Segments are merged by the indexer in small steps of their own (Store::merge_search_index),
-- not inside whichever commit happens to cross the merge threshold. Merging sixteen
-- segments at a time instead of four writes each posting about half as often.
INSERT INTO search_fts (search_fts, rank) VALUES ('automerge', 0);
INSERT INTO search_fts (search_fts, rank) VALUES ('usermerge', 16);
