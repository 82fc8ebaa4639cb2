-- +goose Up
-- A running portal process ("instance"): its start id is written on every
-- claim it takes (outbox rows, jobs), so that a later start can tell the
-- claims of a dead process from those of a live one and take them back at
-- once instead of waiting for a lease to end.
CREATE TABLE instances (
    id           TEXT    PRIMARY KEY,
    host         TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

-- A long bulk change (bulk enrollment, import apply) applied in short
-- transactions. Each step commits its rows together with the new cursor,
-- so a job restarted after a crash goes on from the first row not applied.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    title       TEXT    NOT NULL DEFAULT '',
    payload     BLOB    NOT NULL,
    total       INTEGER NOT NULL DEFAULT 0,
    cursor      INTEGER NOT NULL DEFAULT 0,
    result      TEXT    NOT NULL DEFAULT '{}',
    last_error  TEXT    NOT NULL DEFAULT '',
    skipped     TEXT    NOT NULL DEFAULT '[]',
    owner       TEXT,
    lease_until INTEGER,
    created_by  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX jobs_status ON jobs (status, id);

ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
CREATE INDEX outbox_claimed_by ON outbox (claimed_by) WHERE claimed_by IS NOT NULL;

-- +goose Down
DROP INDEX outbox_claimed_by;
ALTER TABLE outbox DROP COLUMN claimed_by;
DROP INDEX jobs_status;
DROP TABLE jobs;
DROP TABLE instances;
