-- What a case coordinates: a discharge from hospital, or a coordination at home (a SIP without
-- a hospital stay). Every case before this was a discharge.
ALTER TABLE cases ADD COLUMN kind TEXT NOT NULL DEFAULT 'discharge';
