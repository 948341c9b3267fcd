-- Who read which ticket's personal data, and when (issue 11, docs/data-protection.md): one row per
-- response that showed it, written in the same transaction as the read. Purged after
-- privacy.access_log_days. Admins query it by ticket or token over a time range, newest first.
CREATE TABLE personal_data_access (
    id TEXT NOT NULL PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES api_tokens (id),
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    what TEXT NOT NULL,
    read_at TIMESTAMP NOT NULL
);
CREATE INDEX personal_data_access_read_at_idx ON personal_data_access (read_at, id);
CREATE INDEX personal_data_access_ticket_idx ON personal_data_access (ticket_id, read_at, id);
CREATE INDEX personal_data_access_token_idx ON personal_data_access (token_id, read_at, id);
-- The retention job looks for tickets closed before its cut-off.
CREATE INDEX tickets_closed_at_idx ON tickets (closed_at);
-- Notes stay append-only, except that a note's text may be replaced by the marker when a person's data is
-- erased on request (nothing else about the note may change, and no other text may be written).
DROP TRIGGER ticket_notes_no_update;
CREATE TRIGGER ticket_notes_no_update
BEFORE UPDATE ON ticket_notes
WHEN NEW.body <> '[anonymised]' OR NEW.id <> OLD.id OR NEW.ticket_id <> OLD.ticket_id
    OR NEW.created_at <> OLD.created_at OR NEW.created_by <> OLD.created_by
BEGIN
    SELECT RAISE(ABORT, 'ticket_notes is append-only');
END;
