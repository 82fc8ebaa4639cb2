-- +goose Up
-- Bypass codes (issued by an admin) and recovery codes (made by the user):
-- passcodes that work a set number of times. Only a keyed hash of each code
-- is stored.
CREATE TABLE bypass_codes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BLOB NOT NULL,
    uses_left  INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE UNIQUE INDEX bypass_codes_user_hash ON bypass_codes (user_id, code_hash);

-- +goose Down
DROP TABLE bypass_codes;
