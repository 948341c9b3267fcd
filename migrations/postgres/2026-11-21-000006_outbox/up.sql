-- The transactional outbox: every alert is written in the same transaction as the change that causes
-- it, and a worker delivers it with retries. Nothing is sent from a request handler.
CREATE TABLE outbox (
    id TEXT NOT NULL PRIMARY KEY,
    channel TEXT NOT NULL,
    alert_kind TEXT NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    referral_id TEXT REFERENCES referrals (id),
    partner_id TEXT REFERENCES partners (id),
    recipient TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_by TEXT,
    locked_until TIMESTAMP,
    last_error TEXT,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
CREATE INDEX outbox_ticket_idx ON outbox (ticket_id);
CREATE INDEX outbox_referral_idx ON outbox (referral_id);
