DROP INDEX calls_verification_idx;
DROP INDEX referrals_kind_status_idx;
DROP INDEX ticket_triage_incident_kind_idx;
DROP INDEX tickets_prefecture_created_at_idx;
DROP INDEX tickets_status_created_at_idx;
DROP INDEX tickets_updated_at_id_idx;
DROP INDEX tickets_created_at_id_idx;
ALTER TABLE tickets DROP COLUMN search_text;
