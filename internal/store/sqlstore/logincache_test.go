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

// loginFixture is one user with an activated phone, in a database that two
// stores have open: here, whose login cache is under test (with a fake
// clock), and other, as another process or instance would.
type loginFixture struct {
	here, other *sqlstore.DB
	open        func() *sqlstore.DB
	user        store.User
	phone       store.Phone
	now         time.Time
}

func newLoginFixture(t *testing.T) *loginFixture {
	t.Helper()
	ctx := context.Background()
	open := newDatabase(t)
	f := &loginFixture{here: open(), other: open(), open: open, now: t0}
	sqlstore.SetLoginCacheClock(f.here, func() time.Time { return f.now })
	f.user = mustUser(t, f.here, "alice")
	f.phone = store.Phone{Key: "DPalice", Number: "+12025550101", Type: store.PhoneMobile, Platform: store.PlatformAndroid,
		TOTPSecret: []byte("sealed"), Activated: true, ActivatedAt: &t0, CreatedAt: t0}
	if err := f.here.CreatePhone(ctx, &f.phone); err != nil {
		t.Fatal(err)
	}
	if err := f.here.AttachPhone(ctx, f.user.ID, f.phone.ID); err != nil {
		t.Fatal(err)
	}
	// The first read loads the user into the cache, the second is served
	// from it.
	for range 2 {
		if ls := f.subject(t); ls.User.Status != store.StatusActive || len(ls.Phones) != 1 {
			t.Fatalf("before the change: %+v", ls)
		}
	}
	wantCached(t, f.here, 1)
	return f
}

// wantCached checks how many users db's login cache holds.
func wantCached(t *testing.T, db *sqlstore.DB, n int) {
	t.Helper()
	if got := sqlstore.LoginCacheSize(db); got != n {
		t.Fatalf("cache holds %d users, want %d", got, n)
	}
}

// subject is here's answer for alice; a deleted alice is a zero subject.
func (f *loginFixture) subject(t *testing.T) store.LoginSubject {
	t.Helper()
	ls, err := f.here.LoginSubjectByUsername(context.Background(), "alice")
	if errors.Is(err, store.ErrNotFound) {
		return store.LoginSubject{}
	}
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// loginChanges are the changes to alice's login inputs that a cache must
// never hide: each writes through db and says whether the subject shows it.
var loginChanges = []struct {
	name  string
	write func(context.Context, *sqlstore.DB, *loginFixture) error
	seen  func(store.LoginSubject) bool
}{
	{"disabled", func(ctx context.Context, db *sqlstore.DB, f *loginFixture) error {
		return db.SetUserStatus(ctx, f.user.ID, store.StatusDisabled, false, t0)
	}, func(ls store.LoginSubject) bool { return ls.User.Status == store.StatusDisabled }},
	{"deleted", func(ctx context.Context, db *sqlstore.DB, f *loginFixture) error {
		return db.DeleteUser(ctx, f.user.ID)
	}, func(ls store.LoginSubject) bool { return ls.User.ID == 0 }},
	{"locked out by failed attempts", func(ctx context.Context, db *sqlstore.DB, f *loginFixture) error {
		// The lockout's own statements: reservations (RETURNING, in
		// autocommit) up to the limit, then the failure that locks.
		for range 3 {
			if _, _, err := db.ReserveUserAttempt(ctx, f.user.ID, 3); err != nil {
				return err
			}
		}
		_, _, _, err := db.FailUserAttempt(ctx, f.user.ID, 3, t0)
		return err
	}, func(ls store.LoginSubject) bool { return ls.User.Status == store.StatusLockedOut }},
	{"phone detached", func(ctx context.Context, db *sqlstore.DB, f *loginFixture) error {
		return db.DetachPhone(ctx, f.user.ID, f.phone.ID)
	}, func(ls store.LoginSubject) bool { return len(ls.Phones) == 0 }},
	{"phone deleted", func(ctx context.Context, db *sqlstore.DB, f *loginFixture) error {
		return db.DeletePhone(ctx, f.phone.ID)
	}, func(ls store.LoginSubject) bool { return len(ls.Phones) == 0 }},
	{"phone secret replaced in a transaction", func(ctx context.Context, db *sqlstore.DB, f *loginFixture) error {
		return db.InTx(ctx, func(q store.Queries) error { return q.ActivatePhone(ctx, f.phone.ID, []byte("new"), 0, t0) })
	}, func(ls store.LoginSubject) bool {
		return len(ls.Phones) == 1 && string(ls.Phones[0].TOTPSecret) == "new"
	}},
	{"joined a group in a shared transaction", func(ctx context.Context, db *sqlstore.DB, f *loginFixture) error {
		g := store.Group{Key: "DGops", Name: "ops", CreatedAt: t0}
		return db.InGroupTx(ctx, func(q store.Queries) error {
			if err := q.CreateGroup(ctx, &g); err != nil {
				return err
			}
			return q.AddUserToGroup(ctx, f.user.ID, g.ID)
		})
	}, func(ls store.LoginSubject) bool { return len(ls.GroupIDs) == 1 }},
}

// A change made in this process is seen by the very next read, without
// waiting for the poll interval: the clock does not move.
func TestLoginCacheSeesThisProcessWritesAtOnce(t *testing.T) {
	for _, c := range loginChanges {
		t.Run(c.name, func(t *testing.T) {
			f := newLoginFixture(t)
			if err := c.write(context.Background(), f.here, f); err != nil {
				t.Fatal(err)
			}
			if ls := f.subject(t); !c.seen(ls) {
				t.Errorf("the next read answered %+v", ls)
			}
		})
	}
}

// A change made by another process (a second store on the same file) is
// seen once the poll interval has passed.
func TestLoginCacheSeesAnotherProcessWritesAfterThePollInterval(t *testing.T) {
	for _, c := range loginChanges {
		t.Run(c.name, func(t *testing.T) {
			f := newLoginFixture(t)
			if err := c.write(context.Background(), f.other, f); err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(sqlstore.LoginPollInterval)
			if ls := f.subject(t); !c.seen(ls) {
				t.Errorf("the read after the poll interval answered %+v", ls)
			}
		})
	}
}

// The counters every attempt changes are not login inputs: they leave the
// cached user in place (a login of a busy user stays a cache hit).
func TestLoginCacheKeepsUsersAcrossAttemptCounters(t *testing.T) {
	ctx := context.Background()
	f := newLoginFixture(t)
	if _, _, err := f.other.ReserveUserAttempt(ctx, f.user.ID, 10); err != nil {
		t.Fatal(err)
	}
	if err := f.other.InTx(ctx, func(q store.Queries) error { _, err := q.PassUserAttempt(ctx, f.user.ID); return err }); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(sqlstore.LoginPollInterval)
	f.subject(t)
	wantCached(t, f.here, 1)
}

// Policies and applications, cached apart, are forgotten through the same
// log: an instance sees another's change within the poll interval.
func TestConfigCacheSeesAnotherProcessWrites(t *testing.T) {
	ctx := context.Background()
	f := newLoginFixture(t)
	app := store.Application{Key: "DIapp", Name: "VPN", Kind: store.AppAuthAPI, ClientID: "DIclient", ClientSecret: []byte("s"),
		UsernameNormalization: store.NormalizeSimple, CreatedAt: t0, UpdatedAt: t0}
	if err := f.here.CreateApplication(ctx, &app); err != nil {
		t.Fatal(err)
	}
	global, err := f.here.GlobalPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.here.ApplicationByClientID(ctx, app.ClientID); err != nil {
		t.Fatal(err)
	}
	global.NewUserPolicy = store.NewUserDeny
	if err := f.other.UpdatePolicy(ctx, global); err != nil {
		t.Fatal(err)
	}
	p := store.Policy{Key: "DOstrict", Name: "Strict", CreatedAt: t0, UpdatedAt: t0}
	if err := f.other.CreatePolicy(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if err := f.other.SetApplicationPolicy(ctx, app.ID, &p.ID, t0); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(sqlstore.LoginPollInterval)
	if got, err := f.here.GlobalPolicy(ctx); err != nil || got.NewUserPolicy != store.NewUserDeny {
		t.Errorf("global policy after another instance's change: %+v, %v", got, err)
	}
	if got, err := f.here.ApplicationByClientID(ctx, app.ClientID); err != nil || got.PolicyID == nil || *got.PolicyID != p.ID {
		t.Errorf("application after another instance's change: %+v, %v", got, err)
	}
}

// The cache keeps at most its limit of users, and what it answers past
// the limit is still right.
func TestLoginCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	sqlstore.SetLoginCacheLimit(db, 10)
	for i := range 30 {
		mustUser(t, db, fmt.Sprintf("user%02d", i))
	}
	for round := range 2 {
		for i := range 30 {
			name := fmt.Sprintf("user%02d", i)
			ls, err := db.LoginSubjectByUsername(ctx, name)
			if err != nil || ls.User.Username != name {
				t.Fatalf("round %d: %s answered %+v, %v", round, name, ls.User, err)
			}
		}
	}
	if n := sqlstore.LoginCacheSize(db); n > 10 {
		t.Errorf("cache holds %d users, limit 10", n)
	}
	if sqlstore.LoginCacheSize(db) == 0 {
		t.Error("cache holds no users")
	}
}

// Another process's backlog longer than one poll applies row by row (a
// large import) empties the cache instead, and nothing is missed.
func TestLoginCacheForgetsEverythingAfterALongBacklog(t *testing.T) {
	ctx := context.Background()
	f := newLoginFixture(t)
	err := f.other.InTx(ctx, func(q store.Queries) error {
		for i := range 6000 {
			status := store.StatusDisabled
			if i%2 == 1 {
				status = store.StatusActive
			}
			if err := q.SetUserStatus(ctx, f.user.ID, status, false, t0); err != nil {
				return err
			}
		}
		return q.SetUserStatus(ctx, f.user.ID, store.StatusBypass, false, t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(sqlstore.LoginPollInterval)
	if ls := f.subject(t); ls.User.Status != store.StatusBypass {
		t.Errorf("after the backlog: status %q", ls.User.Status)
	}
}

// A store opened on a database with users loads them all in the
// background, and what it loaded still follows later changes.
func TestLoginCacheWarmsWithEveryUser(t *testing.T) {
	ctx := context.Background()
	f := newLoginFixture(t)
	for i := range 30 {
		mustUser(t, f.other, fmt.Sprintf("user%02d", i))
	}
	db := f.open()
	if err := db.WarmLoginCache(ctx); err != nil {
		t.Fatal(err)
	}
	wantCached(t, db, 31)
	if err := db.SetUserStatus(ctx, f.user.ID, store.StatusDisabled, false, t0); err != nil {
		t.Fatal(err)
	}
	if ls, err := db.LoginSubjectByUsername(ctx, "alice"); err != nil || ls.User.Status != store.StatusDisabled {
		t.Errorf("after the change: %+v, %v", ls.User, err)
	}
}
