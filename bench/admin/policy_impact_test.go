package admin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"enrollportal/internal/policy"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// loadAccess gives the users of loadUsers an authenticator app (the
// even ones) or a security key (every fifth), puts each in one to three
// of 20 groups, and adds 20 applications, half of them restricted to a few
// groups and each with a group override.
func loadAccess(b *testing.B, p *testkit.Portal) {
	b.Helper()
	ctx := context.Background()
	db := p.Store.SQL()
	now := p.Clock.Now().Unix()
	stmts := []string{`UPDATE phones SET totp_secret = x'01'`}
	for g := 1; g <= 20; g++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO groups (group_key, name, created_at) VALUES ('DG%018d', 'group-%02d', %d)`, g, g, now))
	}
	stmts = append(stmts,
		`INSERT INTO user_groups (user_id, group_id) SELECT id, 1 + id % 20 FROM users`,
		`INSERT INTO user_groups (user_id, group_id) SELECT id, 1 + (id / 3) % 20 FROM users WHERE id % 2 = 0 AND 1 + (id / 3) % 20 != 1 + id % 20`,
		`INSERT INTO user_groups (user_id, group_id) SELECT id, 1 + (id / 7) % 20 FROM users WHERE id % 5 = 0
			AND 1 + (id / 7) % 20 NOT IN (1 + id % 20, 1 + (id / 3) % 20)`,
		fmt.Sprintf(`INSERT INTO webauthn_credentials (credential_key, user_id, credential_id, public_key, aaguid, name, created_at)
			SELECT 'DK' || id, id, randomblob(16), x'01', x'00', 'key', %d FROM users WHERE id %% 5 = 0`, now),
		fmt.Sprintf(`INSERT INTO policies (policy_key, name, new_user_policy, auth_methods, created_at, updated_at)
			VALUES ('DOSTRICT', 'strict', 'deny', 'security_key', %d, %d)`, now, now),
	)
	for a := 1; a <= 20; a++ {
		stmts = append(stmts,
			fmt.Sprintf(`INSERT INTO applications (app_key, name, kind, client_id, client_secret, groups_restricted, created_at, updated_at)
				VALUES ('DA%018d', 'app-%02d', 'unix', 'DI%018d', x'00', %d, %d, %d)`, a, a, a, a%2, now, now),
			fmt.Sprintf(`INSERT INTO application_groups (application_id, group_id) SELECT id, %d FROM applications WHERE app_key = 'DA%018d'`, 1+a%20, a),
			fmt.Sprintf(`INSERT INTO application_groups (application_id, group_id) SELECT id, %d FROM applications WHERE app_key = 'DA%018d'`, 1+(a+5)%20, a),
			fmt.Sprintf(`INSERT INTO application_group_policies (application_id, group_id, policy_id)
				SELECT a.id, %d, p.id FROM applications a, policies p WHERE a.app_key = 'DA%018d' AND p.policy_key = 'DOSTRICT'`, 1+(a+9)%20, a),
		)
	}
	stmts = append(stmts, `ANALYZE`)
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			b.Fatalf("%s: %v", s, err)
		}
	}
}

// BenchmarkPolicyImpact100k measures the impact preview of a change to the
// global policy (new users denied, security keys only) over 100,000 users
// in 20 groups and 20 applications: every user evaluated in every
// application before and after, from loading the data to the summary.
// Target: under 1 s.
func BenchmarkPolicyImpact100k(b *testing.B) {
	p := testkit.New(b)
	loadUsers(b, p, 100_000)
	loadAccess(b, p)
	ctx := context.Background()
	global, err := p.Store.GlobalPolicy(ctx)
	if err != nil {
		b.Fatal(err)
	}
	global.NewUserPolicy, global.AuthMethods = store.NewUserDeny, []string{store.MethodSecurityKey}
	ch := policy.Change{Kind: policy.ChangePolicy, Policy: global}
	var worst, cpu time.Duration
	var im policy.Impact
	runs := 0
	for b.Loop() {
		for i := 0; i < 3; i++ {
			before := processCPU(b)
			start := time.Now()
			im, _, err = p.Policy.Preview(ctx, ch)
			d := time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			worst = max(worst, d)
			cpu += processCPU(b) - before
			runs++
		}
	}
	if im.Users != 100_000 || len(im.Apps) != 20 || im.Moved() == 0 {
		b.Fatalf("impact over %d users, %d applications, %d moved", im.Users, len(im.Apps), im.Moved())
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(worst), "ms/preview-max")
	b.ReportMetric(ms(cpu/time.Duration(runs)), "cpu_ms/preview")
	b.Logf("impact preview at 100,000 users, 20 groups, 20 applications: worst %.0f ms wall, %.0f ms CPU (target 1,000 ms); %d user-application moves, e.g. %q",
		ms(worst), ms(cpu/time.Duration(runs)), im.Moved(), im.Apps[0].Moves[0].Summary(im.Apps[0].App.Name))
}
