-- The person's life story (levnadsberättelse), kept by their personnummer or
-- samordningsnummer: it can be written before Samverka has a record of them, and it follows
-- them across cases. Both tables are append-only: a new version or a new choice is a new row.
CREATE TABLE life_story_versions (
    person_number TEXT NOT NULL,
    version       BIGINT NOT NULL,
    -- JSON: each part written, by its name (`life_story::Story`).
    story         TEXT NOT NULL,
    written_at    BIGINT NOT NULL,
    -- JSON: the person, or the member of staff who wrote it with them (`life_story::Author`).
    written_by    TEXT NOT NULL,
    PRIMARY KEY (person_number, version)
);
-- Whether the person shares the story with the units that take part in their care; the last
-- row counts (two choices at once each get their own row).
CREATE TABLE life_story_sharing (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_number TEXT NOT NULL,
    shared        BOOLEAN NOT NULL,
    at            BIGINT NOT NULL,
    by_whom       TEXT NOT NULL
);
CREATE INDEX life_story_sharing_person ON life_story_sharing(person_number, id);

CREATE TRIGGER life_story_versions_append_only BEFORE UPDATE OR DELETE ON life_story_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER life_story_sharing_append_only BEFORE UPDATE OR DELETE ON life_story_sharing
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
