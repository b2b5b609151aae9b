-- Approved invoice bases (betalningsunderlag): each approval stores the basis as it stood,
-- as the next version for that municipality and month. A version never changes; a correction
-- is approved as a new version with a note saying what it corrects.
CREATE TABLE liability_bases (
    kommun            TEXT NOT NULL,
    month             INTEGER NOT NULL,
    version           INTEGER NOT NULL,
    agreement_id      TEXT NOT NULL,
    basis             TEXT NOT NULL,
    total_ore         BIGINT NOT NULL,
    approved_by       TEXT NOT NULL,
    approved_by_name  TEXT NOT NULL,
    approved_unit     TEXT NOT NULL,
    approved_at       BIGINT NOT NULL,
    note              TEXT NOT NULL,
    PRIMARY KEY (kommun, month, version)
);
CREATE TRIGGER liability_bases_append_only BEFORE UPDATE OR DELETE ON liability_bases
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
