-- Logins under way with an identity provider: what the callback needs (the PKCE verifier and
-- the nonce), in the database so that the provider may send the browser back to any Samverka
-- process. A row is taken once (deleted as it is read) and lives at most ten minutes.
CREATE TABLE oidc_pending (
    state_hash  TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    verifier    TEXT NOT NULL,
    started_at  BIGINT NOT NULL
);
