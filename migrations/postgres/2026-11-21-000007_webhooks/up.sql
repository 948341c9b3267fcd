-- Webhook endpoints of the desk software, synced from configuration at start-up (secrets stay in the
-- configuration, never here). Each ticket event is written to the outbox once per subscribed active
-- endpoint, in the same transaction as the event, and delivered by the same worker as the alerts.
CREATE TABLE webhook_endpoints (
    name TEXT NOT NULL PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    max_attempts INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
ALTER TABLE outbox ADD COLUMN webhook_endpoint TEXT REFERENCES webhook_endpoints (name);
CREATE INDEX outbox_channel_idx ON outbox (channel, status);
