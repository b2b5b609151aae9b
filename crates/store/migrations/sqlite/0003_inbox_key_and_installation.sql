-- Message ids are chosen by clients and unique only within a case: the inbox keys on the case too.
CREATE TABLE inbox_new (
    unit_id          TEXT NOT NULL REFERENCES units(id),
    message_id       TEXT NOT NULL,
    case_id          TEXT NOT NULL REFERENCES cases(id),
    kind             TEXT NOT NULL,
    sender_unit_id   TEXT NOT NULL,
    sent_at          INTEGER NOT NULL,
    opened_at        INTEGER,
    acknowledged_at  INTEGER,
    mis_sent         BOOLEAN NOT NULL,
    PRIMARY KEY (unit_id, case_id, message_id)
);
INSERT INTO inbox_new (unit_id, message_id, case_id, kind, sender_unit_id, sent_at, opened_at, acknowledged_at, mis_sent)
    SELECT unit_id, message_id, case_id, kind, sender_unit_id, sent_at, opened_at, acknowledged_at, mis_sent FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_new RENAME TO inbox;
CREATE INDEX inbox_unit_sent ON inbox(unit_id, sent_at);

-- Facts about the installation itself, e.g. that it holds demo data.
CREATE TABLE installation (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
