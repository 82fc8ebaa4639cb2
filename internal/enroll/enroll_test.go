package enroll_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

func mkUser(t *testing.T, p *testkit.Portal, name string) store.User {
	t.Helper()
	u, err := p.Users.Create(context.Background(), users.NewUser{Username: name, Email: name + "@example.com"}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLinksReplaceEachOtherAndExpire(t *testing.T) {
	ctx := context.Background()
	p := testkit.New(t)
	mkUser(t, p, "alice")
	first, err := p.Enroll.IssueLink(ctx, "ALICE", 0, audit.CLI())
	if err != nil || first.Revoked != 0 {
		t.Fatalf("first: %+v %v", first, err)
	}
	if got := p.Enroll.LinkToken(first.Link); got != first.Token {
		t.Fatal("the stored link does not give back its token, so resend could not send the same link")
	}
	row, _ := p.Store.EnrollmentLinkByID(ctx, first.Link.ID)
	if strings.Contains(string(row.TokenHash), first.Token) || !secret.EqualBytes(row.TokenHash, secret.HashToken(first.Token)) {
		t.Fatal("the token is not stored as its hash")
	}
	second, _ := p.Enroll.IssueLink(ctx, "alice", 0, audit.CLI())
	if second.Revoked != 1 {
		t.Fatalf("revoked %d", second.Revoked)
	}
	if _, _, err := p.Enroll.OpenLink(ctx, first.Token); !errors.Is(err, enroll.ErrLinkRevoked) {
		t.Fatalf("old link: %v", err)
	}
	if _, u, err := p.Enroll.OpenLink(ctx, second.Token); err != nil || u.Username != "alice" {
		t.Fatalf("new link: %v", err)
	}
	p.Clock.Advance(enroll.LinkTTL - time.Second)
	if _, _, err := p.Enroll.OpenLink(ctx, second.Token); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	p.Clock.Advance(time.Second)
	if _, _, err := p.Enroll.OpenLink(ctx, second.Token); !errors.Is(err, enroll.ErrLinkExpired) {
		t.Fatalf("at expiry: %v", err)
	}
	if _, err := p.Enroll.IssueLink(ctx, "nobody", 0, audit.CLI()); !errors.Is(err, enroll.ErrUserNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestConcurrentConfirmsOfOneSetUpMakeOnePhone(t *testing.T) {
	ctx := context.Background()
	p := testkit.New(t)
	u := mkUser(t, p, "alice")
	sub := enroll.Subject{User: u, Who: audit.CLI()}
	setup, err := p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneTablet, Platform: store.PlatformIOS})
	if err != nil {
		t.Fatal(err)
	}
	code := testkit.TOTPCode(t, setup.Secret, p.Clock.Now())
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Enroll.ConfirmAuthenticator(ctx, sub, setup.ChallengeKey, code); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	phones, _ := p.Store.PhonesByUser(ctx, u.ID)
	if wins != 1 || len(phones) != 1 {
		t.Fatalf("%d confirms succeeded, %d phones", wins, len(phones))
	}
	secretB32, err := p.Enroll.OpenPhoneSecret(phones[0])
	if err != nil || secretB32 != setup.Secret {
		t.Fatalf("stored secret does not open to the set-up's: %v", err)
	}
	if strings.Contains(string(phones[0].TOTPSecret), setup.Secret) {
		t.Fatal("the TOTP secret is stored in the clear")
	}
}

func TestSetUpOfAnotherUserIsNotUsable(t *testing.T) {
	ctx := context.Background()
	p := testkit.New(t)
	alice, bob := mkUser(t, p, "alice"), mkUser(t, p, "bob")
	setup, _ := p.Enroll.BeginAuthenticator(ctx, enroll.Subject{User: alice}, enroll.PhoneDraft{Type: store.PhoneTablet, Platform: store.PlatformIOS})
	_, err := p.Enroll.ConfirmAuthenticator(ctx, enroll.Subject{User: bob}, setup.ChallengeKey, testkit.TOTPCode(t, setup.Secret, p.Clock.Now()))
	if !errors.Is(err, enroll.ErrChallengeExpired) {
		t.Fatalf("bob used alice's set-up: %v", err)
	}
}

func TestDisabledUserCannotAddDevices(t *testing.T) {
	ctx := context.Background()
	p := testkit.New(t)
	u := mkUser(t, p, "alice")
	sub := enroll.Subject{User: u}
	setup, _ := p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneTablet, Platform: store.PlatformIOS})
	p.Store.SetUserStatus(ctx, u.ID, store.StatusDisabled, true, p.Clock.Now())
	if _, err := p.Enroll.ConfirmAuthenticator(ctx, sub, setup.ChallengeKey, testkit.TOTPCode(t, setup.Secret, p.Clock.Now())); !errors.Is(err, enroll.ErrUserDisabled) {
		t.Fatalf("disabled user: %v", err)
	}
}

func TestInlineTokensAreSignedAndShortLived(t *testing.T) {
	p := testkit.New(t)
	app := store.Application{Key: "DAX", Name: "VPN"}
	tok := p.Enroll.InlineToken("Carol", app)
	if !enroll.IsInlineToken(tok) {
		t.Fatal("inline token not recognised")
	}
	c, err := p.Enroll.OpenInline(tok)
	if err != nil || c.Username != "carol" || c.AppName != "VPN" {
		t.Fatalf("claims %+v %v", c, err)
	}
	// Flip a character of the signature's high bits (the last character
	// carries unused low bits, so it is left alone).
	flipped := []byte(tok)
	i := len(flipped) - 3
	if flipped[i] == 'Q' {
		flipped[i] = 'g'
	} else {
		flipped[i] = 'Q'
	}
	for _, bad := range []string{string(flipped), "x" + tok, strings.Replace(tok, ".", "", 1), "a.b", ""} {
		if _, err := p.Enroll.OpenInline(bad); !errors.Is(err, enroll.ErrLinkNotFound) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	p.Clock.Advance(enroll.InlineTTL)
	if _, err := p.Enroll.OpenInline(tok); !errors.Is(err, enroll.ErrLinkExpired) {
		t.Fatalf("expired: %v", err)
	}
	if n := testkit.Got(p.Store.CountUsers(context.Background())).Must(t); n != 0 {
		t.Fatal("handing out inline tokens wrote users")
	}
}

func TestInlineSubjectIsCreatedOnProofAndRefusedOnceEnrolledElsewhere(t *testing.T) {
	ctx := context.Background()
	p := testkit.New(t)
	sub := enroll.Subject{User: enroll.NewSubjectUser("Dave"), Who: audit.CLI()}
	a, _ := p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneTablet, Platform: store.PlatformIOS})
	b, _ := p.Enroll.BeginAuthenticator(ctx, sub, enroll.PhoneDraft{Type: store.PhoneTablet, Platform: store.PlatformAndroid})
	if _, err := p.Enroll.ConfirmAuthenticator(ctx, sub, a.ChallengeKey, testkit.TOTPCode(t, a.Secret, p.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	u, err := p.Store.UserByUsername(ctx, "dave")
	if err != nil || u.Key != sub.User.Key {
		t.Fatalf("user: %+v %v", u, err)
	}
	// A second set-up started before the user existed cannot add to the now
	// enrolled account.
	if _, err := p.Enroll.ConfirmAuthenticator(ctx, sub, b.ChallengeKey, testkit.TOTPCode(t, b.Secret, p.Clock.Now())); !errors.Is(err, enroll.ErrAlreadyEnrolled) {
		t.Fatalf("second inline set-up: %v", err)
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetUser, "dave", 10)
	found := false
	for _, e := range entries {
		found = found || e.Action == audit.UserCreated
	}
	if !found {
		t.Fatal("no audit record of the inline user's creation")
	}
}

func TestPhoneNumbers(t *testing.T) {
	for _, c := range []struct {
		region, in, e164 string
		err              error
	}{
		{"US", "(201) 555-0123", "+12015550123", nil},
		{"GB", "07400 123456", "+447400123456", nil},
		{"DE", "+1 201 555 0123", "+12015550123", nil},
		{"US", "123", "", enroll.ErrInvalidNumber},
		{"GB", "020 7946 0018", "", enroll.ErrNotMobile},
	} {
		got, err := enroll.ParsePhoneNumber(c.region, c.in)
		if !errors.Is(err, c.err) || got.E164 != c.e164 {
			t.Errorf("%s %q: %q %v", c.region, c.in, got.E164, err)
		}
	}
}
