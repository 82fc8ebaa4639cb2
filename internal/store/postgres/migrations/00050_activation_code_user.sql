-- +goose Up
-- An activation code is issued for one user of the phone (a phone may be
-- shared): the account name the authenticator app shows, and whose failed
-- codes count towards lockout.
ALTER TABLE activation_codes ADD COLUMN user_id BIGINT  REFERENCES users (id) ON DELETE CASCADE;

-- +goose Down
ALTER TABLE activation_codes DROP COLUMN user_id;
