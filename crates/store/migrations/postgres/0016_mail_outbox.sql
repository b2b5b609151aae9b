-- E-mail waiting to go out (an escalation told to a unit's functional mailbox): written in the
-- same transaction as the escalation it tells of, sent and retried by a background task.
CREATE TABLE mail_outbox (
    id               TEXT PRIMARY KEY,
    to_address       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    sent_at          BIGINT,
    last_error       TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at) WHERE sent_at IS NULL;
