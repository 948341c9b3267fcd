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
-- Append-only, except that a text may be replaced by the marker (nothing else may change).
CREATE TRIGGER ticket_event_texts_no_update
BEFORE UPDATE ON ticket_event_texts
WHEN NEW.body <> '[anonymised]' OR NEW.event_id <> OLD.event_id OR NEW.field <> OLD.field
    OR NEW.ticket_id <> OLD.ticket_id
BEGIN
    SELECT RAISE(ABORT, 'ticket_event_texts is append-only');
END;
CREATE TRIGGER ticket_event_texts_no_delete
BEFORE DELETE ON ticket_event_texts
BEGIN
    SELECT RAISE(ABORT, 'ticket_event_texts is append-only');
END;

-- Move the free text of events recorded before this migration out of their payload (the trail's
-- update trigger is dropped for it and recreated as it was, in this migration's transaction).
DROP TRIGGER ticket_events_no_update;
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'priority_reason', ticket_id, json_extract(changes, '$.priority_reason') FROM ticket_events
WHERE action IN ('ticket.triaged', 'ticket.declined') AND json_type(changes, '$.priority_reason') = 'text' AND json_extract(changes, '$.priority_reason') <> '';
UPDATE ticket_events SET changes = json_set(changes, '$.priority_reason', '')
WHERE action IN ('ticket.triaged', 'ticket.declined') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'priority_reason');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'decline_reason', ticket_id, json_extract(changes, '$.decline_reason') FROM ticket_events
WHERE action IN ('ticket.triaged', 'ticket.declined') AND json_type(changes, '$.decline_reason') = 'text' AND json_extract(changes, '$.decline_reason') <> '';
UPDATE ticket_events SET changes = json_set(changes, '$.decline_reason', '')
WHERE action IN ('ticket.triaged', 'ticket.declined') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'decline_reason');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'resolution_summary', ticket_id, json_extract(changes, '$.resolution_summary') FROM ticket_events
WHERE action IN ('ticket.resolved') AND json_type(changes, '$.resolution_summary') = 'text' AND json_extract(changes, '$.resolution_summary') <> '';
UPDATE ticket_events SET changes = json_set(changes, '$.resolution_summary', '')
WHERE action IN ('ticket.resolved') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'resolution_summary');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'reopen_reason', ticket_id, json_extract(changes, '$.reason') FROM ticket_events
WHERE action IN ('ticket.reopened') AND json_type(changes, '$.reason') = 'text' AND json_extract(changes, '$.reason') <> '';
UPDATE ticket_events SET changes = json_set(changes, '$.reason', '')
WHERE action IN ('ticket.reopened') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'reopen_reason');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'resolution_summary', ticket_id, json_extract(changes, '$.resolution_summary.before') FROM ticket_events
WHERE action IN ('ticket.reopened') AND json_type(changes, '$.resolution_summary.before') = 'text' AND json_extract(changes, '$.resolution_summary.before') <> '';
UPDATE ticket_events SET changes = json_set(changes, '$.resolution_summary.before', '')
WHERE action IN ('ticket.reopened') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'resolution_summary');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'confirmation_note', ticket_id, json_extract(changes, '$.note') FROM ticket_events
WHERE action IN ('caller.confirmed') AND json_type(changes, '$.note') = 'text' AND json_extract(changes, '$.note') <> '';
UPDATE ticket_events SET changes = json_set(changes, '$.note', '')
WHERE action IN ('caller.confirmed') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'confirmation_note');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'referral_note', ticket_id, json_extract(changes, '$.note') FROM ticket_events
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND json_type(changes, '$.note') = 'text' AND json_extract(changes, '$.note') <> '';
UPDATE ticket_events SET changes = json_set(changes, '$.note', '')
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'referral_note');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'police_receipt_number', ticket_id, json_extract(changes, '$.police_receipt_number') FROM ticket_events
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND json_type(changes, '$.police_receipt_number') = 'text' AND json_extract(changes, '$.police_receipt_number') <> '';
UPDATE ticket_events SET changes = json_set(changes, '$.police_receipt_number', '')
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'police_receipt_number');
INSERT INTO ticket_event_texts (event_id, field, ticket_id, body)
SELECT id, 'rejection_reason', ticket_id, json_extract(changes, '$.reason') FROM ticket_events
WHERE action IN ('support_payment.paid', 'support_payment.rejected') AND json_type(changes, '$.reason') = 'text' AND json_extract(changes, '$.reason') <> '';
UPDATE ticket_events SET changes = json_set(changes, '$.reason', '')
WHERE action IN ('support_payment.paid', 'support_payment.rejected') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'rejection_reason');
CREATE TRIGGER ticket_events_no_update
BEFORE UPDATE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;
