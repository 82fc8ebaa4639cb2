-- +goose Up
-- The plan of a checked import file, waiting for an admin's apply and then
-- read by the import's job, in the database rather than in a file beside one
-- instance's key, so that any instance can apply it and any instance's job
-- runner can run the job. token_hash is the hash of the plan's id (a bearer
-- token in the admin's session); it is cleared when a job takes the plan
-- (job_id), so that the same plan is never applied twice. summary is the
-- check's summary (JSON).
CREATE TABLE import_plans (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    UNIQUE,
    job_id     INTEGER,
    summary    BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

-- The planned rows, a chunk of a job step's worth each, so that a large
-- import is never one huge value: written by the check, read step by step
-- by the job.
CREATE TABLE import_plan_chunks (
    plan_id INTEGER NOT NULL REFERENCES import_plans (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (plan_id, seq)
);

-- +goose Down
DROP TABLE import_plan_chunks;
DROP TABLE import_plans;
