package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	duoapi "github.com/duosecurity/duo_api_golang"
	"github.com/duosecurity/duo_api_golang/authapi"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/config"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// A populated SQLite deployment copied with `portal db copy` serves the
// same users on PostgreSQL: an authenticator app enrolled before the copy
// (its seed sealed with the key) logs in with its code after it, through
// Duo's Go client and the application created before the copy. A second
// copy into the now full database is refused.
func TestPostgresDBCopyServesTheSameUsers(t *testing.T) {
	dir := t.TempDir()
	dbPath, keyFile := filepath.Join(dir, "portal.db"), filepath.Join(dir, "secret.key")
	onFiles := func(db string) testkit.Option {
		return func(s *config.Settings) { s.DB, s.SecretKeyFile = db, keyFile }
	}
	ctx := context.Background()
	before := testkit.New(t, onFiles(dbPath))
	before.StopJobRunner()
	before.Clock.Set(time.Now())
	app, err := before.Apps.Create(ctx, apps.NewApp{Name: "VPN", Kind: store.AppAuthAPI}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	secret := enrollTOTP(t, before, "carol")
	if _, err := before.Users.Create(ctx, users.NewUser{Username: "dave", Email: "dave@example.org"}, audit.CLI()); err != nil {
		t.Fatal(err)
	}
	before.Close()

	url := testkit.StartPostgres(t)
	r := runCLI(t, nil, "db", "copy", "--from", "sqlite:"+dbPath, "--to", url)
	if r.code != 0 {
		t.Fatalf("db copy: %+v", r)
	}
	for table, rows := range map[string]string{"users": "2", "phones": "1", "user_phones": "1", "applications": "1", "policies": "1"} {
		if !regexp.MustCompile(`(?m)^\s*` + table + `\s+` + rows + `\s*$`).MatchString(r.stdout) {
			t.Errorf("the count of %s is not %s in:\n%s", table, rows, r.stdout)
		}
	}
	again := runCLI(t, nil, "db", "copy", "--from", "sqlite:"+dbPath, "--to", url)
	if again.code != 1 || !strings.Contains(again.stderr, "not empty") || !strings.Contains(again.stderr, "users") {
		t.Fatalf("a second copy into the full database: %+v", again)
	}

	after, files := testkit.ServeTLS(t, onFiles(url))
	after.Clock.Set(time.Now())
	client := authapi.NewAuthApi(*duoapi.NewDuoApi(app.ClientID, app.ClientSecret, strings.TrimPrefix(after.URL, "https://"), "enrollportal-test"))
	client.SetCustomHTTPClient(files.Client())
	pre, err := client.Preauth(authapi.PreauthUsername("carol"))
	if err != nil || pre.Response.Result != "auth" || len(pre.Response.Devices) != 1 {
		t.Fatalf("preauth of carol after the copy: %+v %v", pre, err)
	}
	res, err := client.Auth("passcode", authapi.AuthUsername("carol"), authapi.AuthPasscode(testkit.TOTPCode(t, secret, time.Now())))
	if err != nil || res.Response.Result != "allow" {
		t.Fatalf("carol's code after the copy: %+v %v", res, err)
	}
	// New rows get ids past the copied ones.
	if _, err := after.Users.Create(ctx, users.NewUser{Username: "erin"}, audit.CLI()); err != nil {
		t.Fatalf("a user added after the copy: %v", err)
	}
}
