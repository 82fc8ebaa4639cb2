package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"enrollportal/internal/store"
)

func TestAuthTransactionsBelongToTheirApplicationAndExpire(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	app := store.Application{Key: "DAAPP", Name: "A", Kind: store.AppUnix, ClientID: "DIAPP", ClientSecret: []byte("s"),
		UsernameNormalization: store.NormalizeSimple, CreatedAt: t0, UpdatedAt: t0}
	if err := db.InTx(ctx, func(q store.Queries) error { return q.CreateApplication(ctx, &app) }); err != nil {
		t.Fatal(err)
	}
	tx := store.AuthTransaction{TxID: "tx-1", ApplicationID: app.ID, Result: "allow", Status: "allow", StatusMsg: "ok",
		CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	if err := db.CreateAuthTransaction(ctx, &tx); err != nil {
		t.Fatal(err)
	}
	got, err := db.AuthTransactionByTxID(ctx, app.ID, "tx-1")
	if err != nil || got.Result != "allow" || got.StatusMsg != "ok" || !got.ExpiresAt.Equal(tx.ExpiresAt) {
		t.Fatalf("AuthTransactionByTxID = %+v, %v", got, err)
	}
	if _, err := db.AuthTransactionByTxID(ctx, app.ID+1, "tx-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another application read the transaction: %v", err)
	}
	if n, err := db.DeleteExpiredAuthTransactions(ctx, t0.Add(time.Minute)); err != nil || n != 0 {
		t.Errorf("deleted %d live transactions, %v", n, err)
	}
	if n, err := db.DeleteExpiredAuthTransactions(ctx, t0.Add(5*time.Minute)); err != nil || n != 1 {
		t.Errorf("deleted %d expired transactions, want 1, %v", n, err)
	}
}

func TestGroupIDsOfUser(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	u := mustUser(t, db, "gina")
	var ids []int64
	for _, name := range []string{"ops", "dev"} {
		g := store.Group{Key: "DG" + name, Name: name, CreatedAt: t0}
		if err := db.CreateGroup(ctx, &g); err != nil {
			t.Fatal(err)
		}
		if err := db.AddUserToGroup(ctx, u.ID, g.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	got, err := db.GroupIDsOfUser(ctx, u.ID)
	if err != nil || len(got) != 2 || got[0] != ids[0] || got[1] != ids[1] {
		t.Errorf("GroupIDsOfUser = %v, %v; want %v", got, err, ids)
	}
}

func TestApplicationLoadsRedirectURIsAndGroups(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	var groupIDs []int64
	for _, name := range []string{"b-team", "a-team"} {
		g := store.Group{Key: "DG" + name, Name: name, CreatedAt: t0}
		if err := db.CreateGroup(ctx, &g); err != nil {
			t.Fatal(err)
		}
		groupIDs = append(groupIDs, g.ID)
	}
	app := store.Application{Key: "DAWEB", Name: "Web", Kind: store.AppWeb, ClientID: "DIWEB", ClientSecret: []byte("s"),
		UsernameNormalization: store.NormalizeNone, GroupsRestricted: true, PermittedGroups: groupIDs,
		RedirectURIs: []string{"https://b.example/cb?x=1,2", `https://a.example/"quoted"`}, CreatedAt: t0, UpdatedAt: t0}
	bare := store.Application{Key: "DABARE", Name: "Bare", Kind: store.AppUnix, ClientID: "DIBARE", ClientSecret: []byte("s"),
		UsernameNormalization: store.NormalizeSimple, CreatedAt: t0, UpdatedAt: t0}
	err := db.InTx(ctx, func(q store.Queries) error {
		if err := q.CreateApplication(ctx, &app); err != nil {
			return err
		}
		return q.CreateApplication(ctx, &bare)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.ApplicationByClientID(ctx, "DIWEB")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.RedirectURIs) != 2 || got.RedirectURIs[0] != `https://a.example/"quoted"` || got.RedirectURIs[1] != "https://b.example/cb?x=1,2" {
		t.Errorf("redirect URIs = %q", got.RedirectURIs)
	}
	if len(got.PermittedGroups) != 2 || got.PermittedGroups[0] != groupIDs[0] || got.PermittedGroups[1] != groupIDs[1] || !got.GroupsRestricted {
		t.Errorf("permitted groups = %v, want %v", got.PermittedGroups, groupIDs)
	}
	other, err := db.ApplicationByClientID(ctx, "DIBARE")
	if err != nil || other.RedirectURIs != nil || other.PermittedGroups != nil {
		t.Errorf("application without URIs or groups = %+v, %v", other, err)
	}
	if _, err := db.ApplicationByClientID(ctx, "DINONE"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown client id: %v", err)
	}
}
