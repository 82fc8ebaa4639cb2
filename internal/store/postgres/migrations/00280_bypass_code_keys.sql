-- +goose Up
-- Bypass codes get a public id (Duo's bypass_code_id, "DB..."), so that the
-- Admin API can list them and delete one without ever showing the code.
-- Codes issued before get one here; new codes get theirs when made.
ALTER TABLE bypass_codes ADD COLUMN code_key TEXT COLLATE "C";
UPDATE bypass_codes SET code_key = 'DB' || upper(substr(md5(random()::text || id::text), 1, 18)) WHERE code_key IS NULL;
CREATE UNIQUE INDEX bypass_codes_key ON bypass_codes (code_key);

-- +goose Down
DROP INDEX bypass_codes_key;
ALTER TABLE bypass_codes DROP COLUMN code_key;
