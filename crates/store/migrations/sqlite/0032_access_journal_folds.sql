-- The access log's journal (a server on an SQLite file): each generation of the journal folded
-- into access_log, recorded in the same commit as its entries so that none is folded twice.
-- Unused on PostgreSQL, kept for one schema.
CREATE TABLE access_journal_folds (
    generation  BIGINT PRIMARY KEY,
    entries     BIGINT NOT NULL,
    folded_at   BIGINT NOT NULL
);
