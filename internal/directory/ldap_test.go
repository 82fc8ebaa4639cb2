package directory_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/directory"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlstore"
	"enrollportal/internal/testkit"
	"enrollportal/internal/testkit/testdb"
)

const fixture = testkit.SlapdOUs + `dn: cn=sync,dc=example,dc=org
objectClass: person
objectClass: simpleSecurityObject
cn: sync
sn: sync
userPassword: sync-secret

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
modifyTimestamp: 20260101000000Z
uid: alice
cn: Alice Archer
sn: Archer
mail: alice@example.org
mobile: +1 650 253 0000
telephoneNumber: 12345

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
modifyTimestamp: 20260101000000Z
uid: bob
cn: Bob Baker
sn: Baker
mail: bob@example.org
mobile: (650) 253-0001

dn: uid=carol,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
modifyTimestamp: 20260101000000Z
uid: carol
cn: Carol Cooper
sn: Cooper

dn: uid=dave,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
modifyTimestamp: 20260102000000Z
uid: dave
cn: Dave Doe
sn: Doe

dn: uid=erin,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
modifyTimestamp: 20260101000000Z
uid: erin
cn: Erin Directory
sn: Directory

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,dc=example,dc=org
member: uid=bob,ou=people,dc=example,dc=org
member: uid=carol,ou=people,dc=example,dc=org
member: uid=erin,ou=people,dc=example,dc=org

dn: cn=admins,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: admins
member: UID=alice, ou=people,dc=example,dc=org

`

type env struct {
	svc   *directory.Service
	db    *sqlstore.DB
	clock *clock.Fake
	ldap  *testkit.Slapd
}

func newEnv(t *testing.T, opts ...testkit.SlapdOption) *env {
	t.Helper()
	svc, db, fc := newService(t)
	return &env{svc: svc, db: db, clock: fc, ldap: testkit.StartSlapd(t, fixture, opts...)}
}

// newService is a directory service on a new portal database (SQLite, or
// PostgreSQL under PORTAL_TEST_DB=postgres), with a fake clock that starts
// at the wall clock's time, as the servers' entries are stamped with it.
func newService(t *testing.T) (*directory.Service, *sqlstore.DB, *clock.Fake) {
	t.Helper()
	db := testdb.OpenNew(t)
	box, err := secret.NewBox(secret.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	fc := clock.NewFake(time.Now())
	return &directory.Service{Store: db, Clock: fc, Box: box}, db, fc
}

func (e *env) settings() directory.Settings {
	return directory.Settings{Kind: directory.KindOpenLDAP, URL: e.ldap.URL, BindDN: e.ldap.RootDN,
		UsersBase: "ou=people,dc=example,dc=org", GroupsBase: "ou=groups,dc=example,dc=org", Groups: []string{"staff", "admins"}}
}

func (e *env) add(t *testing.T, name string, s directory.Settings, pw string) {
	t.Helper()
	if _, err := e.svc.Add(context.Background(), name, s, pw, audit.CLI()); err != nil {
		t.Fatalf("add directory: %v", err)
	}
}

// modify changes the directory as its administrator would.
func (e *env) modify(t *testing.T, fn func(c *ldap.Conn) error) {
	t.Helper()
	c, err := ldap.DialURL(e.ldap.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(e.ldap.RootDN, e.ldap.RootPW); err != nil {
		t.Fatal(err)
	}
	if err := fn(c); err != nil {
		t.Fatal(err)
	}
}

func (e *env) user(t *testing.T, name string) store.User {
	t.Helper()
	u, err := e.db.UserByUsername(context.Background(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

func (e *env) sync(t *testing.T, name string, opts directory.Options) directory.Result {
	t.Helper()
	res, err := e.svc.Sync(context.Background(), name, opts)
	if err != nil {
		t.Fatalf("sync: %v (status %s)", err, res.Status)
	}
	return res
}

func counts(r directory.Result) string {
	var parts []string
	for _, kv := range r.Counts() {
		parts = append(parts, kv[0]+"="+kv[1])
	}
	return strings.Join(parts, " ")
}

func groupNames(t *testing.T, db *sqlstore.DB, userID int64) string {
	t.Helper()
	gs, err := db.GroupsOfUser(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range gs {
		names = append(names, g.Name)
	}
	return strings.Join(names, ",")
}

func TestDirectoryLDAPSyncLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// erin exists as a hand-made user: the directory must not take her over.
	manual := store.User{Key: secret.NewID("DU", 20), Username: "erin", RealName: "Erin by hand", Status: store.StatusActive,
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	testkit.NoErr(t, e.db.CreateUser(ctx, &manual))
	e.add(t, "corp", e.settings(), e.ldap.RootPW)

	preview := e.sync(t, "corp", directory.Options{DryRun: true})
	if got := counts(preview); got != "created=3 updated=0 disabled=0 removed=0 phones=2" {
		t.Fatalf("preview: %s", got)
	}
	if n, _ := e.db.CountUsers(ctx); n != 1 {
		t.Fatalf("the preview wrote users: %d users", n)
	}

	res := e.sync(t, "corp", directory.Options{})
	if got := counts(res); got != "created=3 updated=0 disabled=0 removed=0 phones=2" {
		t.Fatalf("first sync: %s", got)
	}
	if len(res.Conflicts) != 1 || !strings.Contains(res.Conflicts[0], "erin") {
		t.Fatalf("conflicts: %q", res.Conflicts)
	}
	if !strings.Contains(strings.Join(res.InvalidValues, "\n"), `"12345" is not a valid phone number`) {
		t.Fatalf("invalid values: %q", res.InvalidValues)
	}
	if got := e.user(t, "erin"); got.RealName != "Erin by hand" {
		t.Fatalf("the manual user was changed: %+v", got)
	}
	alice := e.user(t, "alice")
	if alice.RealName != "Alice Archer" || alice.Email != "alice@example.org" || alice.Status != store.StatusActive {
		t.Fatalf("alice: %+v", alice)
	}
	if got := groupNames(t, e.db, alice.ID); got != "admins,staff" {
		t.Fatalf("alice's groups: %q", got)
	}
	bob := e.user(t, "bob")
	phones, err := e.db.PhonesByUser(ctx, bob.ID)
	testkit.NoErr(t, err)
	if len(phones) != 1 || phones[0].Number != "+16502530001" {
		t.Fatalf("bob's phones: %+v", phones)
	}
	if _, err := e.db.UserByUsername(ctx, "dave"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dave is in no synced group but was synced: %v", err)
	}
	trail, err := e.db.AuditForTarget(ctx, audit.TargetUser, "alice", 10)
	testkit.NoErr(t, err)
	if len(trail) == 0 || trail[len(trail)-1].Action != audit.UserCreated || trail[len(trail)-1].Actor != "directory:corp" {
		t.Fatalf("alice's audit trail: %+v", trail)
	}

	// Nothing changed: nothing written.
	if got := counts(e.sync(t, "corp", directory.Options{Full: true})); got != "created=0 updated=0 disabled=0 removed=0 phones=0" {
		t.Fatalf("second sync: %s", got)
	}

	// A rename keeps the user: same key, new username.
	e.modify(t, func(c *ldap.Conn) error {
		return c.ModifyDN(ldap.NewModifyDNRequest("uid=bob,ou=people,dc=example,dc=org", "uid=robert", true, ""))
	})
	e.modify(t, func(c *ldap.Conn) error {
		m := ldap.NewModifyRequest("cn=staff,ou=groups,dc=example,dc=org", nil)
		m.Delete("member", []string{"uid=bob,ou=people,dc=example,dc=org"})
		m.Add("member", []string{"uid=robert,ou=people,dc=example,dc=org"})
		return c.Modify(m)
	})
	if got := counts(e.sync(t, "corp", directory.Options{})); got != "created=0 updated=1 disabled=0 removed=0 phones=0" {
		t.Fatalf("rename sync: %s", got)
	}
	if robert := e.user(t, "robert"); robert.Key != bob.Key {
		t.Fatalf("the renamed user is a new user: %s vs %s", robert.Key, bob.Key)
	}

	// carol leaves the synced group: 1 of 3 is over the 10% threshold, so
	// the run waits for confirmation and changes nothing.
	e.modify(t, func(c *ldap.Conn) error {
		m := ldap.NewModifyRequest("cn=staff,ou=groups,dc=example,dc=org", nil)
		m.Delete("member", []string{"uid=carol,ou=people,dc=example,dc=org"})
		return c.Modify(m)
	})
	held, err := e.svc.Sync(ctx, "corp", directory.Options{})
	if !errors.Is(err, directory.ErrNeedsConfirmation) || held.Status != "needs-confirmation" || held.Disabled != 1 {
		t.Fatalf("over-threshold run: %v %+v", err, held)
	}
	if got := e.user(t, "carol"); got.Status != store.StatusActive {
		t.Fatalf("the held run changed carol: %+v", got)
	}
	if got := counts(e.sync(t, "corp", directory.Options{ConfirmRemovals: true})); got != "created=0 updated=0 disabled=1 removed=0 phones=0" {
		t.Fatalf("confirmed run: %s", got)
	}
	if got := e.user(t, "carol"); got.Status != store.StatusDisabled {
		t.Fatalf("carol left the directory but is %s", got.Status)
	}
	// Restorable from the trash.
	testkit.NoErr(t, e.svc.Restore(ctx, "corp", "carol", audit.CLI()))
	if got := e.user(t, "carol"); got.Status != store.StatusActive {
		t.Fatalf("restored carol is %s", got.Status)
	}
	// Still out of the group, so the next full comparison trashes her
	// again; 7 days later she is purged.
	if got := counts(e.sync(t, "corp", directory.Options{Full: true, ConfirmRemovals: true})); got != "created=0 updated=0 disabled=1 removed=0 phones=0" {
		t.Fatalf("full run after the restore: %s", got)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	if got := counts(e.sync(t, "corp", directory.Options{})); got != "created=0 updated=0 disabled=0 removed=1 phones=0" {
		t.Fatalf("purge run: %s", got)
	}
	if _, err := e.db.UserByUsername(ctx, "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("carol was not purged: %v", err)
	}
	runs, err := e.svc.Runs(ctx, "corp", 20)
	testkit.NoErr(t, err)
	if len(runs) != 7 || runs[3].Status != "needs-confirmation" {
		for _, r := range runs {
			t.Logf("run %d %s %s %s", r.ID, r.Kind, r.Status, r.Counts)
		}
		t.Fatalf("history has %d runs", len(runs))
	}
}

func TestLDAPIncrementalSyncReadsChanges(t *testing.T) {
	e := newEnv(t)
	e.add(t, "corp", e.settings(), e.ldap.RootPW)
	if res := e.sync(t, "corp", directory.Options{}); !res.Full || res.Created != 4 {
		t.Fatalf("first sync: full=%v %s", res.Full, counts(res))
	}
	e.modify(t, func(c *ldap.Conn) error {
		m := ldap.NewModifyRequest("uid=alice,ou=people,dc=example,dc=org", nil)
		m.Replace("mail", []string{"alice.archer@example.org"})
		return c.Modify(m)
	})
	res := e.sync(t, "corp", directory.Options{})
	// Read: alice alone. slapd keeps an entryCSN on every entry, and the
	// cursor is the newest CSN the last run read: no entry of the same
	// second is read again, as a modifyTimestamp cursor had to.
	if res.Full || res.Read != 1 || counts(res) != "created=0 updated=1 disabled=0 removed=0 phones=0" {
		t.Fatalf("incremental run: full=%v read=%d %s", res.Full, res.Read, counts(res))
	}
	if got := e.user(t, "alice").Email; got != "alice.archer@example.org" {
		t.Fatalf("alice's email: %q", got)
	}
}

// stamps reads entries' entryCSN and modifyTimestamp.
func (e *env) stamps(t *testing.T, dns ...string) (csns, seconds []string) {
	t.Helper()
	e.modify(t, func(c *ldap.Conn) error {
		for _, dn := range dns {
			res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
				"(objectClass=*)", []string{"entryCSN", "modifyTimestamp"}, nil))
			if err != nil {
				return err
			}
			csns = append(csns, res.Entries[0].GetAttributeValue("entryCSN"))
			seconds = append(seconds, res.Entries[0].GetAttributeValue("modifyTimestamp"))
		}
		return nil
	})
	return csns, seconds
}

// A change in the same second as the change the last run read, after
// that run: modifyTimestamp cannot tell the two apart, entryCSN can.
func TestLDAPIncrementalByEntryCSNSeesAChangeInTheSameSecond(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.add(t, "corp", e.settings(), e.ldap.RootPW)
	e.sync(t, "corp", directory.Options{})
	d, err := e.db.DirectoryByName(ctx, "corp")
	testkit.NoErr(t, err)
	if !strings.HasPrefix(d.SyncCursor, "csn:") {
		t.Fatalf("the cursor of a run on slapd is %q, not an entryCSN", d.SyncCursor)
	}
	alice, bob := "uid=alice,ou=people,dc=example,dc=org", "uid=bob,ou=people,dc=example,dc=org"
	setMail := func(dn, mail string) {
		e.modify(t, func(c *ldap.Conn) error {
			m := ldap.NewModifyRequest(dn, nil)
			m.Replace("mail", []string{mail})
			return c.Modify(m)
		})
	}
	// The two changes and the run between them take milliseconds; when
	// they happen to straddle a second, the attempt is made again.
	for attempt := 1; ; attempt++ {
		setMail(alice, fmt.Sprintf("alice%d@example.org", attempt))
		if res := e.sync(t, "corp", directory.Options{}); res.Full || res.Read != 1 || res.Updated != 1 {
			t.Fatalf("attempt %d, the run after alice's change: full=%v read=%d %s", attempt, res.Full, res.Read, counts(res))
		}
		setMail(bob, fmt.Sprintf("bob%d@example.org", attempt))
		res := e.sync(t, "corp", directory.Options{})
		if res.Full || res.Read != 1 || counts(res) != "created=0 updated=1 disabled=0 removed=0 phones=0" {
			t.Fatalf("attempt %d, the run after bob's change: full=%v read=%d %s", attempt, res.Full, res.Read, counts(res))
		}
		if got := e.user(t, "bob").Email; got != fmt.Sprintf("bob%d@example.org", attempt) {
			t.Fatalf("attempt %d: bob's email is %q", attempt, got)
		}
		csns, seconds := e.stamps(t, alice, bob)
		if seconds[0] == seconds[1] {
			if csns[0] >= csns[1] {
				t.Fatalf("entryCSNs out of order: %q then %q", csns[0], csns[1])
			}
			return
		}
		if attempt == 10 {
			t.Fatalf("ten attempts straddled a second (last: %v)", seconds)
		}
	}
}

// A full comparison lists the entries with their stamps and reads in full
// only those that moved: an entry changed in the directory, a user changed
// in the portal, a user out of its groups; and finds those who left.
func TestLDAPFullComparisonReadsOnlyWhatMoved(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.add(t, "corp", e.settings(), e.ldap.RootPW)
	e.sync(t, "corp", directory.Options{})

	// Listed: the five entries under people (dave too, in no synced group).
	if res := e.sync(t, "corp", directory.Options{Full: true}); !res.Full || res.Read != 5 || res.ReadInFull != 0 ||
		counts(res) != "created=0 updated=0 disabled=0 removed=0 phones=0" {
		t.Fatalf("full run with nothing changed: full=%v read=%d in full %d, %s", res.Full, res.Read, res.ReadInFull, counts(res))
	}
	// In the portal: alice's real name edited, bob taken out of staff.
	e.clock.Advance(time.Minute)
	alice := e.user(t, "alice")
	alice.RealName, alice.UpdatedAt = "Alice Edited", e.clock.Now()
	testkit.NoErr(t, e.db.UpdateUserProfile(ctx, alice, false))
	bob := e.user(t, "bob")
	groups, err := e.db.GroupsOfUser(ctx, bob.ID)
	testkit.NoErr(t, err)
	testkit.NoErr(t, e.db.RemoveUsersFromGroups(ctx, [][2]int64{{bob.ID, groups[0].ID}}))
	// In the directory: carol's email.
	e.modify(t, func(c *ldap.Conn) error {
		m := ldap.NewModifyRequest("uid=carol,ou=people,dc=example,dc=org", nil)
		m.Replace("mail", []string{"carol@example.org"})
		return c.Modify(m)
	})
	res := e.sync(t, "corp", directory.Options{Full: true})
	if !res.Full || res.ReadInFull != 3 || counts(res) != "created=0 updated=3 disabled=0 removed=0 phones=0" {
		t.Fatalf("full run: full=%v read in full %d, %s (%v)", res.Full, res.ReadInFull, counts(res), res.UpdatedNames)
	}
	if got := e.user(t, "alice").RealName; got != "Alice Archer" {
		t.Fatalf("alice's real name: %q", got)
	}
	if got := groupNames(t, e.db, bob.ID); got != "staff" {
		t.Fatalf("bob's groups: %q", got)
	}
	if got := e.user(t, "carol").Email; got != "carol@example.org" {
		t.Fatalf("carol's email: %q", got)
	}
	// Each was recorded: the next full comparison reads none in full.
	if res := e.sync(t, "corp", directory.Options{Full: true}); res.ReadInFull != 0 || counts(res) != "created=0 updated=0 disabled=0 removed=0 phones=0" {
		t.Fatalf("full run after: read in full %d, %s", res.ReadInFull, counts(res))
	}
	// erin leaves the directory: found by the listing.
	e.modify(t, func(c *ldap.Conn) error {
		return c.Del(ldap.NewDelRequest("uid=erin,ou=people,dc=example,dc=org", nil))
	})
	res = e.sync(t, "corp", directory.Options{Full: true, ConfirmRemovals: true})
	if counts(res) != "created=0 updated=0 disabled=1 removed=0 phones=0" || res.DisabledNames[0] != "erin" {
		t.Fatalf("full run after erin left: %s %v", counts(res), res.DisabledNames)
	}
}

func TestLDAPCutShortSearchActsOnNothing(t *testing.T) {
	e := newEnv(t, testkit.WithSlapdConfig(`limits dn.exact="cn=sync,dc=example,dc=org" size=4`))
	s := e.settings()
	s.BindDN = "cn=sync,dc=example,dc=org"
	s.Groups = nil // every user under the base: 5 entries, over the limit of 4
	e.add(t, "limited", s, "sync-secret")
	s.BindDN = e.ldap.RootDN
	e.add(t, "full", s, e.ldap.RootPW)
	if res := e.sync(t, "full", directory.Options{}); res.Created != 5 {
		t.Fatalf("unlimited sync: %s", counts(res))
	}
	// The limited bind sees 4 of 5 users: had it acted, it would have
	// created them; it must fail and change nothing.
	before, _ := e.db.CountUsers(context.Background())
	res, err := e.svc.Sync(context.Background(), "limited", directory.Options{ConfirmRemovals: true})
	var se *directory.SearchError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "size limit exceeded") || res.Status != "failed" {
		t.Fatalf("cut-short search: %v (%s)", err, res.Status)
	}
	if after, _ := e.db.CountUsers(context.Background()); after != before {
		t.Fatalf("a failed run wrote users: %d -> %d", before, after)
	}
	// The directory that synced all 5 now binds as the limited account: its
	// cut-short search must not take the fifth user as gone, even with
	// removals confirmed.
	s.BindDN = "cn=sync,dc=example,dc=org"
	if _, err := e.svc.Update(context.Background(), "full", s, "sync-secret", audit.CLI()); err != nil {
		t.Fatal(err)
	}
	res, err = e.svc.Sync(context.Background(), "full", directory.Options{Full: true, ConfirmRemovals: true})
	if !errors.As(err, &se) || res.Status != "failed" || res.Disabled != 0 {
		t.Fatalf("cut-short search of a synced directory: %v (%s, %s)", err, res.Status, counts(res))
	}
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
		if u := e.user(t, name); u.Status != store.StatusActive {
			t.Fatalf("%s is %s after a cut-short search", name, u.Status)
		}
	}
	s.BindDN = e.ldap.RootDN

	// A search that finds nobody is taken as a fault too.
	s.ExtraFilter = "(uid=nobody-at-all)"
	e.add(t, "empty", s, e.ldap.RootPW)
	if _, err := e.svc.Sync(context.Background(), "empty", directory.Options{}); err == nil || !strings.Contains(err.Error(), "found no users") {
		t.Fatalf("empty search: %v", err)
	}
}

func TestLDAPConnectionErrorsAreClear(t *testing.T) {
	tlsFiles := testkit.NewTLSFiles(t)
	e := newEnv(t, testkit.WithSlapdTLS(tlsFiles))
	ctx := context.Background()

	wrongPW := e.settings()
	e.add(t, "wrong-password", wrongPW, "not-the-password")
	_, err := e.svc.TestConnection(ctx, "wrong-password")
	if err == nil || err.Error() != "the directory refused the bind DN or password (invalid credentials)" {
		t.Fatalf("wrong password: %v", err)
	}

	other := testkit.NewTLSFiles(t)
	otherCA, err := os.ReadFile(other.CAFile)
	testkit.NoErr(t, err)
	rightCA, err := os.ReadFile(tlsFiles.CAFile)
	testkit.NoErr(t, err)
	tlsSet := e.settings()
	tlsSet.URL = e.ldap.TLSURL
	tlsSet.CAPEM = string(otherCA)
	e.add(t, "wrong-ca", tlsSet, e.ldap.RootPW)
	_, err = e.svc.TestConnection(ctx, "wrong-ca")
	if err == nil || !strings.Contains(err.Error(), "is not signed by a trusted CA") {
		t.Fatalf("wrong CA: %v", err)
	}
	tlsSet.CAPEM = string(rightCA)
	e.add(t, "right-ca", tlsSet, e.ldap.RootPW)
	rep, err := e.svc.TestConnection(ctx, "right-ca")
	if err != nil || rep.Users != 4 || rep.Groups != 2 {
		t.Fatalf("LDAPS with the right CA: %+v %v", rep, err)
	}

	down := e.settings()
	down.URL = fmt.Sprintf("ldap://127.0.0.1:%d", testkit.FreePort(t))
	e.add(t, "down", down, e.ldap.RootPW)
	_, err = e.svc.Sync(ctx, "down", directory.Options{})
	if err == nil || !strings.Contains(err.Error(), "could not reach the directory at ldap://127.0.0.1:") {
		t.Fatalf("unreachable server: %v", err)
	}
	runs, _ := e.svc.Runs(ctx, "down", 5)
	if len(runs) != 1 || runs[0].Status != "failed" || runs[0].Error == "" {
		t.Fatalf("the failed run is not in the history: %+v", runs)
	}
}

func TestDirectorySettingsErrorsByField(t *testing.T) {
	cases := []struct {
		change func(*directory.Settings)
		field  string
	}{
		{func(s *directory.Settings) { s.Kind = "novell" }, "kind"},
		{func(s *directory.Settings) { s.URL = "http://x" }, "url"},
		{func(s *directory.Settings) { s.URL = "ldaps://x:636"; s.StartTLS = true }, "start_tls"},
		{func(s *directory.Settings) { s.CAPEM = "not pem" }, "ca"},
		{func(s *directory.Settings) { s.UsersBase = "not a dn" }, "users_base"},
		{func(s *directory.Settings) { s.ExtraFilter = "(uid=" }, "extra_filter"},
		{func(s *directory.Settings) { s.DefaultCountry = "XX" }, "default_country"},
	}
	for _, c := range cases {
		s := directory.Settings{Kind: directory.KindOpenLDAP, URL: "ldap://127.0.0.1:389", BindDN: "cn=a,dc=x",
			UsersBase: "ou=people,dc=x", GroupsBase: "ou=groups,dc=x"}
		c.change(&s)
		_, err := s.Validate()
		var fe *directory.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: got %v", c.field, err)
		}
	}
	ad, err := directory.Settings{Kind: directory.KindActiveDirectory, URL: "ldaps://dc.example.org", BindDN: "cn=a,dc=x", UsersBase: "dc=x"}.Validate()
	if err != nil || ad.Mapping.Username != "sAMAccountName" || ad.Mapping.StableID != "objectGUID" || ad.RemovalShare != 0.10 {
		t.Fatalf("AD preset: %+v %v", ad.Mapping, err)
	}
}

// TestDirectoryLeavesOtherDirectoriesUsersAlone syncs the same people
// through a second directory: every one of them is a conflict, nothing of
// the first directory's users changes, and the second directory's full
// comparison does not take them as leaving.
func TestDirectoryLeavesOtherDirectoriesUsersAlone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.add(t, "first", e.settings(), e.ldap.RootPW)
	if got := counts(e.sync(t, "first", directory.Options{})); got != "created=4 updated=0 disabled=0 removed=0 phones=2" {
		t.Fatalf("first directory: %s", got)
	}
	alice := e.user(t, "alice")
	s := e.settings()
	s.Mapping.RealName = "sn" // would rename everyone, were they its users
	e.add(t, "second", s, e.ldap.RootPW)
	res := e.sync(t, "second", directory.Options{Full: true})
	// Its groups are the first directory's too: conflicts, not shared.
	users, groups := 0, 0
	for _, c := range res.Conflicts {
		switch {
		case strings.Contains(c, "the username is taken by a user this directory did not create"):
			users++
		case strings.Contains(c, "a group of that name exists and was not created by this directory"):
			groups++
		}
	}
	if counts(res) != "created=0 updated=0 disabled=0 removed=0 phones=0" || users != 4 || groups != 2 || res.Groups != 0 {
		t.Fatalf("second directory: %s, conflicts %q", counts(res), res.Conflicts)
	}
	if got := e.user(t, "alice"); got.RealName != alice.RealName || got.UpdatedAt != alice.UpdatedAt || got.Status != store.StatusActive {
		t.Fatalf("the second directory changed alice: %+v, was %+v", got, alice)
	}
	trail, err := e.db.AuditForTarget(ctx, audit.TargetUser, "alice", 10)
	testkit.NoErr(t, err)
	for _, a := range trail {
		if a.Actor == "directory:second" {
			t.Fatalf("the second directory wrote alice's audit trail: %+v", a)
		}
	}
	// The first directory, run again in full, still finds all its users.
	if got := counts(e.sync(t, "first", directory.Options{Full: true})); got != "created=0 updated=0 disabled=0 removed=0 phones=0" {
		t.Fatalf("first directory again: %s", got)
	}
}
