-- +goose Up
-- Universal Prompt. A login in progress, from the application's authorize
-- request to the code it gets back. The token in the prompt's URLs is stored
-- only as a hash; a row lives at most a few minutes and is deleted when the
-- code is issued or when it expires.
CREATE TABLE prompt_transactions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash     BLOB    NOT NULL UNIQUE,
    txid           TEXT    NOT NULL UNIQUE,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    username       TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    nonce          TEXT    NOT NULL DEFAULT '',
    use_duo_code   INTEGER NOT NULL DEFAULT 0,
    client_ip      TEXT    NOT NULL DEFAULT '',
    claimed        INTEGER NOT NULL DEFAULT 0,
    user_id        INTEGER REFERENCES users (id) ON DELETE CASCADE,
    decision       TEXT    NOT NULL DEFAULT '',
    reason         TEXT    NOT NULL DEFAULT '',
    message        TEXT    NOT NULL DEFAULT '',
    enroll_methods TEXT    NOT NULL DEFAULT '',
    auth_methods   TEXT    NOT NULL DEFAULT '',
    outcome        TEXT    NOT NULL DEFAULT '',
    key_session    BLOB,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX prompt_transactions_expiry ON prompt_transactions (expires_at);

-- What the id_token of a code will say (JSON), fixed when the code is issued.
ALTER TABLE oauth_codes ADD COLUMN outcome TEXT NOT NULL DEFAULT '{}';
CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);

-- The jti of every client assertion seen, kept until the assertion expires,
-- so that a captured assertion cannot be sent twice.
CREATE TABLE oauth_assertions (
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    jti            TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL,
    PRIMARY KEY (application_id, jti)
);
CREATE INDEX oauth_assertions_expiry ON oauth_assertions (expires_at);

-- +goose Down
DROP TABLE oauth_assertions;
DROP INDEX oauth_codes_expiry;
ALTER TABLE oauth_codes DROP COLUMN outcome;
DROP TABLE prompt_transactions;
