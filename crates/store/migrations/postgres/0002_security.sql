-- Accounts, assignments (medarbetaruppdrag), sessions, login throttling and the access log.

ALTER TABLE users ADD COLUMN organisation_id TEXT REFERENCES organisations(id);
ALTER TABLE users ADD COLUMN username TEXT;
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN password_must_change BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_confirmed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
ALTER TABLE users ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
CREATE UNIQUE INDEX users_username ON users(username);
CREATE UNIQUE INDEX users_oidc ON users(oidc_issuer, oidc_subject);

CREATE TABLE assignments (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    unit_id     TEXT NOT NULL REFERENCES units(id),
    role        TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT
);
CREATE INDEX assignments_user ON assignments(user_id);

-- Only a hash of the session token is stored: a copy of the database opens no session.
CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id),
    stage           TEXT NOT NULL,
    assignment_id   TEXT REFERENCES assignments(id),
    csrf_token      TEXT NOT NULL,
    oidc_state      TEXT,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    client_address  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Failed logins, per account and per client address, for throttling and temporary lock-out.
CREATE TABLE login_failures (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL,
    client_address  TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures(username, at);
CREATE INDEX login_failures_address ON login_failures(client_address, at);

-- Emergency access (nödåtkomst) outside need-to-know: reason required, time-limited.
CREATE TABLE emergency_grants (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    unit_id     TEXT NOT NULL REFERENCES units(id),
    case_id     TEXT NOT NULL REFERENCES cases(id),
    reason      TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX emergency_grants_user_case ON emergency_grants(user_id, case_id);

-- One row per access to patient data (Patientdatalagen; HSLF-FS 2016:40 4 kap 9 §).
CREATE TABLE access_log (
    id                BIGSERIAL PRIMARY KEY,
    at                BIGINT NOT NULL,
    user_id           TEXT NOT NULL,
    user_name         TEXT NOT NULL,
    assignment_id     TEXT,
    role              TEXT,
    unit_id           TEXT NOT NULL,
    unit_name         TEXT NOT NULL,
    organisation_id   TEXT NOT NULL,
    patient_id        TEXT,
    case_id           TEXT,
    action            TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    emergency         BOOLEAN NOT NULL,
    reason            TEXT,
    protected_identity BOOLEAN NOT NULL,
    client_address    TEXT
);
CREATE INDEX access_log_patient ON access_log(patient_id, at);
CREATE INDEX access_log_user ON access_log(user_id, at);
CREATE INDEX access_log_unit ON access_log(unit_id, at);
CREATE INDEX access_log_org_at ON access_log(organisation_id, at);

-- Rows may go only once older than the retention cut-off recorded by `samverka purge-access-log`.
CREATE TABLE access_log_purges (
    id          BIGSERIAL PRIMARY KEY,
    cutoff      BIGINT NOT NULL,
    purged_at   BIGINT NOT NULL
);
CREATE FUNCTION access_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'access_log is append-only';
    END IF;
    IF OLD.at >= (SELECT COALESCE(MAX(cutoff), -9223372036854775807) FROM access_log_purges) THEN
        RAISE EXCEPTION 'access_log rows are kept for the retention period';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_guard();
