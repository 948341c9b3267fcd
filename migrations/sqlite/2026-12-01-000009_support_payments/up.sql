-- Support payments (一時支援金) and regulatory deadlines: the facts of an incident as the case develops,
-- the one claim an incident may have, and the deadlines computed from the facts (rewritten with them, so
-- they can be listed and announced across tickets). Claim status history is in ticket_events.

CREATE TABLE incident_facts (
    ticket_id TEXT NOT NULL PRIMARY KEY REFERENCES tickets (id),
    cause TEXT,
    personal_data_leak TEXT,
    systems_stopped BOOLEAN,
    occurred_at TIMESTAMP,
    aware_at TIMESTAMP,
    days_closed INTEGER,
    mhlw_notified_at TIMESTAMP,
    ppc_preliminary_report_at TIMESTAMP,
    ppc_final_report_at TIMESTAMP,
    victims_notified_at TIMESTAMP,
    insider_finding BOOLEAN,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL REFERENCES api_tokens (id)
);

-- One claim per incident: a second claim, for either payment, is refused (also by this index).
CREATE TABLE support_claims (
    id TEXT NOT NULL PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    payment TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_yen BIGINT NOT NULL,
    rule_set TEXT NOT NULL,
    claimed_at TIMESTAMP NOT NULL,
    claimed_by TEXT NOT NULL REFERENCES api_tokens (id),
    decided_at TIMESTAMP,
    decided_by TEXT REFERENCES api_tokens (id),
    rejection_reason TEXT
);
CREATE UNIQUE INDEX support_claims_one_per_ticket ON support_claims (ticket_id);
CREATE INDEX support_claims_status_idx ON support_claims (status, claimed_at);

CREATE TABLE regulatory_deadlines (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    kind TEXT NOT NULL,
    clock_start TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    period_days INTEGER NOT NULL,
    due_date TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    done_at TIMESTAMP,
    announced_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (ticket_id, kind)
);
CREATE INDEX regulatory_deadlines_open_due_idx ON regulatory_deadlines (done_at, due_at);
