DROP TABLE ticket_event_texts;
DROP FUNCTION ticket_event_texts_only_erased();
