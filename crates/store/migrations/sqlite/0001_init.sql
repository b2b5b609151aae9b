-- Samverka schema, SQLite. Times are microseconds since the Unix epoch (UTC); ids are UUID text.
-- The case history (case_events) is the truth and is append-only; the other case tables are
-- projections rebuilt from it in the same transaction as every append.

CREATE TABLE organisations (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    region_code   TEXT,
    kommunkod     TEXT UNIQUE,
    hsa_id        TEXT UNIQUE,
    acts_for      TEXT,
    agreement_id  TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE units (
    id                     TEXT PRIMARY KEY,
    organisation_id        TEXT NOT NULL REFERENCES organisations(id),
    kind                   TEXT NOT NULL,
    name                   TEXT NOT NULL,
    hsa_id                 TEXT NOT NULL UNIQUE,
    care_type              TEXT NOT NULL,
    receives_for_kommun    TEXT,
    phone                  TEXT,
    functional_mailbox     TEXT,
    opening_hours          TEXT,
    evening_weekend_cover  TEXT,
    backup_unit_id         TEXT REFERENCES units(id),
    created_at             INTEGER NOT NULL
);
CREATE INDEX units_receives_for_kommun ON units(receives_for_kommun);

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    hsa_id      TEXT UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE patients (
    id              TEXT PRIMARY KEY,
    id_kind         TEXT NOT NULL,
    identifier      TEXT NOT NULL UNIQUE,
    given_name      TEXT NOT NULL,
    family_name     TEXT NOT NULL,
    kommunkod       TEXT NOT NULL,
    listed_unit_id  TEXT REFERENCES units(id),
    protection      TEXT NOT NULL,
    street          TEXT,
    postal_code     TEXT,
    city            TEXT,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Every version of a patient record: corrections are appended, never made in place.
CREATE TABLE patient_revisions (
    patient_id  TEXT NOT NULL REFERENCES patients(id),
    version     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    user_id     TEXT NOT NULL,
    unit_id     TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (patient_id, version)
);

CREATE TABLE cases (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id),
    agreement_id    TEXT NOT NULL,
    kommunkod       TEXT NOT NULL,
    ward_id         TEXT NOT NULL REFERENCES units(id),
    phase           TEXT NOT NULL,
    version         INTEGER NOT NULL,
    admitted_at     INTEGER NOT NULL,
    first_ready_at  INTEGER,
    discharged_at   INTEGER,
    updated_at      INTEGER NOT NULL,
    state           TEXT NOT NULL
);
CREATE INDEX cases_patient ON cases(patient_id);
CREATE INDEX cases_kommun_ready ON cases(kommunkod, first_ready_at);

CREATE TABLE case_events (
    case_id  TEXT NOT NULL REFERENCES cases(id),
    seq      INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    user_id  TEXT NOT NULL,
    unit_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    data     TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER patient_revisions_no_update BEFORE UPDATE ON patient_revisions
BEGIN SELECT RAISE(ABORT, 'patient_revisions is append-only'); END;
CREATE TRIGGER patient_revisions_no_delete BEFORE DELETE ON patient_revisions
BEGIN SELECT RAISE(ABORT, 'patient_revisions is append-only'); END;

CREATE TABLE case_parties (
    case_id  TEXT NOT NULL REFERENCES cases(id),
    unit_id  TEXT NOT NULL REFERENCES units(id),
    since    INTEGER NOT NULL,
    PRIMARY KEY (case_id, unit_id)
);
CREATE INDEX case_parties_unit ON case_parties(unit_id);

CREATE TABLE case_deadlines (
    case_id        TEXT NOT NULL REFERENCES cases(id),
    kind           TEXT NOT NULL,
    owner_unit_id  TEXT,
    due_at         INTEGER NOT NULL,
    met_at         INTEGER,
    estimated      BOOLEAN NOT NULL,
    PRIMARY KEY (case_id, kind)
);
CREATE INDEX case_deadlines_owner_due ON case_deadlines(owner_unit_id, due_at);

CREATE TABLE inbox (
    unit_id          TEXT NOT NULL REFERENCES units(id),
    message_id       TEXT NOT NULL,
    case_id          TEXT NOT NULL REFERENCES cases(id),
    kind             TEXT NOT NULL,
    sender_unit_id   TEXT NOT NULL,
    sent_at          INTEGER NOT NULL,
    opened_at        INTEGER,
    acknowledged_at  INTEGER,
    mis_sent         BOOLEAN NOT NULL,
    PRIMARY KEY (unit_id, message_id)
);
CREATE INDEX inbox_unit_sent ON inbox(unit_id, sent_at);
