-- Follow-up: the wards' hospital and beds, each case's contribution to the indicators, and
-- the indicators' sums per month, kept up to date in the same transaction as the case.

-- For wards: the hospital (sjukhus) they belong to and their beds (vårdplatser).
ALTER TABLE units ADD COLUMN hospital TEXT;
ALTER TABLE units ADD COLUMN beds BIGINT;

-- One row per case once its projections are written; facts is the JSON of what the case
-- contributes (NULL while it contributes nothing), acks its acknowledgement counts.
CREATE TABLE case_followup (
    case_id  TEXT PRIMARY KEY REFERENCES cases(id),
    facts    TEXT,
    acks     TEXT NOT NULL
);

-- Sums of case contributions by month of discharge. dim is kommun, hospital, ward or
-- vardcentral; a region's and the country's figures are sums of the kommun rows.
CREATE TABLE followup_months (
    dim                       TEXT NOT NULL,
    key                       TEXT NOT NULL,
    month                     INTEGER NOT NULL,
    care_type                 TEXT NOT NULL,
    episodes                  BIGINT NOT NULL,
    ready_episodes            BIGINT NOT NULL,
    ready_episodes_with_days  BIGINT NOT NULL,
    ready_days                BIGINT NOT NULL,
    bed_days                  BIGINT NOT NULL,
    notices_due               BIGINT NOT NULL,
    notices_in_time           BIGINT NOT NULL,
    fast_contact_due          BIGINT NOT NULL,
    fast_contact_named        BIGINT NOT NULL,
    sip_needed                BIGINT NOT NULL,
    sip_called_in_time        BIGINT NOT NULL,
    sip_held                  BIGINT NOT NULL,
    weekend_discharges        BIGINT NOT NULL,
    PRIMARY KEY (dim, key, month, care_type)
);
CREATE INDEX followup_months_month ON followup_months(dim, month);

-- Acknowledgement of notices, per receiving unit and month sent.
CREATE TABLE ack_months (
    unit_id       TEXT NOT NULL,
    month         INTEGER NOT NULL,
    notices       BIGINT NOT NULL,
    acknowledged  BIGINT NOT NULL,
    minutes       BIGINT NOT NULL,
    within_day    BIGINT NOT NULL,
    PRIMARY KEY (unit_id, month)
);

-- Residents 65 and over per municipality and year (loaded from SCB's figures as CSV).
CREATE TABLE population (
    kommun             TEXT NOT NULL,
    year               INTEGER NOT NULL,
    residents_65_plus  BIGINT NOT NULL,
    PRIMARY KEY (kommun, year)
);
