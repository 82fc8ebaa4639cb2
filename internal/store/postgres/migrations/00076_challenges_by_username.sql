-- +goose Up
-- A wrong enrollment code is checked against the user's other pending
-- set-ups (an older QR code already added to the app), found by username.
CREATE INDEX enrollment_challenges_username ON enrollment_challenges (username);

-- +goose Down
DROP INDEX enrollment_challenges_username;
