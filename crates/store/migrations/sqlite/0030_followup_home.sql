-- Follow-up of coordinations at home: the coordinations, the SIPs drawn up in them, and those
-- followed up (in time by the plan's date). Sums from before count none.
ALTER TABLE followup_months ADD COLUMN home_coordinations BIGINT NOT NULL DEFAULT 0;
ALTER TABLE followup_months ADD COLUMN home_sips BIGINT NOT NULL DEFAULT 0;
ALTER TABLE followup_months ADD COLUMN home_followed_up BIGINT NOT NULL DEFAULT 0;
ALTER TABLE followup_months ADD COLUMN home_followed_up_in_time BIGINT NOT NULL DEFAULT 0;
