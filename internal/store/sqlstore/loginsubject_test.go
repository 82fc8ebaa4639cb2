package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"enrollportal/internal/store"
)

// LoginSubjectByUsername answers in one statement what UserByUsername,
// GroupIDsOfUser and PhonesByUser answer apart: the answers must agree,
// with and without phones and groups, and a security key changes nothing.
func TestLoginSubjectAgreesWithTheSeparateReads(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	bare := mustUser(t, db, "bare")
	full := mustUser(t, db, "full")
	for _, name := range []string{"ops", "dev"} {
		g := store.Group{Key: "DG" + name, Name: name, CreatedAt: t0}
		if err := db.CreateGroup(ctx, &g); err != nil {
			t.Fatal(err)
		}
		if err := db.AddUserToGroup(ctx, full.ID, g.ID); err != nil {
			t.Fatal(err)
		}
	}
	for i, number := range []string{"+12025550101", "+12025550102"} {
		p := store.Phone{Key: "DP" + number, Number: number, Type: store.PhoneMobile, Platform: store.PlatformAndroid,
			CreatedAt: t0, Activated: i == 1, TOTPSecret: []byte{byte(i + 1), 2, 3}, ActivatedAt: &t0, LastTOTPStep: int64(40 + i)}
		if i == 0 {
			p.TOTPSecret, p.ActivatedAt = nil, nil
		}
		if err := db.CreatePhone(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if err := db.AttachPhone(ctx, full.ID, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	k := store.SecurityKey{Key: "DWfull", UserID: full.ID, CredentialID: []byte("cred"), PublicKey: []byte("pk"), AAGUID: make([]byte, 16), AttestationType: "none", Name: "Key", CreatedAt: t0}
	if err := db.CreateSecurityKey(ctx, &k); err != nil {
		t.Fatal(err)
	}

	for _, u := range []store.User{bare, full} {
		got, err := db.LoginSubjectByUsername(ctx, u.Username)
		if err != nil {
			t.Fatalf("%s: %v", u.Username, err)
		}
		wantUser, _ := db.UserByUsername(ctx, u.Username)
		wantGroups, _ := db.GroupIDsOfUser(ctx, u.ID)
		wantPhones, _ := db.PhonesByUser(ctx, u.ID)
		if got.User != wantUser {
			t.Errorf("%s: user %+v, want %+v", u.Username, got.User, wantUser)
		}
		if !slices.Equal(got.GroupIDs, wantGroups) {
			t.Errorf("%s: groups %v, want %v", u.Username, got.GroupIDs, wantGroups)
		}
		if len(got.Phones) != len(wantPhones) {
			t.Fatalf("%s: %d phones, want %d", u.Username, len(got.Phones), len(wantPhones))
		}
		for i := range wantPhones {
			g, w := got.Phones[i], wantPhones[i]
			if g.ID != w.ID || g.Key != w.Key || g.Number != w.Number || g.Type != w.Type || g.Platform != w.Platform ||
				!slices.Equal(g.TOTPSecret, w.TOTPSecret) || g.Activated != w.Activated || g.LastTOTPStep != w.LastTOTPStep ||
				(g.ActivatedAt == nil) != (w.ActivatedAt == nil) || !g.CreatedAt.Equal(w.CreatedAt) {
				t.Errorf("%s: phone %d %+v, want %+v", u.Username, i, g, w)
			}
		}
	}
	if full, _ := db.LoginSubjectByUsername(ctx, "full"); len(full.GroupIDs) != 2 || len(full.Phones) != 2 {
		t.Errorf("full: %+v", full)
	}
	if _, err := db.LoginSubjectByUsername(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
}
