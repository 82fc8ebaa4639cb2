package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"enrollportal/internal/store"
)

// TestEnrollmentLinkAndUserReadsBoth checks the link page's lookup, which
// SQLite answers in two statements and PostgreSQL in one: the link's
// fields and its user's, the user's status as it is now, and ErrNotFound
// for an unknown hash and once the user (and with them the link) is gone.
func TestEnrollmentLinkAndUserReadsBoth(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	mustUser(t, db, "someone-else")
	u := store.User{Key: "DUANNA", Username: "anna", RealName: "Anna Svensson", Email: "anna@example.org",
		Status: store.StatusActive, CreatedAt: t0, UpdatedAt: t0}
	if err := db.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	sent := t0.Add(time.Minute)
	l := store.EnrollmentLink{UserID: u.ID, TokenHash: []byte("hash-of-annas-token-32-bytes...."), TokenSalt: []byte("salt"),
		CreatedBy: "admin", CreatedAt: t0, ExpiresAt: t0.Add(72 * time.Hour), SentAt: &sent}
	if err := db.CreateEnrollmentLink(ctx, &l); err != nil {
		t.Fatal(err)
	}
	// Once a login has read her, the user may come from the login cache.
	if _, err := db.LoginSubjectByUsername(ctx, "anna"); err != nil {
		t.Fatal(err)
	}
	gotL, gotU, err := db.EnrollmentLinkAndUser(ctx, l.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if gotL.ID != l.ID || gotL.UserID != u.ID || !gotL.CreatedAt.Equal(t0) || !gotL.ExpiresAt.Equal(l.ExpiresAt) ||
		gotL.SentAt == nil || !gotL.SentAt.Equal(sent) || gotL.UsedAt != nil || gotL.RevokedAt != nil {
		t.Errorf("link = %+v, want %+v", gotL, l)
	}
	if gotU.ID != u.ID || gotU.Key != u.Key || gotU.Username != u.Username || gotU.RealName != u.RealName ||
		gotU.Email != u.Email || gotU.Status != store.StatusActive || gotU.FailedAttempts != 0 {
		t.Errorf("user = %+v, want %+v", gotU, u)
	}

	// The user's status is read as it is now, cache or not: a disabled
	// user's link shows them disabled.
	u.Status = store.StatusDisabled
	if err := db.UpdateUser(ctx, u, false); err != nil {
		t.Fatal(err)
	}
	if _, gotU, err = db.EnrollmentLinkAndUser(ctx, l.TokenHash); err != nil || gotU.Status != store.StatusDisabled {
		t.Errorf("after disabling: user status %q, %v; want disabled", gotU.Status, err)
	}

	if _, _, err := db.EnrollmentLinkAndUser(ctx, []byte("no-such-hash")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hash: %v, want ErrNotFound", err)
	}
	if err := db.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.EnrollmentLinkAndUser(ctx, l.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after deleting the user: %v, want ErrNotFound", err)
	}
}
