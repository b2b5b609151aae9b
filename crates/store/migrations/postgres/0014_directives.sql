-- The information channel: directives registered once, validated by a second person of the
-- owning organisation and published to their audience at once; read confirmations per
-- person. Nothing here is deleted: a directive is replaced by a new one that supersedes it,
-- or withdrawn.
CREATE TABLE directives (
    id                  TEXT PRIMARY KEY,
    organisation_id     TEXT NOT NULL REFERENCES organisations(id),
    topic               TEXT NOT NULL,
    title               TEXT NOT NULL,
    source              TEXT NOT NULL,
    source_name         TEXT NOT NULL,
    reference           TEXT NOT NULL,
    body                TEXT NOT NULL,
    valid_from          TEXT NOT NULL,
    valid_until         TEXT,
    audience            TEXT NOT NULL,
    status              TEXT NOT NULL,
    registered_by       TEXT NOT NULL REFERENCES users(id),
    registered_by_name  TEXT NOT NULL,
    registered_unit_id  TEXT NOT NULL,
    registered_at       BIGINT NOT NULL,
    decided_by_name     TEXT,
    decided_at          BIGINT,
    decision_note       TEXT NOT NULL,
    coexists            TEXT NOT NULL,
    withdrawn_at        BIGINT
);
CREATE INDEX directives_organisation ON directives(organisation_id, registered_at);
CREATE INDEX directives_status ON directives(status);

CREATE TABLE directive_supersedes (
    directive_id   TEXT NOT NULL REFERENCES directives(id),
    superseded_id  TEXT NOT NULL REFERENCES directives(id),
    PRIMARY KEY (directive_id, superseded_id)
);
CREATE INDEX directive_superseded ON directive_supersedes(superseded_id);

-- Who the directive was sent to when it was published (people with an assignment at a unit
-- of its audience), so the sender can see who has not read it.
CREATE TABLE directive_recipients (
    directive_id  TEXT NOT NULL REFERENCES directives(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    user_name     TEXT NOT NULL,
    unit_id       TEXT NOT NULL REFERENCES units(id),
    PRIMARY KEY (directive_id, user_id)
);
CREATE INDEX directive_recipients_user ON directive_recipients(user_id);

CREATE TABLE directive_reads (
    directive_id  TEXT NOT NULL REFERENCES directives(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    user_name     TEXT NOT NULL,
    unit_id       TEXT NOT NULL,
    read_at       BIGINT NOT NULL,
    PRIMARY KEY (directive_id, user_id)
);
