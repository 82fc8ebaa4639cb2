-- +goose Up
-- "The pending links of one user" (revoked when a new link is issued) must
-- start from the user: without this index SQLite preferred
-- enrollment_links_pending, which scans every pending link of every user,
-- so issuing 10,000 links in a bulk enrollment was quadratic.
CREATE INDEX enrollment_links_user_pending ON enrollment_links (user_id, used_at, revoked_at, expires_at);

-- +goose Down
DROP INDEX enrollment_links_user_pending;
