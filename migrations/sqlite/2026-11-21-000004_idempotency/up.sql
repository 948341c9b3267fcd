-- Stored responses for Idempotency-Key replays, per token.
CREATE TABLE idempotency_keys (
    token_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    location TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (token_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
