DROP TRIGGER ticket_events_no_delete;
DROP TRIGGER ticket_events_no_update;
DROP TABLE ticket_links;
DROP TABLE ticket_events;
DROP TABLE calls;
DROP TABLE tickets;
DROP TABLE ticket_counters;
