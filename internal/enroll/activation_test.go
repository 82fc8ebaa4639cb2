package enroll_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
	"enrollportal/internal/verify"
)

var adminWho = audit.Who{Type: audit.ActorAdmin, Name: "owner@example.com"}

func TestAddPhone(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	alice, _ := p.Users.Create(ctx, users.NewUser{Username: "alice"}, adminWho)
	bob, _ := p.Users.Create(ctx, users.NewUser{Username: "bob"}, adminWho)
	tests := []struct {
		name string
		np   enroll.NewPhone
		want store.Phone
		err  error
	}{
		{"mobile, platform defaults to generic", enroll.NewPhone{Type: "mobile", Number: "(201) 555-0123"},
			store.Phone{Type: "mobile", Number: "+12015550123", Platform: store.PlatformGeneric}, nil},
		{"landline abroad", enroll.NewPhone{Type: "landline", Number: "+44 20 7946 0958", Platform: store.PlatformIOS},
			store.Phone{Type: "landline", Number: "+442079460958", Platform: store.PlatformUnknown}, nil},
		{"tablet", enroll.NewPhone{Type: "tablet", Platform: store.PlatformIOS, Name: "iPad"},
			store.Phone{Type: "tablet", Platform: store.PlatformIOS, Name: "iPad"}, nil},
		{"tablet with number", enroll.NewPhone{Type: "tablet", Number: "2015550123"}, store.Phone{}, enroll.ErrTabletNumber},
		{"bad number", enroll.NewPhone{Type: "mobile", Number: "12"}, store.Phone{}, enroll.ErrInvalidNumber},
		{"bad type", enroll.NewPhone{Type: "fax", Number: "2015550123"}, store.Phone{}, enroll.ErrInvalidPhoneType},
		{"bad platform", enroll.NewPhone{Type: "mobile", Number: "2015550123", Platform: "BlackBerry"}, store.Phone{}, enroll.ErrInvalidPlatform},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ph, err := p.Enroll.AddPhone(ctx, alice, tt.np, adminWho)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && (ph.Type != tt.want.Type || ph.Number != tt.want.Number || ph.Platform != tt.want.Platform || ph.Name != tt.want.Name) {
				t.Fatalf("phone %+v, want %+v", ph, tt.want)
			}
		})
	}
	// The same number for another user shares the phone.
	shared, err := p.Enroll.AddPhone(ctx, bob, enroll.NewPhone{Type: "mobile", Number: "+1 201 555 0123"}, adminWho)
	if err != nil {
		t.Fatal(err)
	}
	alicePhones, _ := p.Store.PhonesByUser(ctx, alice.ID)
	if len(alicePhones) != 3 || alicePhones[0].ID != shared.ID {
		t.Fatalf("phone not shared: %+v vs %+v", alicePhones, shared)
	}
	if e := testkit.Got(p.Store.AuditForTarget(ctx, audit.TargetUser, "bob", 1)).Must(t); len(e) != 1 || e[0].Action != audit.PhoneAdded {
		t.Fatalf("audit %+v", e)
	}
}

func issue(t *testing.T, p *testkit.Portal, u store.User, ph store.Phone, ttl time.Duration, via string) (enroll.IssuedActivation, error) {
	t.Helper()
	var out enroll.IssuedActivation
	err := p.Store.InTx(context.Background(), func(q store.Queries) error {
		var err error
		out, err = p.Enroll.IssueActivationTx(context.Background(), q, u, ph, ttl, via, adminWho)
		return err
	})
	return out, err
}

func TestActivationRules(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	u, _ := p.Users.Create(ctx, users.NewUser{Username: "alice"}, adminWho)
	mobile, _ := p.Enroll.AddPhone(ctx, u, enroll.NewPhone{Type: "mobile", Number: "2015550123", Platform: store.PlatformAndroid}, adminWho)
	unknown, _ := p.Enroll.AddPhone(ctx, u, enroll.NewPhone{Type: "mobile", Number: "2015550124", Platform: store.PlatformUnknown}, adminWho)
	landline, _ := p.Enroll.AddPhone(ctx, u, enroll.NewPhone{Type: "landline", Number: "2015550125"}, adminWho)

	for _, ph := range []store.Phone{unknown, landline} {
		if _, err := issue(t, p, u, ph, 0, ""); !errors.Is(err, enroll.ErrNotActivatable) {
			t.Fatalf("%s %s: %v", ph.Type, ph.Platform, err)
		}
	}
	if _, err := issue(t, p, u, mobile, 31*24*time.Hour, ""); !errors.Is(err, enroll.ErrInvalidTTL) {
		t.Fatalf("ttl: %v", err)
	}
	// A code only shown to the admin can be replaced at once; the old one
	// stops working.
	shown, err := issue(t, p, u, mobile, 0, "")
	if err != nil || shown.Code.ExpiresAt.Sub(p.Clock.Now()) != enroll.ActivationTTL {
		t.Fatalf("%+v %v", shown, err)
	}
	sent, err := issue(t, p, u, mobile, 2*time.Hour, "sms")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Enroll.OpenActivation(ctx, shown.Token); !errors.Is(err, enroll.ErrActivationNotFound) {
		t.Fatalf("replaced code still opens: %v", err)
	}
	// A sent code blocks another until it expires.
	var pending *enroll.ActivationPendingError
	if _, err := issue(t, p, u, mobile, 0, "email"); !errors.As(err, &pending) || !pending.Until.Equal(sent.Code.ExpiresAt) {
		t.Fatalf("second send: %v", err)
	}
	p.Clock.Advance(2 * time.Hour)
	if _, err := p.Enroll.OpenActivation(ctx, sent.Token); !errors.Is(err, enroll.ErrActivationExpired) {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := issue(t, p, u, mobile, 0, "email"); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if _, err := p.Enroll.OpenActivation(ctx, "not-a-real-code-at-all-xxxxxxxxxx"); !errors.Is(err, enroll.ErrActivationNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
}

func TestActivationConfirm(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	u, _ := p.Users.Create(ctx, users.NewUser{Username: "alice"}, adminWho)
	tablet, _ := p.Enroll.AddPhone(ctx, u, enroll.NewPhone{Type: "tablet", Platform: store.PlatformIOS}, adminWho)
	issued, err := issue(t, p, u, tablet, 0, "email")
	if err != nil {
		t.Fatal(err)
	}
	phoneWho := audit.Who{Type: audit.ActorUser, Name: "alice"}
	a, err := p.Enroll.OpenActivation(ctx, issued.Token)
	if err != nil || a.Phone.ID != tablet.ID || a.User.ID != u.ID {
		t.Fatalf("%+v %v", a, err)
	}
	setup, err := p.Enroll.BeginActivation(ctx, a, "", phoneWho)
	if err != nil {
		t.Fatal(err)
	}
	// A reload shows the same secret.
	again, err := p.Enroll.BeginActivation(ctx, a, setup.ChallengeKey, phoneWho)
	if err != nil || again.Secret != setup.Secret {
		t.Fatalf("reload changed the secret: %v", err)
	}
	var wrong *verify.WrongCodeError
	if _, err := p.Enroll.ConfirmActivation(ctx, a, setup.ChallengeKey, "000000", phoneWho); !errors.As(err, &wrong) || wrong.Remaining != verify.MaxFailures-1 {
		t.Fatalf("wrong code: %v", err)
	}
	code, _ := totp.GenerateCode(setup.Secret, p.Clock.Now())
	ph, err := p.Enroll.ConfirmActivation(ctx, a, setup.ChallengeKey, code, phoneWho)
	if err != nil || !ph.Activated {
		t.Fatalf("confirm: %+v %v", ph, err)
	}
	stored, _ := p.Store.PhoneByID(ctx, tablet.ID)
	if secretOf, err := p.Enroll.OpenPhoneSecret(stored); err != nil || secretOf != setup.Secret || !stored.Activated {
		t.Fatalf("stored phone %+v: %v", stored, err)
	}
	if fresh, _ := p.Store.UserByID(ctx, u.ID); fresh.FailedAttempts != 0 {
		t.Fatalf("failures not reset: %d", fresh.FailedAttempts)
	}
	if _, err := p.Enroll.OpenActivation(ctx, issued.Token); !errors.Is(err, enroll.ErrActivationUsed) {
		t.Fatalf("used code: %v", err)
	}
	e, _ := p.Store.AuditForTarget(ctx, audit.TargetUser, "alice", 1)
	if len(e) != 1 || e[0].Action != audit.PhoneActivated {
		t.Fatalf("audit %+v", e)
	}
}

func TestSendActivations(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	alice, _ := p.Users.Create(ctx, users.NewUser{Username: "alice", Email: "alice@example.com"}, adminWho)
	bob, _ := p.Users.Create(ctx, users.NewUser{Username: "bob"}, adminWho)
	aliceMobile, _ := p.Enroll.AddPhone(ctx, alice, enroll.NewPhone{Type: "mobile", Number: "2015550123", Platform: store.PlatformIOS}, adminWho)
	aliceTablet, _ := p.Enroll.AddPhone(ctx, alice, enroll.NewPhone{Type: "tablet"}, adminWho)
	bobTablet, _ := p.Enroll.AddPhone(ctx, bob, enroll.NewPhone{Type: "tablet"}, adminWho)
	email, sms, err := p.Enroll.ActivationTexts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sms.Install = "Install the app: {insturl}"
	send := enroll.ActivationSend{Via: enroll.ViaSMS, SMSText: sms, EmailText: email}
	targets := []enroll.ActivationTarget{{alice.ID, aliceMobile.ID}, {alice.ID, aliceTablet.ID}, {bob.ID, aliceMobile.ID}}
	out, err := p.Enroll.SendActivations(ctx, targets, send, adminWho)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Skipped != nil || out[0].Issued == nil || !errors.Is(out[1].Skipped, enroll.ErrNoNumber) || !errors.Is(out[2].Skipped, enroll.ErrPhoneNotOfUser) {
		t.Fatalf("outcomes %+v", out)
	}
	var n int
	p.Store.SQL().QueryRow(`SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND recipient = '+12015550123'`).Scan(&n)
	if n != 2 {
		t.Fatalf("%d SMS queued, want 2", n)
	}
	// The edited text is saved; a second send to the same phone is refused
	// while the first link works.
	if _, saved, _ := p.Enroll.ActivationTexts(ctx); saved.Install != sms.Install {
		t.Fatalf("saved %+v", saved)
	}
	var pending *enroll.ActivationPendingError
	if _, err := p.Enroll.SendActivation(ctx, targets[0], send, adminWho); !errors.As(err, &pending) {
		t.Fatalf("second send: %v", err)
	}
	// Email: needs an address on file.
	emailSend := enroll.ActivationSend{Via: enroll.ViaEmail, EmailText: email, WithLogo: true, LogoURL: p.URL + "/assets/logo.svg"}
	if _, err := p.Enroll.SendActivation(ctx, enroll.ActivationTarget{bob.ID, bobTablet.ID}, emailSend, adminWho); !errors.Is(err, enroll.ErrNoEmail) {
		t.Fatalf("bob without email: %v", err)
	}
	issued, err := p.Enroll.SendActivation(ctx, enroll.ActivationTarget{alice.ID, aliceTablet.ID}, emailSend, adminWho)
	if err != nil {
		t.Fatal(err)
	}
	var body, html string
	p.Store.SQL().QueryRow(`SELECT body_text, body_html FROM outbox WHERE channel = 'email'`).Scan(&body, &html)
	if !strings.Contains(body, issued.URL) || !strings.Contains(html, "logo.svg") {
		t.Fatalf("email %q", body)
	}
	// Bad text is refused before anything happens.
	var ite *enroll.InvalidTextError
	bad := enroll.ActivationSend{Via: enroll.ViaSMS, SMSText: notify.ActivationSMSText{Install: "no link", Activation: "{acturl}"}}
	if _, err := p.Enroll.SendActivations(ctx, targets[:1], bad, adminWho); !errors.As(err, &ite) {
		t.Fatalf("bad text: %v", err)
	}
}
