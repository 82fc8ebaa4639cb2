-- +goose Up
-- What a directory sync knew of each entry when it last wrote or compared
-- the user: the entry's change stamp (entryCSN or modifyTimestamp on
-- OpenLDAP, uSNChanged on Active Directory) and the user's updated_at.
-- A full comparison then lists every entry with its stamp alone and reads
-- in full only those whose stamp moved or whose user was changed in the
-- portal since: decoding every attribute of 100,000 entries and loading
-- 100,000 users was most of a re-sync's time. '' and 0: never recorded.
ALTER TABLE directory_users ADD COLUMN entry_stamp TEXT NOT NULL DEFAULT '';
ALTER TABLE directory_users ADD COLUMN user_updated_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE directory_users DROP COLUMN user_updated_at;
ALTER TABLE directory_users DROP COLUMN entry_stamp;
