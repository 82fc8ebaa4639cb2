package enroll_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func TestKeyLoginOffersTheUsersKeysAndRefusesWhatDoesNotProveOne(t *testing.T) {
	ctx := context.Background()
	p := testkit.New(t)
	u := mkUser(t, p, "kim")
	if _, _, err := p.Enroll.BeginKeyLogin(ctx, u, "tx1"); !errors.Is(err, enroll.ErrKeyNotAccepted) {
		t.Fatalf("a user without keys: %v", err)
	}
	k := store.SecurityKey{Key: "DWKEY000000000000000", UserID: u.ID, CredentialID: []byte("credential-1"),
		PublicKey: []byte{1, 2, 3}, AAGUID: make([]byte, 16), AttestationType: "none", Name: "Blue key", CreatedAt: p.Clock.Now()}
	if err := p.Store.CreateSecurityKey(ctx, &k); err != nil {
		t.Fatal(err)
	}
	options, sealed, err := p.Enroll.BeginKeyLogin(ctx, u, "tx1")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		PublicKey struct {
			Challenge        string `json:"challenge"`
			RPID             string `json:"rpId"`
			AllowCredentials []struct {
				ID string `json:"id"`
			} `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &got); err != nil {
		t.Fatal(err)
	}
	if got.PublicKey.Challenge == "" || got.PublicKey.RPID != "localhost" || len(got.PublicKey.AllowCredentials) != 1 ||
		got.PublicKey.AllowCredentials[0].ID != base64.RawURLEncoding.EncodeToString([]byte("credential-1")) {
		t.Fatalf("options %s", options)
	}
	if strings.Contains(string(sealed), got.PublicKey.Challenge) {
		t.Fatal("the login session is stored in clear")
	}

	who := audit.Who{Type: audit.ActorUser, Name: "kim"}
	// A session sealed for another login does not open for this one.
	if _, err := p.Enroll.FinishKeyLogin(ctx, u, sealed, "tx2", strings.NewReader(`{}`), who); !errors.Is(err, enroll.ErrKeyNotAccepted) {
		t.Fatalf("session of another login: %v", err)
	}
	if _, err := p.Enroll.FinishKeyLogin(ctx, u, sealed, "tx1", strings.NewReader(`{"id":"x","type":"public-key"}`), who); !errors.Is(err, enroll.ErrKeyNotAccepted) {
		t.Fatalf("malformed answer: %v", err)
	}
	entries, err := p.Store.AuditForTarget(ctx, audit.TargetUser, "kim", 5)
	if err != nil || len(entries) == 0 || entries[0].Action != audit.SecurityKeyLoginFail {
		t.Fatalf("no audit record of the refused key: %+v %v", entries, err)
	}
}
