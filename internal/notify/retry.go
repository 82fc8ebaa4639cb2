package notify

import (
	"context"
	"strconv"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
)

// Retry makes waiting or failed message id due now, with a fresh count of
// attempts, records who asked, and wakes the worker. store.ErrNotFound when
// the message is being sent, already sent or gone.
func (s *Service) Retry(ctx context.Context, id int64, who audit.Who) (store.Message, error) {
	now := s.clock.Now()
	var m store.Message
	err := s.store.InTx(ctx, func(q store.Queries) error {
		var err error
		if m, err = q.MessageByID(ctx, id); err != nil {
			return err
		}
		if err := q.RetryMessageNow(ctx, id, now); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.MessageRetried, audit.TargetMessage, strconv.FormatInt(id, 10),
			map[string]any{"to": m.Recipient, "channel": m.Channel}))
	})
	if err != nil {
		return m, err
	}
	s.Wake()
	return m, nil
}
