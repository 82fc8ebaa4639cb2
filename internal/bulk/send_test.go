package bulk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/bulk"
	"enrollportal/internal/enroll"
	"enrollportal/internal/notify"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

var admin = audit.Who{Type: audit.ActorAdmin, Name: "owner@example.com", IP: "127.0.0.1"}

func newBulk(t *testing.T) (*testkit.Portal, *bulk.Service) {
	t.Helper()
	p := testkit.New(t)
	return p, bulk.New(bulk.Options{Store: p.Store, Enroll: p.Enroll, Clock: p.Clock, OrgName: p.Org.Name, Jobs: p.Jobs})
}

type outboxRow struct{ intent, recipient, subject, body string }

func outbox(t *testing.T, p *testkit.Portal) []outboxRow {
	t.Helper()
	rows, err := p.Store.SQL().Query(`SELECT intent_key, recipient, subject, body_text FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.intent, &r.recipient, &r.subject, &r.body); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// enrolledUser creates a user with an activated phone.
func enrolledUser(t *testing.T, p *testkit.Portal, name string) store.User {
	t.Helper()
	ctx := context.Background()
	u, err := p.Users.Create(ctx, users.NewUser{Username: name, Email: name + "@old.example.com"}, admin)
	if err != nil {
		t.Fatal(err)
	}
	now := p.Clock.Now()
	ph := store.Phone{Key: "DP" + strings.ToUpper(name), Type: store.PhoneMobile, Platform: store.PlatformIOS,
		TOTPSecret: []byte("sealed"), Activated: true, ActivatedAt: &now, CreatedAt: now}
	if err := p.Store.CreatePhone(ctx, &ph); err != nil {
		t.Fatal(err)
	}
	if err := p.Store.AttachPhone(ctx, u.ID, ph.ID); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPreviewAndSend(t *testing.T) {
	p, svc := newBulk(t)
	ctx := context.Background()
	enrolledUser(t, p, "erin")
	pending, _ := p.Users.Create(ctx, users.NewUser{Username: "paul", Email: "paul@old.example.com"}, admin)
	oldLink, err := p.Enroll.IssueLink(ctx, "paul", 0, admin)
	if err != nil {
		t.Fatal(err)
	}

	paste := "username,email\nalice,alice@example.com\nErin,erin@example.com\npaul,paul@new.example.com\nbad user,x@example.com\nbob,bob@example.com\n"
	pv, err := svc.Preview(ctx, bulk.Parse(paste))
	if err != nil {
		t.Fatal(err)
	}
	lines := func(rows []bulk.PreviewRow) (out []int) {
		for _, r := range rows {
			out = append(out, r.Line)
		}
		return out
	}
	if got := lines(pv.Create); len(got) != 2 || got[0] != 2 || got[1] != 6 {
		t.Fatalf("create lines %v", got)
	}
	if got := lines(pv.Skip); len(got) != 1 || got[0] != 3 {
		t.Fatalf("skip lines %v", got)
	}
	if len(pv.Relink) != 1 || pv.Relink[0].Line != 4 || pv.Relink[0].OldEmail != "paul@old.example.com" {
		t.Fatalf("relink %+v", pv.Relink)
	}
	if len(pv.Problems) != 1 || pv.Problems[0].Line != 5 {
		t.Fatalf("problems %+v", pv.Problems)
	}

	text := notify.Text{Subject: "Welcome {username}", Body: "Hi {realname}, enroll at {link} before {expires}."}
	rep, err := svc.Send(ctx, pv.Rows(), text, admin)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (bulk.Report{Created: 2, Relinked: 1, Skipped: 0, Messages: 3}) {
		t.Fatalf("report %+v", rep)
	}
	msgs := outbox(t, p)
	if len(msgs) != 3 {
		t.Fatalf("outbox %+v", msgs)
	}
	want := []string{"alice@example.com", "paul@new.example.com", "bob@example.com"}
	for i, m := range msgs {
		if m.recipient != want[i] || !strings.HasPrefix(m.subject, "Welcome ") || !strings.Contains(m.body, p.URL+"/enroll/") {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	// Each new user exists with a pending 30-day link whose token is in the mail.
	alice, err := p.Store.UserByUsername(ctx, "alice")
	if err != nil || alice.Email != "alice@example.com" {
		t.Fatalf("alice %+v %v", alice, err)
	}
	token := msgs[0].body[strings.Index(msgs[0].body, "/enroll/")+len("/enroll/"):]
	token = strings.Fields(token)[0]
	l, u, err := p.Enroll.OpenLink(ctx, token)
	if err != nil || u.ID != alice.ID || l.ExpiresAt.Sub(p.Clock.Now()) != enroll.LinkTTL {
		t.Fatalf("link %+v %v", l, err)
	}
	// Paul's old link stopped working and his email on file changed.
	if _, _, err := p.Enroll.OpenLink(ctx, oldLink.Token); !errors.Is(err, enroll.ErrLinkRevoked) {
		t.Fatalf("old link: %v", err)
	}
	if paul, _ := p.Store.UserByID(ctx, pending.ID); paul.Email != "paul@new.example.com" {
		t.Fatalf("paul %+v", paul)
	}
	entries, _ := p.Store.AuditForTarget(ctx, audit.TargetUser, "alice", 5)
	actions := map[string]bool{}
	for _, e := range entries {
		actions[e.Action] = true
	}
	if !actions[audit.UserCreated] || !actions[audit.EnrollmentLinkCreated] {
		t.Fatalf("alice audit %+v", entries)
	}

	// Sending the same rows again: the users exist now and are not
	// enrolled, so they get fresh links; a user who enrolled meanwhile is
	// skipped.
	enrolled := enrolledUser(t, p, "zed")
	_ = enrolled
	rep, err = svc.Send(ctx, []bulk.Row{{Line: 1, Username: "zed", Email: "zed@example.com"}, {Line: 2, Username: "bob", Email: "bob@example.com"}}, text, admin)
	if err != nil || rep != (bulk.Report{Relinked: 1, Skipped: 1, Messages: 1}) {
		t.Fatalf("second send %+v %v", rep, err)
	}
}

func TestSendRefusesBadTextAndEmptySends(t *testing.T) {
	p, svc := newBulk(t)
	ctx := context.Background()
	enrolledUser(t, p, "erin")
	rows := []bulk.Row{{Line: 1, Username: "alice", Email: "alice@example.com"}}
	var ite *bulk.InvalidTextError
	if _, err := svc.Send(ctx, rows, notify.Text{Subject: "Hi", Body: "no link here"}, admin); !errors.As(err, &ite) || len(ite.Problems) == 0 {
		t.Fatalf("text without {link}: %v", err)
	}
	if _, err := svc.Send(ctx, []bulk.Row{{Line: 1, Username: "erin", Email: "erin@example.com"}}, notify.DefaultEnrollment, admin); !errors.Is(err, bulk.ErrNothingToSend) {
		t.Fatalf("only enrolled: %v", err)
	}
	if n := testkit.Got(p.Store.CountUsers(ctx)).Must(t); n != 1 || len(outbox(t, p)) != 0 {
		t.Fatalf("a refused send changed something: %d users", n)
	}
}

func TestSavedText(t *testing.T) {
	p, svc := newBulk(t)
	ctx := context.Background()
	if got, _ := svc.Text(ctx); got != notify.DefaultEnrollment {
		t.Fatalf("default %+v", got)
	}
	custom := notify.Text{Subject: "Enroll now", Body: "Go to {link}"}
	if err := svc.SaveText(ctx, custom, admin); err != nil {
		t.Fatal(err)
	}
	p.Clock.Advance(time.Minute)
	if got, _ := svc.Text(ctx); got != custom {
		t.Fatalf("saved %+v", got)
	}
	var ite *bulk.InvalidTextError
	if err := svc.SaveText(ctx, notify.Text{Subject: "", Body: ""}, admin); !errors.As(err, &ite) {
		t.Fatalf("empty text saved: %v", err)
	}
}
