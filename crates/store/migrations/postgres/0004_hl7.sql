-- Every HL7 v2 message received over MLLP, stored before it is acknowledged. The raw bytes
-- never change; status and outcome record what became of the message, and an administrator
-- may process a refused one again.
CREATE TABLE hl7_messages (
    id              TEXT PRIMARY KEY,
    received_at     BIGINT NOT NULL,
    -- MSH-3 and MSH-4 ("application|facility"): control ids are unique per sender.
    sender          TEXT NOT NULL,
    control_id      TEXT,
    trigger_event   TEXT NOT NULL,
    raw             BYTEA NOT NULL,
    -- received (stored, not yet processed), applied, ignored (accepted, nothing to do), refused
    status          TEXT NOT NULL,
    ack_code        TEXT,
    outcome_sv      TEXT,
    outcome_en      TEXT,
    patient_id      TEXT REFERENCES patients(id),
    case_id         TEXT REFERENCES cases(id),
    processed_at    BIGINT,
    attempts        INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX hl7_messages_control ON hl7_messages(sender, control_id) WHERE control_id IS NOT NULL;
CREATE INDEX hl7_messages_status ON hl7_messages(status, received_at);

CREATE FUNCTION hl7_messages_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'hl7_messages: received messages are kept';
    END IF;
    IF NEW.raw IS DISTINCT FROM OLD.raw OR NEW.received_at <> OLD.received_at OR NEW.sender <> OLD.sender
       OR NEW.control_id IS DISTINCT FROM OLD.control_id THEN
        RAISE EXCEPTION 'hl7_messages: the received message cannot be changed';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER hl7_messages_guard BEFORE UPDATE OR DELETE ON hl7_messages
    FOR EACH ROW EXECUTE FUNCTION hl7_messages_guard();
