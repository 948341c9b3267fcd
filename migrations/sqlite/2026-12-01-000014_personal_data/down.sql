DROP TRIGGER ticket_notes_no_update;
CREATE TRIGGER ticket_notes_no_update
BEFORE UPDATE ON ticket_notes
BEGIN
    SELECT RAISE(ABORT, 'ticket_notes is append-only');
END;
DROP INDEX tickets_closed_at_idx;
DROP TABLE personal_data_access;
