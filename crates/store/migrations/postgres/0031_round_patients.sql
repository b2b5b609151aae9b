-- The persons a unit put on a joint round's list (gemensam rond), beside those with a SIP in
-- force who are on it anyway. A person drops off when their case closes.
CREATE TABLE round_patients (
    forum_id           TEXT NOT NULL REFERENCES forums(id),
    case_id            TEXT NOT NULL REFERENCES cases(id),
    listed_by_unit_id  TEXT NOT NULL REFERENCES units(id),
    listed_by_name     TEXT NOT NULL,
    listed_at          BIGINT NOT NULL,
    PRIMARY KEY (forum_id, case_id)
);
