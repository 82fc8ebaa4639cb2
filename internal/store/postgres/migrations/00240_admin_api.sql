-- +goose Up
-- The Admin API grants of an admin-api application, comma-separated
-- (read-resource, write-resource, read-log, settings); '' for none and for
-- every other kind.
ALTER TABLE applications ADD COLUMN admin_grants TEXT COLLATE "C" NOT NULL DEFAULT '';

-- Admin API phones may exist before they are attached to a user (Duo's
-- model: create the phone, then associate it). predelay and postdelay are
-- accepted and kept for clients that read them back.
ALTER TABLE phones ADD COLUMN predelay TEXT COLLATE "C";
ALTER TABLE phones ADD COLUMN postdelay TEXT COLLATE "C";

-- The Admin API pages through users by id (offset paging, as Duo's clients
-- ask), and filters phones by number; both are covered already. Aliases
-- are looked up per page of users.
CREATE INDEX user_aliases_user ON user_aliases (user_id, position, alias);

-- +goose Down
DROP INDEX user_aliases_user;
ALTER TABLE phones DROP COLUMN postdelay;
ALTER TABLE phones DROP COLUMN predelay;
ALTER TABLE applications DROP COLUMN admin_grants;
