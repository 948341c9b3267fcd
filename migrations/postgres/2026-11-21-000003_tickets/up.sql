-- Incident tickets: gap-free yearly references, calls, an append-only event log and links.
CREATE TABLE ticket_counters (
    year INTEGER NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

CREATE TABLE tickets (
    id TEXT NOT NULL PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    ref_year INTEGER NOT NULL,
    ref_seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    member_id TEXT NULL REFERENCES members (id),
    institution_id TEXT NULL REFERENCES institutions (id),
    prefecture TEXT NOT NULL,
    institution_match TEXT NOT NULL,
    first_call_at TIMESTAMP NOT NULL,
    summary TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES api_tokens (id),
    UNIQUE (ref_year, ref_seq)
);
CREATE INDEX tickets_first_call_at_idx ON tickets (first_call_at);
CREATE INDEX tickets_member_id_idx ON tickets (member_id);
CREATE INDEX tickets_institution_id_idx ON tickets (institution_id);
CREATE INDEX tickets_institution_match_prefecture_idx ON tickets (institution_match, prefecture);
CREATE INDEX tickets_status_idx ON tickets (status);

CREATE TABLE calls (
    id TEXT NOT NULL PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    started_at TIMESTAMP NOT NULL,
    caller_name TEXT NOT NULL,
    caller_role TEXT NOT NULL,
    callback_phone TEXT NOT NULL,
    claimed_member_name TEXT NOT NULL,
    claimed_institution_name TEXT NOT NULL,
    claimed_institution_address TEXT NOT NULL,
    claimed_prefecture TEXT NOT NULL,
    identifier_kind TEXT NOT NULL,
    identifier_value TEXT NOT NULL,
    summary TEXT NOT NULL,
    verification TEXT NOT NULL,
    mismatches TEXT NOT NULL,
    member_id TEXT NULL REFERENCES members (id),
    institution_id TEXT NULL REFERENCES institutions (id),
    follow_up BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES api_tokens (id)
);
CREATE INDEX calls_ticket_id_started_at_idx ON calls (ticket_id, started_at);

-- changes holds JSON text.
CREATE TABLE ticket_events (
    id TEXT NOT NULL PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    occurred_at TIMESTAMP NOT NULL,
    actor_token_id TEXT NOT NULL REFERENCES api_tokens (id),
    action TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket_id_occurred_at_idx ON ticket_events (ticket_id, occurred_at);

CREATE TABLE ticket_links (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    related_ticket_id TEXT NOT NULL REFERENCES tickets (id),
    reason TEXT NOT NULL,
    PRIMARY KEY (ticket_id, related_ticket_id)
);

-- The event log is the audit trail: the database itself refuses to change or remove an entry
-- (TRUNCATE too, which row triggers do not see).
CREATE FUNCTION ticket_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket_events is append-only';
END;
$$;

CREATE TRIGGER ticket_events_no_update
BEFORE UPDATE ON ticket_events
FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only();

CREATE TRIGGER ticket_events_no_delete
BEFORE DELETE ON ticket_events
FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only();

CREATE TRIGGER ticket_events_no_truncate
BEFORE TRUNCATE ON ticket_events
FOR EACH STATEMENT EXECUTE FUNCTION ticket_events_append_only();
