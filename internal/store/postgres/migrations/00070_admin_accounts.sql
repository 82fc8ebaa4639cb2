-- +goose Up
-- Admin sign-in slows an account down after wrong tries instead of locking
-- it: slow_until is when the next try from an address that failed recently
-- may be checked, last_failed_at lets old failures be forgotten.
ALTER TABLE admins RENAME COLUMN locked_until TO slow_until;
ALTER TABLE admins ADD COLUMN last_failed_at BIGINT ;
-- session_gen is copied into every admin session at sign-in; raising it
-- ends all of the admin's sessions at once (sign-out, role change, lock).
ALTER TABLE admins ADD COLUMN session_gen BIGINT  NOT NULL DEFAULT 0;
-- disabled_at is set while an owner has locked the admin out of sign-in.
ALTER TABLE admins ADD COLUMN disabled_at BIGINT ;

-- The client addresses that failed to sign in to an admin account lately:
-- only those wait for slow_until, so that a guesser cannot keep the owner
-- out from another address.
CREATE TABLE admin_failed_addresses (
    admin_id  BIGINT  NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    ip        TEXT COLLATE "C"    NOT NULL,
    failed_at BIGINT  NOT NULL,
    PRIMARY KEY (admin_id, ip)
);
CREATE INDEX admin_failed_addresses_failed_at ON admin_failed_addresses (failed_at);

-- +goose Down
DROP TABLE admin_failed_addresses;
ALTER TABLE admins DROP COLUMN disabled_at;
ALTER TABLE admins DROP COLUMN session_gen;
ALTER TABLE admins DROP COLUMN last_failed_at;
ALTER TABLE admins RENAME COLUMN slow_until TO locked_until;
