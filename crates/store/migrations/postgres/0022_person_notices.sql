-- A person who asked to be told by e-mail when something new waits on their pages. The mail
-- says only that, never a health detail. Taking the choice back removes the address.
CREATE TABLE person_notices (
    patient_id      TEXT PRIMARY KEY REFERENCES patients(id),
    email           TEXT NOT NULL,
    lang            TEXT NOT NULL,
    opted_in_at     BIGINT NOT NULL,
    last_mailed_at  BIGINT
);

-- What the person last saw of each case (or was told of by mail), as a key of what their
-- pages show; a case whose key has changed has something new.
CREATE TABLE person_seen (
    patient_id  TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    seen_key    TEXT NOT NULL,
    PRIMARY KEY (patient_id, case_id)
);
