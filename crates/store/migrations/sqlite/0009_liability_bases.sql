-- Approved invoice bases (betalningsunderlag): each approval stores the basis as it stood,
-- as the next version for that municipality and month. A version never changes; a correction
-- is approved as a new version with a note saying what it corrects.
CREATE TABLE liability_bases (
    kommun            TEXT NOT NULL,
    month             INTEGER NOT NULL,
    version           INTEGER NOT NULL,
    agreement_id      TEXT NOT NULL,
    basis             TEXT NOT NULL,
    total_ore         INTEGER NOT NULL,
    approved_by       TEXT NOT NULL,
    approved_by_name  TEXT NOT NULL,
    approved_unit     TEXT NOT NULL,
    approved_at       INTEGER NOT NULL,
    note              TEXT NOT NULL,
    PRIMARY KEY (kommun, month, version)
);
CREATE TRIGGER liability_bases_no_update BEFORE UPDATE ON liability_bases
BEGIN SELECT RAISE(ABORT, 'liability_bases is append-only'); END;
CREATE TRIGGER liability_bases_no_delete BEFORE DELETE ON liability_bases
BEGIN SELECT RAISE(ABORT, 'liability_bases is append-only'); END;
