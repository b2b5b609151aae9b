-- Message ids are chosen by clients and unique only within a case: the inbox keys on the case too.
ALTER TABLE inbox DROP CONSTRAINT inbox_pkey;
ALTER TABLE inbox ADD PRIMARY KEY (unit_id, case_id, message_id);

-- Facts about the installation itself, e.g. that it holds demo data.
CREATE TABLE installation (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
