-- +goose Up
-- OATH TOTP hardware tokens step every 30 or 60 seconds; HOTP tokens
-- ignore it. For TOTP, counter holds the last step used (no replay); for
-- HOTP, the last counter used.
ALTER TABLE hardware_tokens ADD COLUMN step BIGINT  NOT NULL DEFAULT 30;

-- +goose Down
ALTER TABLE hardware_tokens DROP COLUMN step;
