-- The free text of audit events (reasons, notes, summaries, receipt numbers) kept beside the event it
-- belongs to, by field name, so that retention and erasure can replace it with the marker while
-- ticket_events stays append-only. Events recorded before this migration keep their text inline.
CREATE TABLE ticket_event_texts (
    event_id TEXT NOT NULL REFERENCES ticket_events (id),
    field TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (event_id, field)
);
CREATE INDEX ticket_event_texts_ticket_id_idx ON ticket_event_texts (ticket_id);
-- Append-only, except that a text may be replaced by the marker (nothing else may change; TRUNCATE
-- too is refused, which row triggers do not see).
CREATE FUNCTION ticket_event_texts_only_erased() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.body <> '[anonymised]' OR NEW.event_id <> OLD.event_id
        OR NEW.field <> OLD.field OR NEW.ticket_id <> OLD.ticket_id THEN
        RAISE EXCEPTION 'ticket_event_texts is append-only';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER ticket_event_texts_no_update
BEFORE UPDATE ON ticket_event_texts
FOR EACH ROW EXECUTE FUNCTION ticket_event_texts_only_erased();
CREATE TRIGGER ticket_event_texts_no_delete
BEFORE DELETE ON ticket_event_texts
FOR EACH ROW EXECUTE FUNCTION ticket_event_texts_only_erased();
CREATE TRIGGER ticket_event_texts_no_truncate
BEFORE TRUNCATE ON ticket_event_texts
FOR EACH STATEMENT EXECUTE FUNCTION ticket_event_texts_only_erased();
