-- Every HL7 v2 message received over MLLP, stored before it is acknowledged. The raw bytes
-- never change; status and outcome record what became of the message, and an administrator
-- may process a refused one again.
CREATE TABLE hl7_messages (
    id              TEXT PRIMARY KEY,
    received_at     INTEGER NOT NULL,
    -- MSH-3 and MSH-4 ("application|facility"): control ids are unique per sender.
    sender          TEXT NOT NULL,
    control_id      TEXT,
    trigger_event   TEXT NOT NULL,
    raw             BLOB NOT NULL,
    -- received (stored, not yet processed), applied, ignored (accepted, nothing to do), refused
    status          TEXT NOT NULL,
    ack_code        TEXT,
    outcome_sv      TEXT,
    outcome_en      TEXT,
    patient_id      TEXT REFERENCES patients(id),
    case_id         TEXT REFERENCES cases(id),
    processed_at    INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX hl7_messages_control ON hl7_messages(sender, control_id) WHERE control_id IS NOT NULL;
CREATE INDEX hl7_messages_status ON hl7_messages(status, received_at);

CREATE TRIGGER hl7_messages_raw_immutable BEFORE UPDATE OF raw, received_at, sender, control_id ON hl7_messages
BEGIN
    SELECT RAISE(ABORT, 'hl7_messages: the received message cannot be changed');
END;
CREATE TRIGGER hl7_messages_no_delete BEFORE DELETE ON hl7_messages
BEGIN
    SELECT RAISE(ABORT, 'hl7_messages: received messages are kept');
END;
