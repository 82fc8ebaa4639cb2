-- +goose Up
-- Directory sync (issue 11). directories.kind 'ldap' is an OpenLDAP server.
-- sync_cursor is the newest modifyTimestamp the last run read, so that an
-- incremental run asks only for entries changed since; last_full_at is when
-- the last full comparison (the only kind that finds removals) finished.
ALTER TABLE directories ADD COLUMN sync_cursor  TEXT    NOT NULL DEFAULT '';
ALTER TABLE directories ADD COLUMN last_full_at INTEGER NOT NULL DEFAULT 0;

-- A user the directory created: only these are ever changed by a sync, so
-- users made by hand, by import or by another directory are never touched.
-- stable_id is entryUUID/objectGUID, so a renamed entry stays the same user.
-- trashed_at is set when the entry left the directory (the user is then
-- disabled, and purged 7 days later unless restored); disabled_by_sync
-- marks a status the directory set, which only the directory lifts.
CREATE TABLE directory_users (
    directory_id     INTEGER NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    stable_id        TEXT    NOT NULL,
    user_id          INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    trashed_at       INTEGER,
    disabled_by_sync INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (directory_id, stable_id)
);

CREATE TABLE directory_groups (
    directory_id INTEGER NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    stable_id    TEXT    NOT NULL,
    group_id     INTEGER NOT NULL UNIQUE REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (directory_id, stable_id)
);

-- One run at a time per directory, across processes: a run holds this row
-- until expires_at and renews it as it goes.
CREATE TABLE directory_leases (
    directory_id INTEGER PRIMARY KEY REFERENCES directories (id) ON DELETE CASCADE,
    holder       TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL
);

-- status: running, succeeded, failed, needs-confirmation. counts is a JSON
-- object (created, updated, disabled, removed, phones, ...); report lists
-- conflicts and skipped phone numbers.
CREATE TABLE directory_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    directory_id INTEGER NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    dry_run      INTEGER NOT NULL DEFAULT 0,
    status       TEXT    NOT NULL,
    counts       TEXT    NOT NULL DEFAULT '{}',
    report       TEXT    NOT NULL DEFAULT '',
    error        TEXT    NOT NULL DEFAULT '',
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX directory_runs_directory ON directory_runs (directory_id, id);

-- +goose Down
DROP TABLE directory_runs;
DROP TABLE directory_leases;
DROP TABLE directory_groups;
DROP TABLE directory_users;
ALTER TABLE directories DROP COLUMN last_full_at;
ALTER TABLE directories DROP COLUMN sync_cursor;
