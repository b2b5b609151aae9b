-- The person's words get the receipts a staff message gets: delivered to the units of the
-- case at the time (as JSON: [{"id", "name"}]), opened when someone of a unit first saw them,
-- read (person_statement_reads) when a unit marked them read.
ALTER TABLE person_statements ADD COLUMN delivered_to TEXT;

CREATE TABLE person_statement_opens (
    statement_id TEXT NOT NULL REFERENCES person_statements(id),
    unit_id      TEXT NOT NULL,
    unit_name    TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (statement_id, unit_id)
);
