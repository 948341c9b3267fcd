DROP INDEX regulatory_deadlines_open_due_idx;
DROP TABLE regulatory_deadlines;
DROP INDEX support_claims_status_idx;
DROP INDEX support_claims_one_per_ticket;
DROP TABLE support_claims;
DROP TABLE incident_facts;
