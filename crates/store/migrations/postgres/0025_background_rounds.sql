-- When each kind of background work (the escalation sweep, the e-mail outbox, the person's
-- notices, FHIR subscription deliveries) last finished a round. With several processes on one
-- database, a process does a round only when it holds the work's lock and the last round is
-- old enough, so the work is done once, whichever process does it.
CREATE TABLE background_rounds (
    job         TEXT PRIMARY KEY,
    finished_at BIGINT NOT NULL
);
