package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"enrollportal/internal/store"
)

func TestOutboxClaimListAndRetry(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	for i := 1; i <= 7; i++ {
		ch := store.ChannelEmail
		if i%3 == 0 {
			ch = store.ChannelSMS
		}
		m := store.Message{IntentKey: fmt.Sprintf("k%d", i), Channel: ch, Recipient: fmt.Sprintf("r%d", i),
			BodyText: "x", NextAttemptAt: t0.Add(time.Duration(i) * time.Second), CreatedAt: t0}
		if ok, err := db.EnqueueMessage(ctx, &m); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	// Only due email messages, oldest first, at most the limit.
	until := t0.Add(5 * time.Minute)
	got, err := db.ClaimMessages(ctx, "", []string{store.ChannelEmail}, t0.Add(5*time.Second), until, 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range got {
		ids = append(ids, m.ID)
		if m.Status != store.MessageSending || m.Attempts != 1 || !m.ClaimedUntil.Equal(until) {
			t.Errorf("claimed row = %+v", m)
		}
	}
	if fmt.Sprint(ids) != "[1 2 4]" {
		t.Fatalf("claimed %v, want [1 2 4]", ids)
	}
	// As the worker records a delivery (on PostgreSQL, one pipelined
	// transaction that takes no write lock).
	record := store.WithDeliveryRecord(ctx)
	if ok, err := db.MarkMessageSent(record, 1, until, t0, "redacted", ""); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if sent, _ := db.MessageByID(ctx, 1); sent.BodyText != "redacted" || sent.Status != store.MessageSent || !sent.SentAt.Equal(t0) {
		t.Errorf("sent row = %+v", sent)
	}
	if ok, err := db.MarkMessageSent(record, 1, until, t0, "", ""); err != nil || ok {
		t.Errorf("marked a finished message again: %v %v", ok, err)
	}
	if ok, err := db.MarkMessageRetry(ctx, 2, until, t0.Add(time.Hour), "boom", true); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, err := db.MarkMessageRetry(ctx, 4, until.Add(time.Second), t0, "wrong claim", false); err != nil || ok {
		t.Errorf("a wrong claim token changed a row: %v %v", ok, err)
	}

	counts, err := db.CountMessagesByStatus(ctx)
	if err != nil || counts[store.MessageSent] != 1 || counts[store.MessageFailed] != 1 || counts[store.MessageSending] != 1 || counts[store.MessagePending] != 4 {
		t.Fatalf("counts = %v, %v", counts, err)
	}
	page, total, err := db.ListMessages(ctx, store.MessageFilter{Status: store.MessagePending, Limit: 3, Offset: 1})
	if err != nil || total != 4 || len(page) != 3 || page[0].ID != 6 || page[2].ID != 3 {
		t.Fatalf("pending page = %d rows (first %+v), total %d, %v", len(page), page, total, err)
	}
	all, total, _ := db.ListMessages(ctx, store.MessageFilter{})
	if total != 7 || len(all) != 7 || all[0].ID != 7 {
		t.Fatalf("all = %d, total %d", len(all), total)
	}
	failed, _ := db.MessageByID(ctx, 2)
	if failed.LastError != "boom" || failed.Status != store.MessageFailed {
		t.Fatalf("failed row = %+v", failed)
	}

	if err := db.RetryMessageNow(ctx, 2, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	retried, _ := db.MessageByID(ctx, 2)
	if retried.Status != store.MessagePending || retried.Attempts != 0 || !retried.NextAttemptAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("retried row = %+v", retried)
	}
	for _, id := range []int64{1, 4, 99} { // sent, being sent, absent
		if err := db.RetryMessageNow(ctx, id, t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RetryMessageNow(%d) = %v, want ErrNotFound", id, err)
		}
	}
	if _, err := db.MessageByID(ctx, 99); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MessageByID(99) = %v", err)
	}
}
