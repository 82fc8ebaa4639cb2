package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlstore"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func mustUser(t *testing.T, db *sqlstore.DB, name string) store.User {
	t.Helper()
	u := store.User{Key: "DU" + name, Username: name, Status: store.StatusActive, CreatedAt: t0, UpdatedAt: t0}
	if err := db.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestOpenTwiceKeepsDataAndSeedsOneGlobalPolicy(t *testing.T) {
	ctx := context.Background()
	open := newDatabase(t)
	db := open()
	u := store.User{Key: "DUALICE", Username: "alice", Status: store.StatusActive, CreatedAt: t0, UpdatedAt: t0}
	if err := db.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open()
	got, err := db.UserByUsername(ctx, "alice")
	if err != nil || got.Key != "DUALICE" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	g, err := db.GlobalPolicy(ctx)
	if err != nil || g.NewUserPolicy != store.NewUserRequireEnrollment || len(g.EnrollMethods) == 0 {
		t.Fatalf("global policy: %+v, %v", g, err)
	}
}

func TestDuplicateUsernameIsConflict(t *testing.T) {
	db := openDB(t)
	mustUser(t, db, "alice")
	u := store.User{Key: "DUOTHER", Username: "alice", Status: store.StatusActive, CreatedAt: t0, UpdatedAt: t0}
	if err := db.CreateUser(context.Background(), &u); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("got %v, want ErrConflict", err)
	}
}

func TestUserAttemptsAreReservedUpToMaxAndLockAtIt(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	u := mustUser(t, db, "alice")
	for i := 1; i <= 3; i++ {
		if n, ok, err := db.ReserveUserAttempt(ctx, u.ID, 3); err != nil || !ok || n != i {
			t.Fatalf("reservation %d: n=%d ok=%v err=%v", i, n, ok, err)
		}
	}
	// Three attempts are out: a fourth is refused before it is checked.
	if _, ok, err := db.ReserveUserAttempt(ctx, u.ID, 3); ok || err != nil {
		t.Fatalf("reservation past max: ok=%v err=%v", ok, err)
	}
	// Only the first wrong code to settle at the limit locks the user out.
	for i := 1; i <= 3; i++ {
		n, status, lockedNow, err := db.FailUserAttempt(ctx, u.ID, 3, t0)
		if err != nil || n != 3 || status != store.StatusLockedOut || lockedNow != (i == 1) {
			t.Fatalf("failure %d: n=%d status=%s lockedNow=%v err=%v", i, n, status, lockedNow, err)
		}
	}
	// A right code that settles after the lockout clears nothing.
	if cleared, err := db.PassUserAttempt(ctx, u.ID); cleared || err != nil {
		t.Fatalf("pass after lockout: cleared=%v err=%v", cleared, err)
	}
	if err := db.ReturnUserAttempt(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.UserByID(ctx, u.ID); got.FailedAttempts != 3 || got.Status != store.StatusLockedOut {
		t.Fatalf("after lockout: %d failures, %s", got.FailedAttempts, got.Status)
	}

	// Below the limit a right code clears the count, and an attempt that
	// could not be checked is given back.
	b := mustUser(t, db, "bob")
	for range 2 {
		db.ReserveUserAttempt(ctx, b.ID, 3)
	}
	if err := db.ReturnUserAttempt(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.UserByID(ctx, b.ID); got.FailedAttempts != 1 {
		t.Fatalf("after giving one back: %d", got.FailedAttempts)
	}
	if cleared, err := db.PassUserAttempt(ctx, b.ID); !cleared || err != nil {
		t.Fatalf("pass: cleared=%v err=%v", cleared, err)
	}
	if got, _ := db.UserByID(ctx, b.ID); got.FailedAttempts != 0 {
		t.Fatalf("after a right code: %d", got.FailedAttempts)
	}

	// A disabled user is never turned into locked_out by failures.
	d := mustUser(t, db, "dora")
	if err := db.SetUserStatus(ctx, d.ID, store.StatusDisabled, true, t0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		db.ReserveUserAttempt(ctx, d.ID, 3)
		if _, status, lockedNow, _ := db.FailUserAttempt(ctx, d.ID, 3, t0); status != store.StatusDisabled || lockedNow {
			t.Fatalf("disabled user became %s", status)
		}
	}
	if _, _, err := db.ReserveUserAttempt(ctx, 999999, 3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reservation for no user: %v", err)
	}
}

func TestAdvanceTOTPStepRefusesReplay(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	p := store.Phone{Key: "DP1", Type: store.PhoneTablet, Platform: store.PlatformIOS, CreatedAt: t0, LastTOTPStep: 100}
	if err := db.CreatePhone(ctx, &p); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		step int64
		ok   bool
	}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}, {102, false}} {
		ok, err := db.AdvanceTOTPStep(ctx, p.ID, c.step)
		if err != nil || ok != c.ok {
			t.Fatalf("step %d: ok=%v err=%v, want %v", c.step, ok, err, c.ok)
		}
	}
}

func TestEnqueueMessageKeepsOnePerIntent(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	m := store.Message{IntentKey: "enroll-link:1:sent", Channel: store.ChannelEmail, Recipient: "a@example.com",
		Subject: "s", BodyText: "b", NextAttemptAt: t0, CreatedAt: t0}
	created, err := db.EnqueueMessage(ctx, &m)
	if err != nil || !created || m.ID == 0 {
		t.Fatalf("first: %v %v %d", created, err, m.ID)
	}
	again := m
	again.ID = 0
	created, err = db.EnqueueMessage(ctx, &again)
	if err != nil || created {
		t.Fatalf("second enqueue of one intent: created=%v err=%v", created, err)
	}
}

func TestTransactionRollsBackEveryStep(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	boom := errors.New("boom")
	err := db.InTx(ctx, func(q store.Queries) error {
		u := store.User{Key: "DUTX", Username: "tx", Status: store.StatusActive, CreatedAt: t0, UpdatedAt: t0}
		if err := q.CreateUser(ctx, &u); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v", err)
	}
	if _, err := db.UserByUsername(ctx, "tx"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user survived a rolled-back transaction: %v", err)
	}
}

func TestConfigCacheNeverServesAStaleValue(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	g, err := db.GlobalPolicy(ctx) // now cached
	if err != nil {
		t.Fatal(err)
	}
	g.NewUserPolicy = store.NewUserDeny
	if err := db.UpdatePolicy(ctx, g); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GlobalPolicy(ctx); got.NewUserPolicy != store.NewUserDeny {
		t.Fatalf("after an update outside a transaction: %q", got.NewUserPolicy)
	}
	// A change inside a transaction shows once committed, and a reader
	// during the transaction does not pin the old value.
	err = db.InTx(ctx, func(q store.Queries) error {
		g.NewUserPolicy = store.NewUserAllow
		if err := q.UpdatePolicy(ctx, g); err != nil {
			return err
		}
		if got, _ := q.GlobalPolicy(ctx); got.NewUserPolicy != store.NewUserAllow {
			t.Errorf("the transaction does not see its own write: %q", got.NewUserPolicy)
		}
		if got, _ := db.GlobalPolicy(ctx); got.NewUserPolicy != store.NewUserDeny {
			t.Errorf("another reader saw an uncommitted write: %q", got.NewUserPolicy)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GlobalPolicy(ctx); got.NewUserPolicy != store.NewUserAllow {
		t.Fatalf("after commit: %q", got.NewUserPolicy)
	}
	// A rolled-back change leaves the committed value.
	db.InTx(ctx, func(q store.Queries) error {
		g.NewUserPolicy = store.NewUserRequireEnrollment
		q.UpdatePolicy(ctx, g)
		return errors.New("roll back")
	})
	if got, _ := db.GlobalPolicy(ctx); got.NewUserPolicy != store.NewUserAllow {
		t.Fatalf("after rollback: %q", got.NewUserPolicy)
	}
	// Callers may change what they get without changing the cache.
	got, _ := db.GlobalPolicy(ctx)
	got.EnrollMethods[0] = "changed"
	if again, _ := db.GlobalPolicy(ctx); again.EnrollMethods[0] == "changed" {
		t.Fatal("the cache hands out shared slices")
	}

	// Applications: created ones are found at once, also by a cached miss.
	if _, err := db.ApplicationByClientID(ctx, "DIAPP"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing app: %v", err)
	}
	err = db.InTx(ctx, func(q store.Queries) error {
		return q.CreateApplication(ctx, &store.Application{Key: "DAAPP", Name: "VPN", Kind: store.AppUnix, ClientID: "DIAPP",
			ClientSecret: []byte("x"), UsernameNormalization: store.NormalizeNone, CreatedAt: t0, UpdatedAt: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := db.ApplicationByClientID(ctx, "DIAPP"); err != nil || a.Name != "VPN" {
		t.Fatalf("created app: %+v %v", a, err)
	}
}

// A statement refused inside a transaction (a duplicate username) fails
// alone: the transaction goes on and commits what else it did, on both
// backends (PostgreSQL would abort the whole transaction by itself).
func TestRefusedStatementLeavesTheTransactionUsable(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	err := db.InTx(ctx, func(q store.Queries) error {
		alice := store.User{Key: "DUALICE", Username: "alice", Status: store.StatusActive, CreatedAt: t0, UpdatedAt: t0}
		if err := q.CreateUser(ctx, &alice); err != nil {
			return err
		}
		again := store.User{Key: "DUALICE2", Username: "alice", Status: store.StatusActive, CreatedAt: t0, UpdatedAt: t0}
		if err := q.CreateUser(ctx, &again); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate inside the transaction: %v, want ErrConflict", err)
		}
		if _, err := q.UserByUsername(ctx, "alice"); err != nil {
			return fmt.Errorf("read after the refused statement: %w", err)
		}
		bob := store.User{Key: "DUBOB", Username: "bob", Status: store.StatusActive, CreatedAt: t0, UpdatedAt: t0}
		return q.CreateUser(ctx, &bob)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob"} {
		if _, err := db.UserByUsername(ctx, name); err != nil {
			t.Errorf("%s after commit: %v", name, err)
		}
	}
}
