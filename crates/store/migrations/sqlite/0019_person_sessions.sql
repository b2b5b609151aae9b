-- A person signed in to their own pages with e-legitimation: kept apart from staff sessions,
-- and reaching only the person's own pages. The personnummer is the identity the provider
-- vouched for; patient_id is that person's record, when Samverka has one.
CREATE TABLE person_sessions (
    token_hash      TEXT PRIMARY KEY,
    personnummer    TEXT NOT NULL,
    name            TEXT NOT NULL,
    patient_id      TEXT REFERENCES patients(id),
    csrf_token      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    client_address  TEXT NOT NULL
);

-- Every read a person (or, later, their representative) makes of a patient's data on the
-- person's pages, and every refusal. Append-only, like the staff access log.
CREATE TABLE person_access_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    patient_id      TEXT,
    case_id         TEXT,
    reader_name     TEXT NOT NULL,
    action          TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    client_address  TEXT
);
CREATE INDEX person_access_log_patient ON person_access_log(patient_id, at);
CREATE TRIGGER person_access_log_no_update BEFORE UPDATE ON person_access_log
BEGIN SELECT RAISE(ABORT, 'person_access_log is append-only'); END;
CREATE TRIGGER person_access_log_no_delete BEFORE DELETE ON person_access_log
WHEN OLD.at >= (SELECT COALESCE(MAX(cutoff), -9223372036854775807) FROM access_log_purges)
BEGIN SELECT RAISE(ABORT, 'person_access_log rows are kept for the retention period'); END;
