-- +goose Up
-- The twin of SQLite's 00350 (see there): each directory user's entry
-- change stamp and the user's updated_at when a sync last wrote or
-- compared it.
ALTER TABLE directory_users ADD COLUMN entry_stamp TEXT NOT NULL DEFAULT '';
ALTER TABLE directory_users ADD COLUMN user_updated_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE directory_users DROP COLUMN user_updated_at;
ALTER TABLE directory_users DROP COLUMN entry_stamp;
