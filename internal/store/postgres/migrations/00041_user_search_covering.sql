-- +goose Up
-- User search unites three prefix ranges (username, email, real name) and
-- pages the result in username order. With the username inside the email
-- and real-name indexes, each range is read from its index alone and the
-- page is taken in username order without a sort of every match.
DROP INDEX users_email_nocase;
DROP INDEX users_realname_nocase;
CREATE INDEX users_email_nocase ON users (lower(email), username);
CREATE INDEX users_realname_nocase ON users (lower(realname), username);

-- +goose Down
DROP INDEX users_realname_nocase;
DROP INDEX users_email_nocase;
CREATE INDEX users_email_nocase ON users (lower(email));
CREATE INDEX users_realname_nocase ON users (lower(realname));
