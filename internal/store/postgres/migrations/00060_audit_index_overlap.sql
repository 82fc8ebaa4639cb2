-- +goose Up
-- audit_log_target_id (target, id) serves every lookup audit_log_target
-- (target_type, target) did, with the newest-first order for free; keeping
-- both cost every audited change one more B-tree to write.
DROP INDEX audit_log_target;

-- +goose Down
CREATE INDEX audit_log_target ON audit_log (target_type, target);
