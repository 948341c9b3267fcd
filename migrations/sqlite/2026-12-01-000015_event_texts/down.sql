-- Put the texts back into their events' payload.
DROP TRIGGER ticket_events_no_update;
UPDATE ticket_events SET changes = json_set(changes, '$.priority_reason', (SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'priority_reason'))
WHERE action IN ('ticket.triaged', 'ticket.declined') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'priority_reason');
UPDATE ticket_events SET changes = json_set(changes, '$.decline_reason', (SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'decline_reason'))
WHERE action IN ('ticket.triaged', 'ticket.declined') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'decline_reason');
UPDATE ticket_events SET changes = json_set(changes, '$.resolution_summary', (SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'resolution_summary'))
WHERE action IN ('ticket.resolved') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'resolution_summary');
UPDATE ticket_events SET changes = json_set(changes, '$.reason', (SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'reopen_reason'))
WHERE action IN ('ticket.reopened') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'reopen_reason');
UPDATE ticket_events SET changes = json_set(changes, '$.resolution_summary.before', (SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'resolution_summary'))
WHERE action IN ('ticket.reopened') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'resolution_summary');
UPDATE ticket_events SET changes = json_set(changes, '$.note', (SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'confirmation_note'))
WHERE action IN ('caller.confirmed') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'confirmation_note');
UPDATE ticket_events SET changes = json_set(changes, '$.note', (SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'referral_note'))
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'referral_note');
UPDATE ticket_events SET changes = json_set(changes, '$.police_receipt_number', (SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'police_receipt_number'))
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'police_receipt_number');
UPDATE ticket_events SET changes = json_set(changes, '$.reason', (SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'rejection_reason'))
WHERE action IN ('support_payment.paid', 'support_payment.rejected') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'rejection_reason');
CREATE TRIGGER ticket_events_no_update
BEFORE UPDATE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;
DROP TRIGGER ticket_event_texts_no_delete;
DROP TRIGGER ticket_event_texts_no_update;
DROP INDEX ticket_event_texts_ticket_id_idx;
DROP TABLE ticket_event_texts;
