-- Follow-up counts of screening: episodes of persons 65 or older who needed a SIP, and of
-- those, the ones with a frailty screening recorded. Sums from before count none of either.
ALTER TABLE followup_months ADD COLUMN older_in_coordination BIGINT NOT NULL DEFAULT 0;
ALTER TABLE followup_months ADD COLUMN older_screened BIGINT NOT NULL DEFAULT 0;
