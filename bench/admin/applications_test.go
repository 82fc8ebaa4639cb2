package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// loadApplications creates n applications through the apps service (a
// third web with two redirect URIs, the rest unix, auth-api and admin-api;
// every fourth with a policy of its own), restricts every third to two of
// 20 groups, and marks half of them used.
func loadApplications(b *testing.B, p *testkit.Portal, n int) {
	b.Helper()
	ctx := context.Background()
	var groups []int64
	for i := 0; i < 20; i++ {
		g := store.Group{Key: fmt.Sprintf("DG%018d", i), Name: fmt.Sprintf("Department %02d", i), CreatedAt: p.Clock.Now()}
		if err := p.Store.CreateGroup(ctx, &g); err != nil {
			b.Fatal(err)
		}
		groups = append(groups, g.ID)
	}
	kinds := apps.Kinds
	for i := 0; i < n; i++ {
		na := apps.NewApp{Name: fmt.Sprintf("Application %04d", i), Kind: kinds[i%len(kinds)]}
		if na.Kind == store.AppWeb {
			na.RedirectURIs = []string{fmt.Sprintf("https://app%04d.example.org/duo/callback", i), fmt.Sprintf("https://app%04d.example.org/sso/callback", i)}
		}
		if i%4 == 0 {
			na.NewUserPolicy = apps.NewUserPolicies[i%len(apps.NewUserPolicies)]
		}
		c, err := p.Apps.Create(ctx, na, audit.CLI())
		if err != nil {
			b.Fatal(err)
		}
		if i%3 == 0 {
			for _, g := range []int64{groups[i%20], groups[(i+7)%20]} {
				if _, err := p.Store.SQL().ExecContext(ctx, `INSERT INTO application_groups (application_id, group_id) VALUES (?, ?)`, c.App.ID, g); err != nil {
					b.Fatal(err)
				}
			}
		}
		if i%2 == 0 {
			p.Apps.Used(c.App)
		}
	}
	if err := p.Apps.FlushUsage(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkApplicationsPage1000 measures the server time of the
// applications page with 1,000 applications, through the real router and
// middleware (session, role check, render), twenty times. Target: under
// 50 ms.
func BenchmarkApplicationsPage1000(b *testing.B) {
	p := testkit.New(b)
	loadApplications(b, p, 1000)
	c, _ := p.SignInAs(b, admin.RoleReadOnly)
	var all []time.Duration
	var cpu time.Duration
	for b.Loop() {
		for i := 0; i < 20; i++ {
			before := processCPU(b)
			start := time.Now()
			r := c.Get("/admin/applications")
			d := time.Since(start)
			cpu += processCPU(b) - before
			if r.StatusCode != http.StatusOK || strings.Count(r.Body, `<a href="/admin/applications/DA`) != 1000 {
				b.Fatalf("applications page: %d, %d rows", r.StatusCode, strings.Count(r.Body, `<a href="/admin/applications/DA`))
			}
			all = append(all, d)
		}
	}
	mean, p95, worst, cpuPerPage := reportPages(b, all, cpu)
	b.Logf("applications page, 1,000 applications: mean %.2f ms, p95 %.2f ms, max %.2f ms wall; %.2f ms CPU per page (target: under 50 ms)",
		mean, p95, worst, cpuPerPage)
}
