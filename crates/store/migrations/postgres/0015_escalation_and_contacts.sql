-- Escalation of unacknowledged messages: each receiving unit's rule, and every escalation
-- made (the case has it as an event too; this is the leaders' list and the sweep's memory).
CREATE TABLE escalation_rules (
    unit_id               TEXT PRIMARY KEY REFERENCES units(id),
    backup_after_minutes  INTEGER NOT NULL,
    backup_unit_id        TEXT NOT NULL REFERENCES units(id),
    leader_after_minutes  INTEGER,
    leader_unit_id        TEXT REFERENCES units(id),
    updated_at            BIGINT NOT NULL,
    updated_by_name       TEXT NOT NULL
);

CREATE TABLE escalations (
    message_id      TEXT NOT NULL,
    from_unit_id    TEXT NOT NULL REFERENCES units(id),
    level           TEXT NOT NULL,
    case_id         TEXT NOT NULL REFERENCES cases(id),
    to_unit_id      TEXT NOT NULL REFERENCES units(id),
    message_kind    TEXT NOT NULL,
    sender_unit_id  TEXT NOT NULL,
    sent_at         BIGINT NOT NULL,
    after_minutes   INTEGER NOT NULL,
    escalated_at    BIGINT NOT NULL,
    PRIMARY KEY (message_id, from_unit_id, level)
);
CREATE INDEX escalations_to ON escalations(to_unit_id, escalated_at);

-- Units' named contacts (who does what), and when the unit last confirmed its entry.
CREATE TABLE unit_contacts (
    unit_id   TEXT NOT NULL REFERENCES units(id),
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    function  TEXT NOT NULL,
    phone     TEXT NOT NULL,
    email     TEXT NOT NULL,
    PRIMARY KEY (unit_id, position)
);
ALTER TABLE units ADD COLUMN contacts_confirmed_at BIGINT;
ALTER TABLE units ADD COLUMN contacts_confirmed_by TEXT;
