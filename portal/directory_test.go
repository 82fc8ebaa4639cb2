package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"enrollportal/internal/directory"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

const cliFixture = testkit.SlapdOUs + `dn: uid=ann,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: ann
cn: Ann Lee
sn: Lee
mail: ann@example.org
mobile: +44 7911 123456

dn: uid=ben,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: ben
cn: Ben Ito
sn: Ito

dn: uid=cat,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: cat
cn: Cat Ng
sn: Ng

dn: cn=vpn,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: vpn
member: uid=ann,ou=people,dc=example,dc=org
member: uid=ben,ou=people,dc=example,dc=org

`

func TestDirectoryCLIAddAndSync(t *testing.T) {
	ldapSrv := testkit.StartSlapd(t, cliFixture)
	files := newDBFiles(t)
	add := func(name string) []string {
		return []string{"directory", "add", name, "--kind", "openldap", "--url", ldapSrv.URL, "--bind-dn", ldapSrv.RootDN,
			"--password-stdin", "--users-base", "ou=people,dc=example,dc=org", "--groups-base", "ou=groups,dc=example,dc=org", "--group", "vpn"}
	}
	if code, _, stderr := runAdminCLI(t, files, ldapSrv.RootPW+"\n", "directory", "add", "corp", "--kind", "openldap", "--url", ldapSrv.URL, "--bind-dn", ldapSrv.RootDN); code != 2 || !strings.Contains(stderr, "--users-base are required") {
		t.Fatalf("missing flags: %d %s", code, stderr)
	}
	if code, _, stderr := runAdminCLI(t, files, ldapSrv.RootPW+"\n", add("corp")...); code != 0 {
		t.Fatalf("add: %d %s", code, stderr)
	}
	if code, _, stderr := runAdminCLI(t, files, ldapSrv.RootPW+"\n", add("corp")...); code != 1 || !strings.Contains(stderr, "exists") {
		t.Fatalf("add twice: %d %s", code, stderr)
	}
	want := "created=2\nupdated=0\ndisabled=0\nremoved=0\nphones=1\n"
	code, stdout, stderr := runAdminCLI(t, files, "", "directory", "sync", "corp", "--dry-run")
	if code != 0 || stdout != want {
		t.Fatalf("dry run: %d %q %s", code, stdout, stderr)
	}
	code, stdout, stderr = runAdminCLI(t, files, "", "directory", "sync", "corp")
	if code != 0 || stdout != want {
		t.Fatalf("sync: %d %q %s", code, stdout, stderr)
	}
	code, stdout, _ = runAdminCLI(t, files, "", "directory", "sync", "corp")
	if code != 0 || stdout != "created=0\nupdated=0\ndisabled=0\nremoved=0\nphones=0\n" {
		t.Fatalf("second sync: %d %q", code, stdout)
	}

	if code, _, stderr := runAdminCLI(t, files, "wrong password\n", add("wrong")...); code != 0 {
		t.Fatalf("add wrong: %d %s", code, stderr)
	}
	code, _, stderr = runAdminCLI(t, files, "", "directory", "sync", "wrong")
	if code != 1 || !strings.Contains(stderr, "refused the bind DN or password") {
		t.Fatalf("wrong password: %d %s", code, stderr)
	}
	if code, _, stderr := runAdminCLI(t, files, "", "directory", "sync", "nope"); code != 1 || !strings.Contains(stderr, `no directory is named "nope"`) {
		t.Fatalf("unknown directory: %d %s", code, stderr)
	}
}

// The page's other settings from the command line: the schedule, the
// enrollment emails, the removal threshold and the mapping's overrides.
func TestDirectoryCLIAddScheduleEmailsAndMapping(t *testing.T) {
	ldapSrv := testkit.StartSlapd(t, cliFixture)
	files := newDBFiles(t)
	add := func(name string, extra ...string) []string {
		return append([]string{"directory", "add", name, "--kind", "openldap", "--url", ldapSrv.URL, "--bind-dn", ldapSrv.RootDN,
			"--password-stdin", "--users-base", "ou=people,dc=example,dc=org", "--groups-base", "ou=groups,dc=example,dc=org", "--group", "vpn"}, extra...)
	}
	// Refused settings are said by their flags, and add nothing.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--every", "2"}, "--every: give a number of minutes from 5 to 10080"},
		{[]string{"--removal-percent", "150"}, "--removal-percent is a percentage"},
		{[]string{"--membership", "children"}, "--membership: choose member"},
		{[]string{"--phone-attr", "mobile phone"}, `--phone-attr: "mobile phone" is not an attribute name`},
		{[]string{"--user-filter", "(uid=ann"}, `--user-filter: "(uid=ann" is not an LDAP filter`},
	} {
		if code, _, stderr := runAdminCLI(t, files, ldapSrv.RootPW+"\n", add("bad", c.args...)...); code != 2 || !strings.Contains(stderr, c.want) {
			t.Fatalf("%v: %d %s", c.args, code, stderr)
		}
	}
	code, _, stderr := runAdminCLI(t, files, ldapSrv.RootPW+"\n", add("corp", "--every", "60", "--send-enrollment", "--removal-percent", "25",
		"--realname-attr", "sn", "--phone-attr", "telephoneNumber")...)
	if code != 0 {
		t.Fatalf("add: %d %s", code, stderr)
	}
	db := files.open(t)
	d, err := db.DirectoryByName(context.Background(), "corp")
	testkit.NoErr(t, err)
	if _, err := db.DirectoryByName(context.Background(), "bad"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused add added the directory: %v", err)
	}
	var set directory.Settings
	testkit.NoErr(t, json.Unmarshal([]byte(d.Config), &set))
	if set.ScheduleMinutes != 60 || !set.EnrollmentEmails || set.RemovalShare != 0.25 || set.Mapping.RealName != "sn" ||
		strings.Join(set.Mapping.Phones, ",") != "telephoneNumber" || set.Mapping.Username != "uid" || set.Mapping.StableID != "entryUUID" {
		t.Fatalf("settings: %+v", set)
	}
	// The mapping is what the sync reads: real names from sn, and no
	// phones (ann's number is in mobile, which is not mapped).
	code, stdout, stderr := runAdminCLI(t, files, "", "directory", "sync", "corp")
	if code != 0 || stdout != "created=2\nupdated=0\ndisabled=0\nremoved=0\nphones=0\n" {
		t.Fatalf("sync: %d %q %s", code, stdout, stderr)
	}
	ann, err := db.UserByUsername(context.Background(), "ann")
	testkit.NoErr(t, err)
	if ann.RealName != "Lee" {
		t.Fatalf("ann's real name from sn: %q", ann.RealName)
	}
	// --send-enrollment: a bulk send job for the one new user with an
	// email (ann), for portal serve's outbox to deliver.
	jobs, err := db.RecentJobs(context.Background(), 10)
	testkit.NoErr(t, err)
	if len(jobs) != 1 || jobs[0].Kind != "bulk_send" || jobs[0].Total != 1 {
		t.Fatalf("enrollment email jobs: %+v", jobs)
	}
}
