DROP INDEX referrals_requested_at_idx;
DROP INDEX calls_started_at_idx;
