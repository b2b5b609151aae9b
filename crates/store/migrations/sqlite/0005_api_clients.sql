-- Other systems (a municipality's case-management system, an integration engine) that use the
-- FHIR API. Each acts through an account of its own (users, without password) and one
-- assignment, exactly like a person: the same roles, need-to-know and access log. Only hashes
-- of the client secret and of the access tokens are stored.
CREATE TABLE api_clients (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id),
    assignment_id   TEXT NOT NULL REFERENCES assignments(id),
    secret_hash     TEXT NOT NULL,
    -- Space-separated SMART scopes the client may be granted, e.g. "system/Patient.read".
    scopes          TEXT NOT NULL,
    active          BOOLEAN NOT NULL,
    created_at      INTEGER NOT NULL,
    created_by      TEXT
);

CREATE TABLE api_tokens (
    token_hash      TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES api_clients(id),
    scopes          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX api_tokens_client ON api_tokens(client_id);
