DROP TRIGGER ticket_notes_no_update ON ticket_notes;
CREATE TRIGGER ticket_notes_no_update
BEFORE UPDATE ON ticket_notes
FOR EACH ROW EXECUTE FUNCTION ticket_notes_append_only();
DROP FUNCTION ticket_notes_only_erased();
DROP INDEX tickets_closed_at_idx;
DROP TABLE personal_data_access;
