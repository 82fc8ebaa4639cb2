-- +goose Up
-- key_check holds a value derived from the at-rest key (secret.CheckValue),
-- recorded on the first start, so that a start with a missing or different
-- key file is refused instead of serving with secrets it cannot open. One
-- row at most.
CREATE TABLE key_check (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    value       TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL
);

-- health takes the write of /readyz, which is rolled back: it stays empty.
CREATE TABLE health (
    id INTEGER PRIMARY KEY
);

-- Before this version a failed delivery recorded the gateway's or server's
-- answer verbatim, which could echo the message with its link or code, and
-- every admin role reads last_error. The new worker keeps a redacted reason;
-- the old reasons go.
UPDATE outbox SET last_error = 'reason not kept (recorded before the portal redacted delivery errors)'
WHERE last_error <> '';

-- +goose Down
DROP TABLE health;
DROP TABLE key_check;
