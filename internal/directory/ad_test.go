package directory_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"enrollportal/internal/audit"
	"enrollportal/internal/directory"
	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlstore"
	"enrollportal/internal/testkit"
)

// adEnv is a portal database and a real Samba AD DC.
type adEnv struct {
	svc *directory.Service
	db  *sqlstore.DB
	dc  *testkit.SambaDC
}

func newADEnv(t *testing.T) *adEnv {
	t.Helper()
	svc, db, _ := newService(t)
	e := &adEnv{svc: svc, db: db, dc: testkit.StartSambaDC(t)}
	// Two OUs; alice and carol in vpn, bob in engineers, which is nested in
	// vpn; carol's account is disabled (userAccountControl 546 = 512 | 2 |
	// 32); dave is in no group. 544 is a normal account that needs no
	// password (these users never bind).
	e.do(t, func(c *ldap.Conn) error {
		for _, ou := range []string{"Staff", "Groups"} {
			a := ldap.NewAddRequest("OU="+ou+",DC=example,DC=test", nil)
			a.Attribute("objectClass", []string{"organizationalUnit"})
			if err := c.Add(a); err != nil {
				return err
			}
		}
		for _, u := range []struct{ cn, sam, mail, mobile, uac string }{
			{"Alice Archer", "alice", "alice@example.test", "+1 650 253 0000", "544"},
			{"Bob Baker", "bob", "bob@example.test", "", "544"},
			{"Carol Cooper", "carol", "", "", "546"},
			{"Dave Doe", "dave", "", "", "544"},
		} {
			a := ldap.NewAddRequest("CN="+u.cn+",OU=Staff,DC=example,DC=test", nil)
			a.Attribute("objectClass", []string{"user"})
			a.Attribute("sAMAccountName", []string{u.sam})
			a.Attribute("userPrincipalName", []string{u.sam + "@example.test"})
			a.Attribute("displayName", []string{u.cn})
			a.Attribute("userAccountControl", []string{u.uac})
			if u.mail != "" {
				a.Attribute("mail", []string{u.mail})
			}
			if u.mobile != "" {
				a.Attribute("mobile", []string{u.mobile})
			}
			if err := c.Add(a); err != nil {
				return err
			}
		}
		eng := ldap.NewAddRequest("CN=engineers,OU=Groups,DC=example,DC=test", nil)
		eng.Attribute("objectClass", []string{"group"})
		eng.Attribute("member", []string{"CN=Bob Baker,OU=Staff,DC=example,DC=test"})
		if err := c.Add(eng); err != nil {
			return err
		}
		vpn := ldap.NewAddRequest("CN=vpn,OU=Groups,DC=example,DC=test", nil)
		vpn.Attribute("objectClass", []string{"group"})
		vpn.Attribute("member", []string{"CN=Alice Archer,OU=Staff,DC=example,DC=test",
			"CN=Carol Cooper,OU=Staff,DC=example,DC=test", "CN=engineers,OU=Groups,DC=example,DC=test"})
		return c.Add(vpn)
	})
	return e
}

// do changes the directory as its administrator would, over LDAPS.
func (e *adEnv) do(t *testing.T, fn func(c *ldap.Conn) error) {
	t.Helper()
	c, err := e.dc.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := fn(c); err != nil {
		t.Fatal(err)
	}
}

func (e *adEnv) settings(t *testing.T) directory.Settings {
	t.Helper()
	ca, err := os.ReadFile(e.dc.TLS.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	s := directory.Settings{Kind: directory.KindActiveDirectory, URL: e.dc.TLSURL, CAPEM: string(ca), BindDN: e.dc.BindDN,
		UsersBase: "OU=Staff,DC=example,DC=test", GroupsBase: "OU=Groups,DC=example,DC=test", Groups: []string{"vpn"},
		RemovalShare: 0.5}
	s.Mapping.Username = "userPrincipalName"
	return s
}

func (e *adEnv) sync(t *testing.T, name string) directory.Result {
	t.Helper()
	res, err := e.svc.Sync(context.Background(), name, directory.Options{})
	if err != nil {
		t.Fatalf("sync: %v (status %s)", err, res.Status)
	}
	return res
}

func (e *adEnv) user(t *testing.T, name string) store.User {
	t.Helper()
	u, err := e.db.UserByUsername(context.Background(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

// TestActiveDirectorySyncOnSambaDC syncs a real Samba AD DC over LDAPS
// with the test CA: nested groups through the in-chain rule, a disabled
// account, userPrincipalName as the username, objectGUID as the stable id
// across a rename, and incremental runs by uSNChanged.
func TestActiveDirectorySyncOnSambaDC(t *testing.T) {
	e := newADEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Add(ctx, "ad", e.settings(t), e.dc.Password, audit.CLI()); err != nil {
		t.Fatal(err)
	}

	res := e.sync(t, "ad")
	if !res.Full || counts(res) != "created=3 updated=0 disabled=0 removed=0 phones=1" {
		t.Fatalf("first sync: full=%v %s %q %q", res.Full, counts(res), res.Conflicts, res.InvalidValues)
	}
	alice, bob, carol := e.user(t, "alice@example.test"), e.user(t, "bob@example.test"), e.user(t, "carol@example.test")
	if alice.Status != store.StatusActive || alice.RealName != "Alice Archer" || alice.Email != "alice@example.test" {
		t.Fatalf("alice: %+v", alice)
	}
	if groupNames(t, e.db, bob.ID) != "vpn" {
		t.Fatalf("bob, in vpn through engineers, is in %q", groupNames(t, e.db, bob.ID))
	}
	if carol.Status != store.StatusDisabled {
		t.Fatalf("carol's account is disabled in the directory, but she is %s", carol.Status)
	}
	if _, err := e.db.UserByUsername(ctx, "dave@example.test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dave is in no synced group but was synced: %v", err)
	}
	d, err := e.db.DirectoryByName(ctx, "ad")
	testkit.NoErr(t, err)
	if !strings.HasPrefix(d.SyncCursor, "usn:") {
		t.Fatalf("cursor %q is not the server's USN", d.SyncCursor)
	}
	linked, err := e.db.DirectoryUsers(ctx, d.ID)
	testkit.NoErr(t, err)
	for _, du := range linked {
		if len(du.StableID) != 32 { // objectGUID: 16 bytes, in hex
			t.Fatalf("stable id of %s: %q", du.User.Username, du.StableID)
		}
	}

	// Nothing changed: an incremental run reads nothing.
	if res := e.sync(t, "ad"); res.Full || res.Read != 0 || counts(res) != "created=0 updated=0 disabled=0 removed=0 phones=0" {
		t.Fatalf("quiet run: full=%v read=%d %s", res.Full, res.Read, counts(res))
	}

	// Alice is renamed (new CN and UPN) and Bob's account disabled: an
	// incremental run reads the two, and alice stays the same user.
	e.do(t, func(c *ldap.Conn) error {
		if err := c.ModifyDN(ldap.NewModifyDNRequest("CN=Alice Archer,OU=Staff,DC=example,DC=test", "CN=Alicia Archer", true, "")); err != nil {
			return err
		}
		m := ldap.NewModifyRequest("CN=Alicia Archer,OU=Staff,DC=example,DC=test", nil)
		m.Replace("userPrincipalName", []string{"alicia@example.test"})
		m.Replace("displayName", []string{"Alicia Archer"})
		if err := c.Modify(m); err != nil {
			return err
		}
		m = ldap.NewModifyRequest("CN=Bob Baker,OU=Staff,DC=example,DC=test", nil)
		m.Replace("userAccountControl", []string{"546"})
		return c.Modify(m)
	})
	res = e.sync(t, "ad")
	if res.Full || res.Read != 2 || counts(res) != "created=0 updated=2 disabled=1 removed=0 phones=0" {
		t.Fatalf("incremental run: full=%v read=%d %s", res.Full, res.Read, counts(res))
	}
	alicia := e.user(t, "alicia@example.test")
	if alicia.ID != alice.ID || alicia.Key != alice.Key || alicia.RealName != "Alicia Archer" {
		t.Fatalf("the renamed user is not the same user: %+v, was %+v", alicia, alice)
	}
	if got := groupNames(t, e.db, alicia.ID); got != "vpn" {
		t.Fatalf("after the incremental run alicia is in %q", got)
	}
	if _, err := e.db.UserByUsername(ctx, "alice@example.test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the old username is still there: %v", err)
	}
	if got := e.user(t, "bob@example.test"); got.Status != store.StatusDisabled {
		t.Fatalf("bob's account was disabled, but he is %s", got.Status)
	}

	// Bob leaves the nested group: the change is on a group, so the run is
	// a full comparison, and bob goes to the trash.
	e.do(t, func(c *ldap.Conn) error {
		m := ldap.NewModifyRequest("CN=engineers,OU=Groups,DC=example,DC=test", nil)
		m.Delete("member", []string{"CN=Bob Baker,OU=Staff,DC=example,DC=test"})
		return c.Modify(m)
	})
	res = e.sync(t, "ad")
	if !res.Full || counts(res) != "created=0 updated=0 disabled=1 removed=0 phones=0" {
		t.Fatalf("run after a group change: full=%v %s", res.Full, counts(res))
	}
	linked, err = e.db.DirectoryUsers(ctx, d.ID)
	testkit.NoErr(t, err)
	for _, du := range linked {
		if (du.User.ID == bob.ID) != (du.TrashedAt != nil) {
			t.Fatalf("%s: trashed at %v", du.User.Username, du.TrashedAt)
		}
	}
}

// TestActiveDirectoryLDAPSVerifiesTheCertificate connects to the DC's LDAPS
// without its CA: the certificate is refused, in words, and nothing runs.
func TestActiveDirectoryLDAPSVerifiesTheCertificate(t *testing.T) {
	e := newADEnv(t)
	ctx := context.Background()
	s := e.settings(t)
	s.CAPEM = ""
	if _, err := e.svc.Add(ctx, "noca", s, e.dc.Password, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Sync(ctx, "noca", directory.Options{})
	var ce *directory.ConnectError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "not signed by a trusted CA") || res.Created != 0 {
		t.Fatalf("sync without the CA: %v %s", err, counts(res))
	}
	if n, _ := e.db.CountUsers(ctx); n != 0 {
		t.Fatalf("%d users were written", n)
	}
}
