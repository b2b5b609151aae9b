-- Which case a consent was recorded in, so a consent can be found by its id alone (FHIR
-- `Consent/<id>`). Written with the case's other projections; filled here from the history.
CREATE TABLE case_consents (
    consent_id  TEXT NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    PRIMARY KEY (consent_id, case_id)
);

INSERT INTO case_consents (consent_id, case_id)
SELECT DISTINCT json_extract(data, '$.event.consent_id'), case_id
FROM case_events WHERE kind = 'consent_recorded';
