-- The free text of audit events (reasons, notes, summaries, receipt numbers) kept beside the event it
-- belongs to, by field name, so that retention and erasure can replace it with the marker while
-- ticket_events stays append-only. The text of events recorded before this migration is moved here (below).
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

-- Move the free text of events recorded before this migration out of their payload (the trail's
-- update trigger is disabled for it, in this migration's transaction).
ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_no_update;
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'priority_reason', ticket_id, changes::jsonb #>> '{priority_reason}' FROM ticket_events
WHERE action IN ('ticket.triaged', 'ticket.declined') AND jsonb_typeof(changes::jsonb #> '{priority_reason}') = 'string'
    AND changes::jsonb #>> '{priority_reason}' <> '';
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{priority_reason}', '""')::text
WHERE action IN ('ticket.triaged', 'ticket.declined') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'priority_reason');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'decline_reason', ticket_id, changes::jsonb #>> '{decline_reason}' FROM ticket_events
WHERE action IN ('ticket.triaged', 'ticket.declined') AND jsonb_typeof(changes::jsonb #> '{decline_reason}') = 'string'
    AND changes::jsonb #>> '{decline_reason}' <> '';
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{decline_reason}', '""')::text
WHERE action IN ('ticket.triaged', 'ticket.declined') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'decline_reason');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'resolution_summary', ticket_id, changes::jsonb #>> '{resolution_summary}' FROM ticket_events
WHERE action IN ('ticket.resolved') AND jsonb_typeof(changes::jsonb #> '{resolution_summary}') = 'string'
    AND changes::jsonb #>> '{resolution_summary}' <> '';
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{resolution_summary}', '""')::text
WHERE action IN ('ticket.resolved') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'resolution_summary');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'reopen_reason', ticket_id, changes::jsonb #>> '{reason}' FROM ticket_events
WHERE action IN ('ticket.reopened') AND jsonb_typeof(changes::jsonb #> '{reason}') = 'string'
    AND changes::jsonb #>> '{reason}' <> '';
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{reason}', '""')::text
WHERE action IN ('ticket.reopened') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'reopen_reason');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'resolution_summary', ticket_id, changes::jsonb #>> '{resolution_summary,before}' FROM ticket_events
WHERE action IN ('ticket.reopened') AND jsonb_typeof(changes::jsonb #> '{resolution_summary,before}') = 'string'
    AND changes::jsonb #>> '{resolution_summary,before}' <> '';
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{resolution_summary,before}', '""')::text
WHERE action IN ('ticket.reopened') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'resolution_summary');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'confirmation_note', ticket_id, changes::jsonb #>> '{note}' FROM ticket_events
WHERE action IN ('caller.confirmed') AND jsonb_typeof(changes::jsonb #> '{note}') = 'string'
    AND changes::jsonb #>> '{note}' <> '';
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{note}', '""')::text
WHERE action IN ('caller.confirmed') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'confirmation_note');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'referral_note', ticket_id, changes::jsonb #>> '{note}' FROM ticket_events
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND jsonb_typeof(changes::jsonb #> '{note}') = 'string'
    AND changes::jsonb #>> '{note}' <> '';
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{note}', '""')::text
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'referral_note');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'police_receipt_number', ticket_id, changes::jsonb #>> '{police_receipt_number}' FROM ticket_events
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND jsonb_typeof(changes::jsonb #> '{police_receipt_number}') = 'string'
    AND changes::jsonb #>> '{police_receipt_number}' <> '';
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{police_receipt_number}', '""')::text
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'police_receipt_number');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'rejection_reason', ticket_id, changes::jsonb #>> '{reason}' FROM ticket_events
WHERE action IN ('support_payment.paid', 'support_payment.rejected') AND jsonb_typeof(changes::jsonb #> '{reason}') = 'string'
    AND changes::jsonb #>> '{reason}' <> '';
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{reason}', '""')::text
WHERE action IN ('support_payment.paid', 'support_payment.rejected') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'rejection_reason');
ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_no_update;
