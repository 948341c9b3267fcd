DROP INDEX tickets_institution_match_first_call_at_idx;
DROP INDEX tickets_institution_id_first_call_at_idx;
DROP INDEX tickets_member_id_first_call_at_idx;
CREATE INDEX tickets_member_id_idx ON tickets (member_id);
CREATE INDEX tickets_institution_id_idx ON tickets (institution_id);
CREATE INDEX tickets_institution_match_prefecture_idx ON tickets (institution_match, prefecture);
