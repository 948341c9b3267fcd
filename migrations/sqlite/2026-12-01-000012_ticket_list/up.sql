-- The supervisors' ticket list (issue 10): keyset pages in every sort order (the id breaks ties, so
-- each page is one range scan of an index), the common filters, and the free-text column `q` searches.
-- `search_text` holds the reference, the summary and the institution's names (registry and as claimed),
-- each NFKC-normalised, white space collapsed and lower-cased, one per line; intake writes it. Tickets
-- older than this migration get their text lower-cased here without NFKC (SQL has no NFKC; on SQLite
-- lower() folds ASCII only).
ALTER TABLE tickets ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE tickets SET search_text = lower(reference || char(10) || summary || char(10) || COALESCE(
    (SELECT c.claimed_institution_name FROM calls c WHERE c.ticket_id = tickets.id AND NOT c.follow_up
     ORDER BY c.started_at LIMIT 1), '') || char(10) || COALESCE(
    (SELECT i.name FROM institutions i WHERE i.id = tickets.institution_id), ''));
CREATE INDEX tickets_created_at_id_idx ON tickets (created_at, id);
CREATE INDEX tickets_updated_at_id_idx ON tickets (updated_at, id);
CREATE INDEX tickets_status_created_at_idx ON tickets (status, created_at, id);
CREATE INDEX tickets_prefecture_created_at_idx ON tickets (prefecture, created_at, id);
CREATE INDEX ticket_triage_incident_kind_idx ON ticket_triage (incident_kind);
CREATE INDEX referrals_kind_status_idx ON referrals (kind, status, ticket_id);
CREATE INDEX calls_verification_idx ON calls (verification, follow_up, ticket_id);
