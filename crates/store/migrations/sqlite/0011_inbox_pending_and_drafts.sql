-- Whether the message's case is still open, kept on each inbox row, so "what the unit has yet
-- to acknowledge" is read from a small partial index without visiting years of closed cases.
ALTER TABLE inbox ADD COLUMN case_open BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE inbox SET case_open = FALSE WHERE case_id IN (SELECT id FROM cases WHERE phase IN ('closed', 'cancelled'));
CREATE INDEX inbox_unit_pending ON inbox(unit_id, sent_at) WHERE acknowledged_at IS NULL AND NOT mis_sent AND case_open;
-- A ward's drafts from the admission feed.
CREATE INDEX cases_ward_phase ON cases(ward_id, phase);
