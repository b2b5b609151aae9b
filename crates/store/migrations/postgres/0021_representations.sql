-- Who may follow the person on their own pages: a god man, förvaltare or ombud with fullmakt
-- registered by staff, or a närstående the person invited. `body` is the representation as
-- set up (never changed); `ended` is written once, when it ends. Nothing is deleted.
CREATE TABLE representations (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id),
    personnummer    TEXT NOT NULL,
    body            TEXT NOT NULL,
    granted_at      BIGINT NOT NULL,
    ended           TEXT
);
CREATE INDEX representations_patient ON representations(patient_id);
CREATE INDEX representations_representative ON representations(personnummer);

-- A representative's reads on the person's pages are in the person's log, marked as theirs,
-- so the person's log extract can name them.
ALTER TABLE person_access_log ADD COLUMN representation_id TEXT;
