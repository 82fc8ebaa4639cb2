package bulkbench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enrollportal/internal/bulk"
	"enrollportal/internal/clock"
	"enrollportal/internal/enroll"
	"enrollportal/internal/jobs"
	"enrollportal/internal/notify"
	"enrollportal/internal/secret"
	"enrollportal/internal/store/sqlite"
)

const bulkRows = 10_000

// BenchmarkBulkEnroll10k pastes 10,000 new users and sends: parse, preview
// (one lookup per row), and the one-transaction send that creates 10,000
// users with their audit records, 10,000 links and 10,000 outbox emails.
// Target: under 5 s for all of it.
func BenchmarkBulkEnroll10k(b *testing.B) {
	var paste strings.Builder
	paste.WriteString("username,email\n")
	for i := 0; i < bulkRows; i++ {
		fmt.Fprintf(&paste, "bulk%05d,bulk%05d@example.org\n", i, i)
	}
	text := paste.String()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ctx := context.Background()
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "portal.db"))
		if err != nil {
			b.Fatal(err)
		}
		box, err := secret.NewBox([]byte(secret.NewKey(32)))
		if err != nil {
			b.Fatal(err)
		}
		en, err := enroll.New(enroll.Options{Store: db, Clock: clock.Real{}, Box: box, BaseURL: "https://portal.example.org",
			OrgName: func(context.Context) string { return "Example Org" }})
		if err != nil {
			b.Fatal(err)
		}
		svc := bulk.New(bulk.Options{Store: db, Enroll: en, Clock: clock.Real{}, OrgName: func(context.Context) string { return "Example Org" },
			Jobs: jobs.New(jobs.Options{Store: db, Owner: "bench"})})
		b.StartTimer()

		start, cpu0 := time.Now(), cpuTime()
		parsed := bulk.Parse(text)
		pv, err := svc.Preview(ctx, parsed)
		if err != nil {
			b.Fatal(err)
		}
		previewed := time.Since(start)
		rep, err := svc.Send(ctx, pv.Rows(), notify.DefaultEnrollment, benchAdmin)
		if err != nil {
			b.Fatal(err)
		}
		total, cpu := time.Since(start), cpuTime()-cpu0

		b.StopTimer()
		var queued int
		db.SQL().QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&queued)
		db.Close()
		if rep.Created != bulkRows || queued != bulkRows {
			b.Fatalf("created %d users and queued %d emails, want %d", rep.Created, queued, bulkRows)
		}
		b.ReportMetric(total.Seconds(), "total_s")
		b.ReportMetric(cpu.Seconds(), "total_cpu_s")
		b.ReportMetric((total - previewed).Seconds(), "send_s")
		b.ReportMetric(previewed.Seconds(), "parse_preview_s")
		b.ReportMetric(float64(bulkRows)/total.Seconds(), "rows/s")
		b.Logf("bulk enroll of %d pasted rows: parse+preview %.2f s, send (users, links, outbox) %.2f s, total %.2f s wall, %.2f s CPU",
			bulkRows, previewed.Seconds(), (total - previewed).Seconds(), total.Seconds(), cpu.Seconds())
		b.StartTimer()
	}
}
