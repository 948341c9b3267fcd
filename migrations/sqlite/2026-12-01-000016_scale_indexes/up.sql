-- Indexes found by the scale benchmark (docs/benchmarks.md, issue 10) at 1,000,000 tickets:
-- a caller's or an institution's history in created order without sorting its tickets;
-- open tickets of some statuses in a prefecture;
-- the dashboard's open tickets by status, priority and assignment, and their SLA clocks, from the index alone.
CREATE INDEX tickets_member_created_idx ON tickets (member_id, created_at, id);
CREATE INDEX tickets_institution_created_idx ON tickets (institution_id, created_at, id);
CREATE INDEX tickets_status_prefecture_created_idx ON tickets (status, prefecture, created_at, id);
CREATE INDEX tickets_open_clocks_idx
    ON tickets (status, priority, assignee_token_id, first_call_at, first_response_at, resolved_at);
