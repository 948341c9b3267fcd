-- The dashboard's calls today and the summary report select calls by start and referrals by request time
-- over a range (GET /v1/dashboard, GET /v1/reports/summary).
CREATE INDEX calls_started_at_idx ON calls (started_at);
CREATE INDEX referrals_requested_at_idx ON referrals (requested_at);
