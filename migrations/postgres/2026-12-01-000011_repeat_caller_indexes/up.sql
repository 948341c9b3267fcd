-- Repeat-caller look-up at intake (issue 12): each branch of the look-up (same member, same
-- institution, same claimed institution name in the same prefecture) is one range scan of its own
-- index, newest first, stopped after the 20 rows it returns, however many tickets the caller has.
-- The id breaks ties in the order, so the scan never needs a sort. The old single-column indexes are
-- prefixes of the new ones.
DROP INDEX tickets_member_id_idx;
DROP INDEX tickets_institution_id_idx;
DROP INDEX tickets_institution_match_prefecture_idx;
CREATE INDEX tickets_member_id_first_call_at_idx ON tickets (member_id, first_call_at, id);
CREATE INDEX tickets_institution_id_first_call_at_idx ON tickets (institution_id, first_call_at, id);
CREATE INDEX tickets_institution_match_first_call_at_idx
    ON tickets (institution_match, prefecture, first_call_at, id);
