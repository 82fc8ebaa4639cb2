-- +goose Up
-- An admin-issued reset: the enrollment link adds a device to a user who
-- already has one without proof of an existing factor (a lost phone). It
-- ends with the link.
ALTER TABLE enrollment_links ADD COLUMN reset BIGINT  NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE enrollment_links DROP COLUMN reset;
