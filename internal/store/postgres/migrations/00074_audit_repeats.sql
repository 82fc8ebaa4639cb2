-- +goose Up
-- A login decision repeated within 15 minutes (a host looping on preauth
-- for an unknown user) counts on its first record instead of adding rows:
-- repeat_key names the decision, event_count counts it, last_at is the
-- latest repeat (0 on rows written before this migration: same as at).
ALTER TABLE audit_log ADD COLUMN repeat_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN event_count BIGINT  NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN last_at BIGINT  NOT NULL DEFAULT 0;
-- Only login decisions carry a key, so the index stays small.
CREATE INDEX audit_log_repeat ON audit_log (repeat_key, id) WHERE repeat_key <> '';

-- +goose Down
DROP INDEX audit_log_repeat;
ALTER TABLE audit_log DROP COLUMN last_at;
ALTER TABLE audit_log DROP COLUMN event_count;
ALTER TABLE audit_log DROP COLUMN repeat_key;
