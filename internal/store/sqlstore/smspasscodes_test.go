package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"enrollportal/internal/store"
)

func TestSMSPasscodesCountSendsAndSpendOnce(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	u := mustUser(t, db, "sms")
	ph := store.Phone{Key: "DPSMS", Number: "+14155550123", Type: store.PhoneMobile, Platform: store.PlatformIOS, CreatedAt: t0}
	if err := db.CreatePhone(ctx, &ph); err != nil {
		t.Fatal(err)
	}
	if err := db.AttachPhone(ctx, u.ID, ph.ID); err != nil {
		t.Fatal(err)
	}
	send := func(at time.Time, hash string) store.SMSPasscode {
		t.Helper()
		p := store.SMSPasscode{UserID: u.ID, PhoneID: ph.ID, CodeHash: []byte(hash), CreatedAt: at, ExpiresAt: at.Add(5 * time.Minute)}
		if err := db.CreateSMSPasscode(ctx, &p, at.Add(-15*time.Minute)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := send(t0, "a")
	send(t0.Add(time.Minute), "b")
	n, oldest, err := db.SMSPasscodesSentSince(ctx, ph.ID, t0.Add(-time.Second))
	if err != nil || n != 2 || !oldest.Equal(t0) {
		t.Fatalf("sent since: %d, %v, %v", n, oldest, err)
	}
	// After: a send exactly at since is out of the window.
	if n, _, _ := db.SMSPasscodesSentSince(ctx, ph.ID, t0); n != 1 {
		t.Errorf("sent after t0: %d, want 1", n)
	}
	if got, _ := db.PhoneByID(ctx, ph.ID); got.SMSPasscodesSent != 2 {
		t.Errorf("phone's count %d, want 2", got.SMSPasscodesSent)
	}
	live, err := db.LiveSMSPasscodes(ctx, u.ID, t0.Add(2*time.Minute))
	if err != nil || len(live) != 2 || string(live[0].CodeHash) != "a" {
		t.Fatalf("live: %+v, %v", live, err)
	}
	if ok, err := db.SpendSMSPasscode(ctx, first.ID, t0.Add(2*time.Minute)); err != nil || !ok {
		t.Fatalf("spend: %v, %v", ok, err)
	}
	if ok, _ := db.SpendSMSPasscode(ctx, first.ID, t0.Add(2*time.Minute)); ok {
		t.Error("spent the same passcode twice")
	}
	// The second expires 5 minutes after it was sent.
	if live, _ := db.LiveSMSPasscodes(ctx, u.ID, t0.Add(6*time.Minute)); len(live) != 0 {
		t.Errorf("live after expiry: %+v", live)
	}
	if ok, _ := db.SpendSMSPasscode(ctx, first.ID+1, t0.Add(6*time.Minute)); ok {
		t.Error("spent an expired passcode")
	}
	// A send forgets the rows older than the window; the count stays.
	send(t0.Add(20*time.Minute), "c")
	if n, _, _ := db.SMSPasscodesSentSince(ctx, ph.ID, t0.Add(-time.Hour)); n != 1 {
		t.Errorf("%d rows kept, want 1", n)
	}
}

func TestOutboxClaimsLoginMessagesFirst(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	for i := 1; i <= 5; i++ {
		m := store.Message{IntentKey: fmt.Sprintf("bulk%d", i), Channel: store.ChannelSMS, Recipient: fmt.Sprintf("r%d", i),
			BodyText: "x", NextAttemptAt: t0, CreatedAt: t0}
		if i == 4 {
			m.Priority = store.PriorityLogin
		}
		if ok, err := db.EnqueueMessage(ctx, &m); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	got, err := db.ClaimMessages(ctx, "", []string{store.ChannelSMS}, t0, t0.Add(time.Minute), 2)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range got {
		ids = append(ids, m.ID)
	}
	if fmt.Sprint(ids) != "[4 1]" || got[0].Priority != store.PriorityLogin {
		t.Fatalf("claimed %v, want [4 1] (the login's text first)", ids)
	}
}
