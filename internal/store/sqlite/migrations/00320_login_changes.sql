-- +goose Up
-- The change log of login inputs. Every process keeps in memory what a login
-- reads (a user with their status, groups and phones; policies and
-- applications) and reads this log, at least every 250 ms and after each of
-- its own commits, to forget what changed, whichever process or instance
-- wrote it. Triggers write it, so that no write path can forget to. A row
-- names the user whose login inputs changed; user_id NULL means the
-- configuration (policies, applications, group overrides) changed, which
-- every cached login depends on.
CREATE TABLE login_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER
);

-- The log keeps its last 100,000 rows (pruned once every 1,000): a reader
-- that fell further behind sees a gap in seq and forgets everything.
-- +goose StatementBegin
CREATE TRIGGER login_changes_prune AFTER INSERT ON login_changes
WHEN NEW.seq % 1000 = 0
BEGIN
    DELETE FROM login_changes WHERE seq <= NEW.seq - 100000;
END;
-- +goose StatementEnd

-- Users: what a login reads of them. failed_attempts, updated_at and
-- last_login_at change on every attempt and are not login inputs (the
-- attempt reservation reads the row itself); a status change (a lockout
-- included) is one.
-- +goose StatementBegin
CREATE TRIGGER users_login_update AFTER UPDATE ON users
WHEN OLD.username IS NOT NEW.username OR OLD.status IS NOT NEW.status OR OLD.user_key IS NOT NEW.user_key
    OR OLD.realname IS NOT NEW.realname OR OLD.firstname IS NOT NEW.firstname OR OLD.lastname IS NOT NEW.lastname
    OR OLD.email IS NOT NEW.email OR OLD.notes IS NOT NEW.notes
BEGIN
    INSERT INTO login_changes (user_id) VALUES (OLD.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_login_delete AFTER DELETE ON users
BEGIN
    INSERT INTO login_changes (user_id) VALUES (OLD.id);
END;
-- +goose StatementEnd

-- Group memberships.
-- +goose StatementBegin
CREATE TRIGGER user_groups_login_insert AFTER INSERT ON user_groups
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NEW.user_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_groups_login_update AFTER UPDATE ON user_groups
BEGIN
    INSERT INTO login_changes (user_id) VALUES (OLD.user_id), (NEW.user_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_groups_login_delete AFTER DELETE ON user_groups
BEGIN
    INSERT INTO login_changes (user_id) VALUES (OLD.user_id);
END;
-- +goose StatementEnd

-- Phones: which users hold them, and what a login reads of them.
-- last_totp_step and sms_passcodes_sent change on every passcode and are
-- read by the passcode check itself, not from the cache.
-- +goose StatementBegin
CREATE TRIGGER user_phones_login_insert AFTER INSERT ON user_phones
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NEW.user_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_phones_login_update AFTER UPDATE ON user_phones
BEGIN
    INSERT INTO login_changes (user_id) VALUES (OLD.user_id), (NEW.user_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_phones_login_delete AFTER DELETE ON user_phones
BEGIN
    INSERT INTO login_changes (user_id) VALUES (OLD.user_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER phones_login_update AFTER UPDATE ON phones
WHEN OLD.phone_key IS NOT NEW.phone_key OR OLD.number IS NOT NEW.number OR OLD.extension IS NOT NEW.extension
    OR OLD.name IS NOT NEW.name OR OLD.type IS NOT NEW.type OR OLD.platform IS NOT NEW.platform
    OR OLD.totp_secret IS NOT NEW.totp_secret OR OLD.activated IS NOT NEW.activated
    OR OLD.activated_at IS NOT NEW.activated_at OR OLD.created_at IS NOT NEW.created_at
BEGIN
    INSERT INTO login_changes (user_id) SELECT user_id FROM user_phones WHERE phone_id = NEW.id;
END;
-- +goose StatementEnd
-- Before the delete, while user_phones still names the holders.
-- +goose StatementBegin
CREATE TRIGGER phones_login_delete BEFORE DELETE ON phones
BEGIN
    INSERT INTO login_changes (user_id) SELECT user_id FROM user_phones WHERE phone_id = OLD.id;
END;
-- +goose StatementEnd

-- The configuration. An application's last_used_at is bookkeeping, written
-- once a minute, not an input.
-- +goose StatementBegin
CREATE TRIGGER policies_login_insert AFTER INSERT ON policies
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER policies_login_update AFTER UPDATE ON policies
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER policies_login_delete AFTER DELETE ON policies
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER applications_login_insert AFTER INSERT ON applications
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER applications_login_update AFTER UPDATE ON applications
WHEN OLD.app_key IS NOT NEW.app_key OR OLD.name IS NOT NEW.name OR OLD.kind IS NOT NEW.kind
    OR OLD.client_id IS NOT NEW.client_id OR OLD.client_secret IS NOT NEW.client_secret
    OR OLD.policy_id IS NOT NEW.policy_id OR OLD.username_normalization IS NOT NEW.username_normalization
    OR OLD.groups_restricted IS NOT NEW.groups_restricted OR OLD.admin_grants IS NOT NEW.admin_grants
    OR OLD.updated_at IS NOT NEW.updated_at OR OLD.created_at IS NOT NEW.created_at
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER applications_login_delete AFTER DELETE ON applications
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER application_redirect_uris_login_insert AFTER INSERT ON application_redirect_uris
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER application_redirect_uris_login_delete AFTER DELETE ON application_redirect_uris
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER application_redirect_uris_login_update AFTER UPDATE ON application_redirect_uris
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER application_groups_login_insert AFTER INSERT ON application_groups
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER application_groups_login_delete AFTER DELETE ON application_groups
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER application_groups_login_update AFTER UPDATE ON application_groups
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER application_group_policies_login_insert AFTER INSERT ON application_group_policies
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER application_group_policies_login_delete AFTER DELETE ON application_group_policies
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER application_group_policies_login_update AFTER UPDATE ON application_group_policies
BEGIN
    INSERT INTO login_changes (user_id) VALUES (NULL);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER application_group_policies_login_update;
DROP TRIGGER application_group_policies_login_delete;
DROP TRIGGER application_group_policies_login_insert;
DROP TRIGGER application_groups_login_update;
DROP TRIGGER application_groups_login_delete;
DROP TRIGGER application_groups_login_insert;
DROP TRIGGER application_redirect_uris_login_update;
DROP TRIGGER application_redirect_uris_login_delete;
DROP TRIGGER application_redirect_uris_login_insert;
DROP TRIGGER applications_login_delete;
DROP TRIGGER applications_login_update;
DROP TRIGGER applications_login_insert;
DROP TRIGGER policies_login_delete;
DROP TRIGGER policies_login_update;
DROP TRIGGER policies_login_insert;
DROP TRIGGER phones_login_delete;
DROP TRIGGER phones_login_update;
DROP TRIGGER user_phones_login_delete;
DROP TRIGGER user_phones_login_update;
DROP TRIGGER user_phones_login_insert;
DROP TRIGGER user_groups_login_delete;
DROP TRIGGER user_groups_login_update;
DROP TRIGGER user_groups_login_insert;
DROP TRIGGER users_login_delete;
DROP TRIGGER users_login_update;
DROP TRIGGER login_changes_prune;
DROP TABLE login_changes;
