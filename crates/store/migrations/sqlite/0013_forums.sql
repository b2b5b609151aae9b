-- Forums (status meetings, clusters, governance groups, networks): members with mandates, a
-- schedule, meetings with an agenda of raised items, minutes, action items and attendance.
-- Accesses to them are logged like accesses to patient data, with the forum object's id.
ALTER TABLE access_log ADD COLUMN object_id TEXT;

CREATE TABLE forums (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    organiser_unit_id  TEXT NOT NULL REFERENCES units(id),
    video_link         TEXT,
    first_date         TEXT NOT NULL,
    interval_weeks     INTEGER NOT NULL,
    start_minute       INTEGER NOT NULL,
    duration_minutes   INTEGER NOT NULL,
    paused             BOOLEAN NOT NULL,
    created_at         INTEGER NOT NULL
);
CREATE INDEX forums_organiser ON forums(organiser_unit_id);

CREATE TABLE forum_members (
    forum_id   TEXT NOT NULL REFERENCES forums(id),
    unit_id    TEXT NOT NULL REFERENCES units(id),
    role       TEXT NOT NULL,
    mandate    TEXT NOT NULL,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (forum_id, unit_id, role)
);
CREATE INDEX forum_members_unit ON forum_members(unit_id);

-- What changed in a forum and who changed it (schedule, members, meetings): never edited.
CREATE TABLE forum_history (
    forum_id   TEXT NOT NULL REFERENCES forums(id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    user_name  TEXT NOT NULL,
    unit_name  TEXT NOT NULL,
    change     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (forum_id, seq)
);

CREATE TABLE forum_meetings (
    id                TEXT PRIMARY KEY,
    forum_id          TEXT NOT NULL REFERENCES forums(id),
    starts_at         INTEGER NOT NULL,
    ends_at           INTEGER NOT NULL,
    status            TEXT NOT NULL,
    notes             TEXT NOT NULL,
    approved_at       INTEGER,
    approved_by_name  TEXT,
    created_at        INTEGER NOT NULL
);
CREATE INDEX forum_meetings_forum ON forum_meetings(forum_id, starts_at);

CREATE TABLE forum_items (
    id                 TEXT PRIMARY KEY,
    forum_id           TEXT NOT NULL REFERENCES forums(id),
    meeting_id         TEXT REFERENCES forum_meetings(id),
    position           INTEGER NOT NULL,
    kind               TEXT NOT NULL,
    title              TEXT NOT NULL,
    why                TEXT NOT NULL,
    affected           TEXT NOT NULL,
    ask                TEXT NOT NULL,
    raised_by          TEXT NOT NULL,
    raised_by_name     TEXT NOT NULL,
    raised_by_unit_id  TEXT NOT NULL,
    raised_at          INTEGER NOT NULL,
    note               TEXT NOT NULL,
    decision           TEXT NOT NULL
);
CREATE INDEX forum_items_forum ON forum_items(forum_id, meeting_id);

CREATE TABLE forum_actions (
    id             TEXT PRIMARY KEY,
    forum_id       TEXT NOT NULL REFERENCES forums(id),
    meeting_id     TEXT NOT NULL REFERENCES forum_meetings(id),
    item_id        TEXT REFERENCES forum_items(id),
    what           TEXT NOT NULL,
    owner_unit_id  TEXT NOT NULL REFERENCES units(id),
    owner_name     TEXT NOT NULL,
    due_date       TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX forum_actions_forum ON forum_actions(forum_id, status);

CREATE TABLE forum_attendance (
    meeting_id    TEXT NOT NULL REFERENCES forum_meetings(id),
    unit_id       TEXT NOT NULL REFERENCES units(id),
    participants  INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, unit_id)
);

-- A calendar application's subscription to a forum's meetings: a secret address per person
-- and forum (only its hash is kept), revoked by the person or when they leave the forum.
CREATE TABLE calendar_feeds (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    forum_id    TEXT NOT NULL REFERENCES forums(id),
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX calendar_feeds_user ON calendar_feeds(user_id, forum_id);
