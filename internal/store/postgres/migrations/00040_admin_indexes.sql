-- +goose Up
-- The admin section searches users by the start of their email or real name,
-- case-insensitively, and filters the audit log by actor, action and target;
-- these indexes keep both fast at 100,000 users and millions of entries.
CREATE INDEX users_email_nocase ON users (lower(email));
CREATE INDEX users_realname_nocase ON users (lower(realname));
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_target_id ON audit_log (target, id);

-- +goose Down
DROP INDEX audit_log_target_id;
DROP INDEX audit_log_action;
DROP INDEX audit_log_actor;
DROP INDEX users_realname_nocase;
DROP INDEX users_email_nocase;
