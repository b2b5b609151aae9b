-- FHIR Subscriptions (rest-hook): a client's standing request to be told, by an HTTP POST to
-- its own endpoint, when a message arrives for its unit. The cursor says how far through the
-- unit's inbox the subscription has been read, so a restart misses nothing and sends nothing
-- twice; each notification is a delivery row, retried with growing pauses until it succeeds.
CREATE TABLE fhir_subscriptions (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES api_clients(id),
    unit_id         TEXT NOT NULL REFERENCES units(id),
    criteria        TEXT NOT NULL,
    -- Only messages of this kind (empty: all).
    kind            TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    -- JSON array of "Name: value" headers to send with each notification.
    headers         TEXT NOT NULL,
    -- HMAC-SHA256 key for the X-Samverka-Signature header.
    secret          TEXT NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT,
    cursor_at       INTEGER NOT NULL,
    cursor_message  TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE fhir_deliveries (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES fhir_subscriptions(id),
    case_id         TEXT NOT NULL REFERENCES cases(id),
    message_id      TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_at         INTEGER NOT NULL,
    last_error      TEXT,
    delivered_at    INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (subscription_id, case_id, message_id)
);
CREATE INDEX fhir_deliveries_due ON fhir_deliveries(status, next_at);
