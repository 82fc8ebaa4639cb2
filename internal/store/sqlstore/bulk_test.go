package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"enrollportal/internal/store"
)

func TestBulkInsertsSetIDsAcrossChunks(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	const n = 1201 // three statements of at most 500 rows
	var users []*store.User
	var phones []*store.Phone
	for i := 0; i < n; i++ {
		users = append(users, &store.User{Key: fmt.Sprintf("DU%018d", i), Username: fmt.Sprintf("bulk%04d", i),
			Status: store.StatusActive, CreatedAt: t0, UpdatedAt: t0})
		phones = append(phones, &store.Phone{Key: fmt.Sprintf("DP%018d", i), Type: store.PhoneMobile,
			Platform: store.PlatformGeneric, Number: fmt.Sprintf("+1415555%04d", i), CreatedAt: t0})
	}
	err := db.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateUsers(ctx, users); err != nil {
			return err
		}
		if err := q.CreatePhones(ctx, phones); err != nil {
			return err
		}
		pairs := make([][2]int64, n)
		for i := range users {
			pairs[i] = [2]int64{users[i].ID, phones[i].ID}
		}
		return q.AttachPhones(ctx, pairs)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 499, 500, 1200} {
		u, err := db.UserByUsername(ctx, users[i].Username)
		if err != nil || u.ID != users[i].ID {
			t.Fatalf("user %d: id %d, stored %+v, %v", i, users[i].ID, u, err)
		}
		ps, err := db.PhonesByUser(ctx, u.ID)
		if err != nil || len(ps) != 1 || ps[0].Number != phones[i].Number {
			t.Fatalf("phones of user %d = %+v, %v", i, ps, err)
		}
	}
	if got, _ := db.CountUsers(ctx); got != n {
		t.Errorf("CountUsers = %d, want %d", got, n)
	}
	// A taken username fails the whole statement, as one transaction.
	dup := []*store.User{{Key: "DUNEW", Username: "fresh", Status: store.StatusActive}, {Key: "DUDUP", Username: "bulk0000", Status: store.StatusActive}}
	err = db.InTx(ctx, func(q store.Queries) error { return q.CreateUsers(ctx, dup) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate username: %v, want ErrConflict", err)
	}
	if _, err := db.UserByUsername(ctx, "fresh"); !errors.Is(err, store.ErrNotFound) {
		t.Error("a failed bulk insert left a row behind")
	}
}
