-- +goose Up
-- When an application last made a successful login call (preauth, authorize
-- or an Auth API call). The portal keeps the times in memory and writes them
-- here at most once a minute, so that logins do not each write a row.
ALTER TABLE applications ADD COLUMN last_used_at BIGINT ;

-- +goose Down
ALTER TABLE applications DROP COLUMN last_used_at;
