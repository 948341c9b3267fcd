-- Put the texts back into their events' payload.
ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_no_update;
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{priority_reason}', to_jsonb((SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'priority_reason')))::text
WHERE action IN ('ticket.triaged', 'ticket.declined') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'priority_reason');
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{decline_reason}', to_jsonb((SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'decline_reason')))::text
WHERE action IN ('ticket.triaged', 'ticket.declined') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'decline_reason');
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{resolution_summary}', to_jsonb((SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'resolution_summary')))::text
WHERE action IN ('ticket.resolved') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'resolution_summary');
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{reason}', to_jsonb((SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'reopen_reason')))::text
WHERE action IN ('ticket.reopened') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'reopen_reason');
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{resolution_summary,before}', to_jsonb((SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'resolution_summary')))::text
WHERE action IN ('ticket.reopened') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'resolution_summary');
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{note}', to_jsonb((SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'confirmation_note')))::text
WHERE action IN ('caller.confirmed') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'confirmation_note');
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{note}', to_jsonb((SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'referral_note')))::text
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'referral_note');
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{police_receipt_number}', to_jsonb((SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'police_receipt_number')))::text
WHERE action IN ('referral.accepted', 'referral.completed', 'referral.declined', 'referral.cancelled') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'police_receipt_number');
UPDATE ticket_events SET changes = jsonb_set(changes::jsonb, '{reason}', to_jsonb((SELECT body FROM ticket_event_texts t WHERE t.event_id = ticket_events.id AND t.field = 'rejection_reason')))::text
WHERE action IN ('support_payment.paid', 'support_payment.rejected') AND id IN (SELECT event_id FROM ticket_event_texts WHERE field = 'rejection_reason');
ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_no_update;
DROP TABLE ticket_event_texts;
DROP FUNCTION ticket_event_texts_only_erased();
