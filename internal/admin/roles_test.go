package admin_test

import (
	"strings"
	"testing"

	"enrollportal/internal/admin"
)

func TestRoleMatrix(t *testing.T) {
	// The SPEC's table, row by row.
	yes := map[admin.Permission][]string{
		admin.ManageAdmins:       {admin.RoleOwner},
		admin.ManageUsers:        {admin.RoleOwner, admin.RoleAdministrator, admin.RoleUserManager},
		admin.SendEnrollment:     {admin.RoleOwner, admin.RoleAdministrator, admin.RoleUserManager},
		admin.ManageApplications: {admin.RoleOwner, admin.RoleAdministrator, admin.RoleApplicationManager},
		admin.ApplicationSecrets: {admin.RoleOwner, admin.RoleAdministrator},
		admin.ManageSettings:     {admin.RoleOwner, admin.RoleAdministrator},
		admin.ViewUsers:          admin.Roles,
		admin.OwnSession:         admin.Roles,
	}
	for _, p := range admin.Permissions {
		for _, role := range admin.Roles {
			want := false
			for _, r := range yes[p] {
				want = want || r == role
			}
			if got := admin.Can(role, p, admin.Settings{}); got != want {
				t.Errorf("Can(%s, %s) = %v, want %v", role, p, got, want)
			}
		}
	}
	if !admin.Can(admin.RoleHelpDesk, admin.SendEnrollment, admin.Settings{HelpDeskMaySend: true}) {
		t.Error("help desk may not send although the setting allows it")
	}
	if admin.Can(admin.RoleReadOnly, admin.SendEnrollment, admin.Settings{HelpDeskMaySend: true}) {
		t.Error("the help desk setting leaked to read-only")
	}
	if admin.Can("superuser", admin.ViewUsers, admin.Settings{}) {
		t.Error("an unknown role may view users")
	}
}

func TestPasswordHashIsArgon2idPHC(t *testing.T) {
	h := admin.HashPassword("correct horse battery staple")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if h2 := admin.HashPassword("correct horse battery staple"); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	cases := []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse battery staple", true},
		{h, "correct horse battery stapl", false},
		{h, "", false},
		{"", "correct horse battery staple", false},
		{"$argon2id$v=19$m=19456,t=2,p=1$short$short", "x", false},
		{strings.Replace(h, "argon2id", "argon2i", 1), "correct horse battery staple", false},
		{strings.Replace(h, "m=19456", "m=99999999", 1), "correct horse battery staple", false},
	}
	for _, c := range cases {
		if got := admin.CheckPassword(c.hash, c.pw); got != c.want {
			t.Errorf("CheckPassword(%.30q, %q) = %v", c.hash, c.pw, got)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		"elevenchars":  false,
		"twelve chars": true,
		"ééééééééééé":  false, // 11 characters, 22 bytes
		strings.Repeat("x", admin.MaxPasswordLength):   true,
		strings.Repeat("x", admin.MaxPasswordLength+1): false,
	} {
		if err := admin.ValidatePassword(pw); (err == nil) != ok {
			t.Errorf("ValidatePassword(%d chars) = %v", len([]rune(pw)), err)
		}
	}
}
