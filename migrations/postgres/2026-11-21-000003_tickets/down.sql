DROP TRIGGER ticket_events_no_truncate ON ticket_events;
DROP TRIGGER ticket_events_no_delete ON ticket_events;
DROP TRIGGER ticket_events_no_update ON ticket_events;
DROP FUNCTION ticket_events_append_only();
DROP TABLE ticket_links;
DROP TABLE ticket_events;
DROP TABLE calls;
DROP TABLE tickets;
DROP TABLE ticket_counters;
