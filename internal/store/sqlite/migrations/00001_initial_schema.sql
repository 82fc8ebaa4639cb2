-- +goose Up
-- The whole concept list of the SPEC. Times are Unix seconds (INTEGER), which
-- every SQL dialect stores and compares the same way. Public ids (user_key,
-- phone_key, ...) are the Duo-style ids that APIs show; integer ids stay
-- internal.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_key        TEXT    NOT NULL UNIQUE,
    username        TEXT    NOT NULL UNIQUE,
    realname        TEXT    NOT NULL DEFAULT '',
    firstname       TEXT    NOT NULL DEFAULT '',
    lastname        TEXT    NOT NULL DEFAULT '',
    email           TEXT    NOT NULL DEFAULT '',
    notes           TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'bypass', 'disabled', 'locked_out')),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_login_at   INTEGER
);
CREATE INDEX users_email ON users (email);

-- alias1..alias4 of the Duo model; an alias is unique across users.
CREATE TABLE user_aliases (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 4),
    alias    TEXT    NOT NULL UNIQUE,
    PRIMARY KEY (user_id, position)
);

CREATE TABLE groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    group_key   TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE user_groups (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_groups_group ON user_groups (group_id);

-- A phone may be shared by several users (the Duo model), hence user_phones.
-- totp_secret is sealed with the at-rest key; NULL until an authenticator app
-- is set up. last_totp_step is the newest 30-second step accepted, so that no
-- code is ever accepted twice.
CREATE TABLE phones (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    phone_key          TEXT    NOT NULL UNIQUE,
    number             TEXT    NOT NULL DEFAULT '',
    extension          TEXT    NOT NULL DEFAULT '',
    name               TEXT    NOT NULL DEFAULT '',
    type               TEXT    NOT NULL CHECK (type IN ('mobile', 'tablet', 'landline')),
    platform           TEXT    NOT NULL DEFAULT 'Unknown',
    totp_secret        BLOB,
    activated          INTEGER NOT NULL DEFAULT 0,
    activated_at       INTEGER,
    last_totp_step     INTEGER NOT NULL DEFAULT 0,
    sms_passcodes_sent INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
);
CREATE INDEX phones_number ON phones (number, extension);
CREATE INDEX phones_unactivated ON phones (activated, type);

CREATE TABLE user_phones (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phone_id INTEGER NOT NULL REFERENCES phones (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, phone_id)
);
CREATE INDEX user_phones_phone ON user_phones (phone_id);

CREATE TABLE webauthn_credentials (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    credential_key   TEXT    NOT NULL UNIQUE,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id    BLOB    NOT NULL UNIQUE,
    public_key       BLOB    NOT NULL,
    attestation_type TEXT    NOT NULL DEFAULT '',
    aaguid           BLOB    NOT NULL,
    sign_count       INTEGER NOT NULL DEFAULT 0,
    transports       TEXT    NOT NULL DEFAULT '',
    backup_eligible  INTEGER NOT NULL DEFAULT 0,
    backup_state     INTEGER NOT NULL DEFAULT 0,
    name             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

CREATE TABLE hardware_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_key  TEXT    NOT NULL UNIQUE,
    serial     TEXT    NOT NULL,
    type       TEXT    NOT NULL CHECK (type IN ('h6', 'h8', 't6', 't8')),
    secret     BLOB    NOT NULL,
    counter    INTEGER NOT NULL DEFAULT 0,
    user_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (type, serial)
);
CREATE INDEX hardware_tokens_user ON hardware_tokens (user_id);

-- A pending enrollment is a link that is neither used, revoked nor expired.
-- Only the SHA-256 of the token is kept. The token itself is an HMAC of
-- token_salt under a key derived from the at-rest key, so that "resend"
-- can send the same link again without the database ever holding it.
CREATE TABLE enrollment_links (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash BLOB    NOT NULL UNIQUE,
    token_salt BLOB    NOT NULL,
    created_by TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    sent_at    INTEGER,
    used_at    INTEGER,
    revoked_at INTEGER
);
CREATE INDEX enrollment_links_user ON enrollment_links (user_id);
CREATE INDEX enrollment_links_pending ON enrollment_links (used_at, revoked_at, expires_at);

-- A factor being set up, kept server-side until proved (10 minutes): the
-- TOTP seed of a phone or tablet, or the WebAuthn session of a security key.
-- user_id is NULL while an inline enrollment's user does not exist yet; the
-- user is then created, as username/user_key, when the factor is proved.
CREATE TABLE enrollment_challenges (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    challenge_key TEXT    NOT NULL UNIQUE,
    user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
    username      TEXT    NOT NULL,
    user_key      TEXT    NOT NULL,
    method        TEXT    NOT NULL CHECK (method IN ('mobile', 'tablet', 'security_key', 'activation')),
    phone_id      INTEGER REFERENCES phones (id) ON DELETE CASCADE,
    number        TEXT    NOT NULL DEFAULT '',
    platform      TEXT    NOT NULL DEFAULT '',
    name          TEXT    NOT NULL DEFAULT '',
    secret        BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX enrollment_challenges_expiry ON enrollment_challenges (expires_at);

CREATE TABLE activation_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    phone_id   INTEGER NOT NULL REFERENCES phones (id) ON DELETE CASCADE,
    code_hash  BLOB    NOT NULL UNIQUE,
    created_by TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    sent_at    INTEGER,
    sent_via   TEXT    NOT NULL DEFAULT '',
    used_at    INTEGER
);
CREATE INDEX activation_codes_phone ON activation_codes (phone_id);

CREATE TABLE admins (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_key       TEXT    NOT NULL UNIQUE,
    email           TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL DEFAULT '',
    role            TEXT    NOT NULL CHECK (role IN ('owner', 'administrator', 'user_manager', 'application_manager', 'help_desk', 'read_only')),
    password_hash   TEXT    NOT NULL DEFAULT '',
    totp_secret     BLOB,
    totp_last_step  INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL,
    last_login_at   INTEGER
);

CREATE TABLE admin_webauthn_credentials (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_id      INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    credential_id BLOB    NOT NULL UNIQUE,
    public_key    BLOB    NOT NULL,
    aaguid        BLOB    NOT NULL,
    sign_count    INTEGER NOT NULL DEFAULT 0,
    transports    TEXT    NOT NULL DEFAULT '',
    name          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);

-- One-time links: the owner setup link printed at first start.
CREATE TABLE admin_setup_links (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB    NOT NULL UNIQUE,
    role       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE policies (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    policy_key             TEXT    NOT NULL UNIQUE,
    name                   TEXT    NOT NULL UNIQUE,
    is_global              INTEGER NOT NULL DEFAULT 0,
    -- NULL in a non-global policy means "inherit".
    new_user_policy        TEXT    CHECK (new_user_policy IN ('require-enrollment', 'allow', 'deny')),
    denied_countries       TEXT,
    enroll_methods         TEXT,
    auth_methods           TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE UNIQUE INDEX policies_one_global ON policies (is_global) WHERE is_global = 1;

CREATE TABLE applications (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    app_key                TEXT    NOT NULL UNIQUE,
    name                   TEXT    NOT NULL,
    kind                   TEXT    NOT NULL CHECK (kind IN ('web', 'unix', 'auth-api', 'admin-api')),
    client_id              TEXT    NOT NULL UNIQUE,
    client_secret          BLOB    NOT NULL,
    policy_id              INTEGER REFERENCES policies (id) ON DELETE SET NULL,
    username_normalization TEXT    NOT NULL DEFAULT 'simple' CHECK (username_normalization IN ('none', 'simple')),
    groups_restricted      INTEGER NOT NULL DEFAULT 0,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);

CREATE TABLE application_redirect_uris (
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    uri            TEXT    NOT NULL,
    PRIMARY KEY (application_id, uri)
);

CREATE TABLE application_groups (
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    group_id       INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, group_id)
);

-- Group overrides within an application: members of group_id get policy_id.
CREATE TABLE application_group_policies (
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    group_id       INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    policy_id      INTEGER NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    priority       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (application_id, group_id)
);

-- Universal Prompt authorization codes: single use, short-lived, bound to the
-- client and redirect URI.
CREATE TABLE oauth_codes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash      BLOB    NOT NULL UNIQUE,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    redirect_uri   TEXT    NOT NULL,
    username       TEXT    NOT NULL,
    nonce          TEXT    NOT NULL DEFAULT '',
    result         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER
);

-- Auth API transactions (async auth and auth_status).
CREATE TABLE auth_transactions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    txid           TEXT    NOT NULL UNIQUE,
    application_id INTEGER REFERENCES applications (id) ON DELETE CASCADE,
    user_id        INTEGER REFERENCES users (id) ON DELETE CASCADE,
    result         TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    status_msg     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);

-- Every email and SMS, written in the same transaction as its cause.
-- intent_key makes a second write of the same intent a no-op.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    intent_key      TEXT    NOT NULL UNIQUE,
    channel         TEXT    NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL DEFAULT '',
    body_text       TEXT    NOT NULL,
    body_html       TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor_type  TEXT    NOT NULL CHECK (actor_type IN ('user', 'admin', 'system', 'cli', 'application')),
    actor       TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL DEFAULT '',
    target      TEXT    NOT NULL DEFAULT '',
    ip          TEXT    NOT NULL DEFAULT '',
    details     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target_type, target);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Admin-edited message texts (bulk enrollment, activation), saved for reuse.
CREATE TABLE message_templates (
    name       TEXT PRIMARY KEY,
    subject    TEXT    NOT NULL DEFAULT '',
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE directories (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    kind          TEXT    NOT NULL CHECK (kind IN ('ldap', 'active-directory')),
    config        TEXT    NOT NULL,
    bind_password BLOB,
    last_sync_at  INTEGER,
    last_result   TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);

-- The global policy always exists: require enrollment, allow every method.
INSERT INTO policies (policy_key, name, is_global, new_user_policy, denied_countries, enroll_methods, auth_methods, created_at, updated_at)
VALUES ('DOGLOBAL000000000000', 'Global policy', 1, 'require-enrollment', '',
        'authenticator_app,security_key', 'authenticator_app,security_key,hardware_token', 0, 0);

-- +goose Down
DROP TABLE directories;
DROP TABLE message_templates;
DROP TABLE settings;
DROP TABLE audit_log;
DROP TABLE outbox;
DROP TABLE auth_transactions;
DROP TABLE oauth_codes;
DROP TABLE application_group_policies;
DROP TABLE application_groups;
DROP TABLE application_redirect_uris;
DROP TABLE applications;
DROP TABLE policies;
DROP TABLE admin_setup_links;
DROP TABLE admin_webauthn_credentials;
DROP TABLE admins;
DROP TABLE activation_codes;
DROP TABLE enrollment_challenges;
DROP TABLE enrollment_links;
DROP TABLE hardware_tokens;
DROP TABLE webauthn_credentials;
DROP TABLE user_phones;
DROP TABLE phones;
DROP TABLE user_groups;
DROP TABLE groups;
DROP TABLE user_aliases;
DROP TABLE users;
