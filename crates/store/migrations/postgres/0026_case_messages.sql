-- A case's messages with their receipts, one row each, beside the case's state
-- (`cases.state`), which no longer carries them. A command rewrites only the messages it
-- changes, so what a write costs does not grow with the case's history. States written before
-- this migration still carry their messages; they are read as they are and their messages
-- move here when the case is next written.
CREATE TABLE case_messages (
    case_id     TEXT NOT NULL REFERENCES cases(id),
    message_id  TEXT NOT NULL,
    -- The message's place in the case (the order sent).
    ord         BIGINT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (case_id, message_id)
);
