package policy_test

import (
	"context"
	"net"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/policy"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
	"enrollportal/internal/users"
)

// fixture is a portal with a few users, a group override and a GeoIP file.
type fixture struct {
	p       *testkit.Portal
	app     store.Application
	vpnTeam store.Group
}

func newFixture(t *testing.T, geoip bool) fixture {
	t.Helper()
	var opts []testkit.Option
	if geoip {
		opts = append(opts, testkit.WithGeoIP(testkit.WriteGeoIP(t, map[string]string{
			"203.0.113.0/24": "KP", "198.51.100.0/24": "DE",
		})))
	}
	p := testkit.New(t, opts...)
	ctx := context.Background()
	now := p.Clock.Now()
	f := fixture{p: p}
	err := p.Store.InTx(ctx, func(q store.Queries) error {
		appPolicy := store.Policy{Key: secret.NewID("DO", 20), Name: "VPN policy", NewUserPolicy: store.NewUserAllow,
			DeniedCountries: []string{"KP"}, CreatedAt: now, UpdatedAt: now}
		if err := q.CreatePolicy(ctx, &appPolicy); err != nil {
			return err
		}
		strict := store.Policy{Key: secret.NewID("DO", 20), Name: "Contractors", NewUserPolicy: store.NewUserDeny, CreatedAt: now, UpdatedAt: now}
		if err := q.CreatePolicy(ctx, &strict); err != nil {
			return err
		}
		f.vpnTeam = store.Group{Key: secret.NewID("DG", 20), Name: "contractors", CreatedAt: now}
		if err := q.CreateGroup(ctx, &f.vpnTeam); err != nil {
			return err
		}
		f.app = store.Application{Key: secret.NewID("DA", 20), Name: "VPN", Kind: store.AppUnix, ClientID: secret.NewID("DI", 20),
			ClientSecret: []byte("sealed"), PolicyID: &appPolicy.ID, UsernameNormalization: store.NormalizeSimple, CreatedAt: now, UpdatedAt: now}
		if err := q.CreateApplication(ctx, &f.app); err != nil {
			return err
		}
		if err := q.SetGroupPolicy(ctx, store.GroupPolicy{ApplicationID: f.app.ID, GroupID: f.vpnTeam.ID, PolicyID: strict.ID}); err != nil {
			return err
		}
		for _, name := range []string{"pat", "carl", "erin"} {
			u, err := users.Prepare(users.NewUser{Username: name}, now)
			if err != nil {
				return err
			}
			if err := users.Insert(ctx, q, &u, audit.CLI()); err != nil {
				return err
			}
			switch name {
			case "carl":
				if err := q.AddUserToGroup(ctx, u.ID, f.vpnTeam.ID); err != nil {
					return err
				}
			case "erin":
				ph := store.Phone{Key: secret.NewID("DP", 20), Type: store.PhoneMobile, Platform: store.PlatformGeneric,
					TOTPSecret: []byte("sealed"), Activated: true, ActivatedAt: &now, CreatedAt: now}
				if err := q.CreatePhone(ctx, &ph); err != nil {
					return err
				}
				if err := q.AttachPhone(ctx, u.ID, ph.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestServiceDecide(t *testing.T) {
	f := newFixture(t, true)
	tests := []struct {
		name, username, ip     string
		wantResult, wantReason string
		wantUser               string
	}{
		{"unknown user under the application's allow", "nobody", "198.51.100.7", "allow", "new_user_allowed", ""},
		{"partially enrolled user must enroll even under allow", "pat", "198.51.100.7", "enroll", "enrollment_required", "pat"},
		{"group override denies unenrolled contractors", "carl", "198.51.100.7", "deny", "new_user_denied", "carl"},
		{"enrolled user, simple normalization", `EXAMPLE\Erin`, "198.51.100.7", "auth", "enrolled", "erin"},
		{"enrolled user, email form", "erin@example.org", "", "auth", "enrolled", "erin"},
		{"denied country from the GeoIP file", "erin", "203.0.113.9", "deny", "denied_location", "erin"},
		{"address outside the GeoIP file", "erin", "192.0.2.1", "auth", "enrolled", "erin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, u, err := f.p.Policy.Decide(context.Background(), f.app, tt.username, net.ParseIP(tt.ip))
			if err != nil {
				t.Fatal(err)
			}
			if d.Result != tt.wantResult || d.Reason != tt.wantReason {
				t.Errorf("got %s (%s), want %s (%s)", d.Result, d.Reason, tt.wantResult, tt.wantReason)
			}
			gotUser := ""
			if u != nil {
				gotUser = u.Username
			}
			if gotUser != tt.wantUser {
				t.Errorf("user %q, want %q", gotUser, tt.wantUser)
			}
		})
	}
}

func TestServiceDecideWithoutGeoIPDeniesNoCountry(t *testing.T) {
	f := newFixture(t, false)
	d, _, err := f.p.Policy.Decide(context.Background(), f.app, "erin", net.ParseIP("203.0.113.9"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Result != policy.ResultAuth {
		t.Errorf("without a GeoIP file got %s (%s), want auth", d.Result, d.Reason)
	}
}

func TestServiceDecideNoneNormalizationKeepsDomain(t *testing.T) {
	f := newFixture(t, false)
	f.app.UsernameNormalization = store.NormalizeNone
	_, u, err := f.p.Policy.Decide(context.Background(), f.app, "erin@example.org", nil)
	if err != nil {
		t.Fatal(err)
	}
	if u != nil {
		t.Errorf("normalization none found user %q for erin@example.org", u.Username)
	}
}
