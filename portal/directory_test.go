package main

import (
	"strings"
	"testing"

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
	dir := t.TempDir()
	add := func(name string) []string {
		return []string{"directory", "add", name, "--kind", "openldap", "--url", ldapSrv.URL, "--bind-dn", ldapSrv.RootDN,
			"--password-stdin", "--users-base", "ou=people,dc=example,dc=org", "--groups-base", "ou=groups,dc=example,dc=org", "--group", "vpn"}
	}
	if code, _, stderr := runAdminCLI(t, dir, ldapSrv.RootPW+"\n", "directory", "add", "corp", "--kind", "openldap", "--url", ldapSrv.URL, "--bind-dn", ldapSrv.RootDN); code != 2 || !strings.Contains(stderr, "--users-base are required") {
		t.Fatalf("missing flags: %d %s", code, stderr)
	}
	if code, _, stderr := runAdminCLI(t, dir, ldapSrv.RootPW+"\n", add("corp")...); code != 0 {
		t.Fatalf("add: %d %s", code, stderr)
	}
	if code, _, stderr := runAdminCLI(t, dir, ldapSrv.RootPW+"\n", add("corp")...); code != 1 || !strings.Contains(stderr, "exists") {
		t.Fatalf("add twice: %d %s", code, stderr)
	}
	want := "created=2\nupdated=0\ndisabled=0\nremoved=0\nphones=1\n"
	code, stdout, stderr := runAdminCLI(t, dir, "", "directory", "sync", "corp", "--dry-run")
	if code != 0 || stdout != want {
		t.Fatalf("dry run: %d %q %s", code, stdout, stderr)
	}
	code, stdout, stderr = runAdminCLI(t, dir, "", "directory", "sync", "corp")
	if code != 0 || stdout != want {
		t.Fatalf("sync: %d %q %s", code, stdout, stderr)
	}
	code, stdout, _ = runAdminCLI(t, dir, "", "directory", "sync", "corp")
	if code != 0 || stdout != "created=0\nupdated=0\ndisabled=0\nremoved=0\nphones=0\n" {
		t.Fatalf("second sync: %d %q", code, stdout)
	}

	if code, _, stderr := runAdminCLI(t, dir, "wrong password\n", add("wrong")...); code != 0 {
		t.Fatalf("add wrong: %d %s", code, stderr)
	}
	code, _, stderr = runAdminCLI(t, dir, "", "directory", "sync", "wrong")
	if code != 1 || !strings.Contains(stderr, "refused the bind DN or password") {
		t.Fatalf("wrong password: %d %s", code, stderr)
	}
	if code, _, stderr := runAdminCLI(t, dir, "", "directory", "sync", "nope"); code != 1 || !strings.Contains(stderr, `no directory is named "nope"`) {
		t.Fatalf("unknown directory: %d %s", code, stderr)
	}
}
