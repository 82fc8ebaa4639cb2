package audit

import (
	"context"
	"fmt"
	"time"

	"enrollportal/internal/store"
)

// Audit retention: records whose latest event is older than the retention
// period (PORTAL_AUDIT_RETENTION) are deleted by `portal audit prune` and
// by the server's periodic sweep.
const (
	AuditPruned = "audit.pruned"
	TargetAudit = "audit_log"
)

// pruneChunk is how many records one transaction of Prune deletes, so that
// logins never wait long behind it.
const pruneChunk = 1000

// System is the actor of work the server does by itself.
func System() Who { return Who{Type: ActorSystem, Name: "portal"} }

// Prune deletes the audit records whose latest event is older than
// retention before now, in short transactions, and returns how many it
// deleted. When it deleted any, it records that (with the count and the
// cutoff) as an action of who.
func Prune(ctx context.Context, st store.Transactor, now time.Time, retention time.Duration, who Who) (int64, error) {
	cutoff := now.Add(-retention)
	var total int64
	for {
		var n int64
		err := st.InTx(ctx, func(q store.Queries) error {
			var err error
			n, err = q.DeleteAuditBefore(ctx, cutoff, pruneChunk)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("audit: prune: %w", err)
		}
		total += n
		if n < pruneChunk {
			break
		}
	}
	if total == 0 {
		return 0, nil
	}
	err := st.InTx(ctx, func(q store.Queries) error {
		return q.InsertAudit(ctx, Entry(now, who, AuditPruned, TargetAudit, "",
			map[string]any{"removed": total, "before": cutoff.UTC().Format(time.RFC3339)}))
	})
	if err != nil {
		return total, fmt.Errorf("audit: record prune: %w", err)
	}
	return total, nil
}
