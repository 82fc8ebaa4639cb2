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

// TestOutboxReopenUndoesARecordedDelivery: the worker records a delivery as
// it hands the message over, before the relay's answer; a refusal then
// reopens the message with its bodies as queued (the record had removed
// its links), pending again or failed, and only a message marked sent.
func TestOutboxReopenUndoesARecordedDelivery(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	for i := 1; i <= 2; i++ {
		m := store.Message{IntentKey: fmt.Sprintf("k%d", i), Channel: store.ChannelEmail, Recipient: fmt.Sprintf("r%d", i),
			BodyText: "link https://portal.example/enroll/secret", BodyHTML: "<a>x</a>", NextAttemptAt: t0, CreatedAt: t0}
		if ok, err := db.EnqueueMessage(ctx, &m); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	until := t0.Add(5 * time.Minute)
	if got, err := db.ClaimMessages(ctx, "", []string{store.ChannelEmail}, t0, until, 10); err != nil || len(got) != 2 {
		t.Fatalf("claimed %d, %v", len(got), err)
	}
	if ok, err := db.ReopenMessage(ctx, 1, t0.Add(time.Minute), "again", "", "451", false); err != nil || ok {
		t.Fatalf("reopened a message that is not marked sent: %v %v", ok, err)
	}
	for id := int64(1); id <= 2; id++ {
		if ok, err := db.MarkMessageSent(store.WithDeliveryRecord(ctx), id, until, t0, "link https://portal.example/[link removed after delivery]", ""); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	if ok, err := db.ReopenMessage(ctx, 1, t0.Add(time.Minute), "link https://portal.example/enroll/secret", "<a>x</a>", "smtp: 451", false); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, err := db.ReopenMessage(ctx, 2, t0.Add(time.Minute), "link https://portal.example/enroll/secret", "<a>x</a>", "smtp: 554", true); err != nil || !ok {
		t.Fatal(ok, err)
	}
	pending, _ := db.MessageByID(ctx, 1)
	if pending.Status != store.MessagePending || pending.SentAt != nil || !pending.NextAttemptAt.Equal(t0.Add(time.Minute)) ||
		pending.BodyText != "link https://portal.example/enroll/secret" || pending.BodyHTML != "<a>x</a>" || pending.LastError != "smtp: 451" {
		t.Errorf("reopened row = %+v", pending)
	}
	if failed, _ := db.MessageByID(ctx, 2); failed.Status != store.MessageFailed || failed.SentAt != nil || failed.LastError != "smtp: 554" {
		t.Errorf("refused row = %+v", failed)
	}
	if got, err := db.ClaimMessages(ctx, "", []string{store.ChannelEmail}, t0.Add(time.Minute), until, 10); err != nil || len(got) != 1 || got[0].ID != 1 {
		t.Errorf("after the reopen claimed %v, %v; want message 1 again", got, err)
	}
}
