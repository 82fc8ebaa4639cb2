// Package admin benchmarks the admin section at the scale the SPEC names:
// the users page with 100,000 users.
package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	"enrollportal/internal/admin"
	"enrollportal/internal/testkit"
)

// loadUsers inserts n users straight into SQLite (half of them with an
// activated phone), far faster than through the pages.
func loadUsers(b *testing.B, p *testkit.Portal, n int) {
	b.Helper()
	db := p.Store.SQL()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	now := p.Clock.Now().Unix()
	userStmt, _ := tx.PrepareContext(ctx, `INSERT INTO users (user_key, username, realname, email, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?)`)
	phoneStmt, _ := tx.PrepareContext(ctx, `INSERT INTO phones (phone_key, number, type, platform, activated, created_at) VALUES (?, ?, 'mobile', 'Apple iOS', 1, ?)`)
	linkStmt, _ := tx.PrepareContext(ctx, `INSERT INTO user_phones (user_id, phone_id) VALUES (?, ?)`)
	first := []string{"anna", "ben", "carla", "dmitri", "emma", "farid", "grace", "hugo", "ines", "jon"}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s.%06d", first[i%len(first)], i)
		res, err := userStmt.ExecContext(ctx, fmt.Sprintf("DU%018d", i), name, fmt.Sprintf("%s Person%d", first[(i/7)%len(first)], i),
			fmt.Sprintf("%s@dept%d.example.org", name, i%50), now, now)
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			uid, _ := res.LastInsertId()
			pr, err := phoneStmt.ExecContext(ctx, fmt.Sprintf("DP%018d", i), fmt.Sprintf("+1555%07d", i), now)
			if err != nil {
				b.Fatal(err)
			}
			pid, _ := pr.LastInsertId()
			if _, err := linkStmt.ExecContext(ctx, uid, pid); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkUsersPage100k measures the server time of the users page (list,
// deep keyset page and prefix searches on username, email and real name)
// with 100,000 users. Target: under 50 ms for every page.
func BenchmarkUsersPage100k(b *testing.B) {
	p := testkit.New(b)
	loadUsers(b, p, 100_000)
	c, _ := p.SignInAs(b, admin.RoleReadOnly)
	pages := []string{
		"/admin/users",
		"/admin/users?after=" + url.QueryEscape("emma.050004"),
		"/admin/users?q=grace",
		"/admin/users?q=" + url.QueryEscape("jon.09"),
		"/admin/users?q=" + url.QueryEscape("hugo.000007@dept7"),
		"/admin/users?q=" + url.QueryEscape("Carla Person"),
		"/admin/users?q=zzz-nobody",
		"/admin",
	}
	var all []time.Duration
	worst := map[string]time.Duration{}
	for b.Loop() {
		for _, path := range pages {
			for i := 0; i < 5; i++ {
				start := time.Now()
				r := c.Get(path)
				d := time.Since(start)
				if r.Code != http.StatusOK {
					b.Fatalf("%s: %d", path, r.Code)
				}
				all = append(all, d)
				worst[path] = max(worst[path], d)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	var sum time.Duration
	for _, d := range all {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(sum/time.Duration(len(all))), "ms/page-mean")
	b.ReportMetric(ms(all[len(all)*95/100]), "ms/page-p95")
	b.ReportMetric(ms(all[len(all)-1]), "ms/page-max")
	for _, path := range pages {
		b.Logf("%-50s worst %.2f ms", path, ms(worst[path]))
	}
}
