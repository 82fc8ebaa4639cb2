-- +goose Up
-- SMS passcodes: one-time codes texted to a user's mobile phone, valid a
-- few minutes and once. Only a keyed hash of each code is stored; the rows
-- of a phone also count its sends for the send limit, so a spent code stays
-- (used_at set) until the limit's window has passed.
CREATE TABLE sms_passcodes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phone_id   INTEGER NOT NULL REFERENCES phones (id) ON DELETE CASCADE,
    code_hash  BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX sms_passcodes_user ON sms_passcodes (user_id, expires_at);
CREATE INDEX sms_passcodes_phone ON sms_passcodes (phone_id, created_at);

-- A message's delivery priority: higher goes first. A passcode someone is
-- waiting for at a login must not queue behind a bulk enrollment mailing.
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE outbox DROP COLUMN priority;
DROP TABLE sms_passcodes;
