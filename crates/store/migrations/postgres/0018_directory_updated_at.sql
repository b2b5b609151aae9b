-- When what the directory shows of an organisation, unit, user or assignment last changed
-- (FHIR's meta.lastUpdated and _lastUpdated); NULL: unchanged since created_at.
ALTER TABLE organisations ADD COLUMN updated_at BIGINT;
ALTER TABLE units ADD COLUMN updated_at BIGINT;
ALTER TABLE users ADD COLUMN updated_at BIGINT;
ALTER TABLE assignments ADD COLUMN updated_at BIGINT;
