-- Bearer tokens for the operators' clients; only a hash of each token is stored.
CREATE TABLE api_tokens (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NULL,
    revoked_at TIMESTAMP NULL
);
