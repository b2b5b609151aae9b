-- What a person (or their representative) says in their own case, in their own words: what
-- matters before the SIP meeting, whether they take part, a question to the coordinator.
-- Append-only: a new statement supersedes, nothing is edited.
CREATE TABLE person_statements (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    patient_id  TEXT NOT NULL REFERENCES patients(id),
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    by_name     TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX person_statements_case ON person_statements(case_id, at);

-- A unit of the case has read a statement (the person sees who and when).
CREATE TABLE person_statement_reads (
    statement_id TEXT NOT NULL REFERENCES person_statements(id),
    unit_id      TEXT NOT NULL,
    unit_name    TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (statement_id, unit_id)
);
