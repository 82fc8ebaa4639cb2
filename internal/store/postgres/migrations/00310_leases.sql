-- +goose Up
-- A named lease on scheduled work that must run on one instance at a time
-- (the sweeps of expired rows, the audit prune): the holder (an instance's
-- start id) renews it while it runs; another instance takes it over once
-- expires_at has passed, or at once when the holder is found dead.
CREATE TABLE leases (
    name       TEXT COLLATE "C"    PRIMARY KEY,
    holder     TEXT COLLATE "C"    NOT NULL,
    expires_at BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE leases;
