package directory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/directory"
	"enrollportal/internal/secret"
	"enrollportal/internal/store/sqlite"
	"enrollportal/internal/testkit"
)

const (
	users  = 100_000
	groups = 200
)

// fixture is 100,000 inetOrgPerson entries (each with a mobile number) and
// 200 groupOfNames of 500 members each, dated in the past (modifyTimestamp
// and entryCSN, which slapadd would otherwise set to the second of the
// load) so that the incremental run reads only what the benchmark changes.
func fixture() string {
	// Entries changed one a second, as in a directory edited over time
	// (an incremental run re-reads the entries of the cursor's second).
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	b.Grow(users * 260)
	b.WriteString(testkit.SlapdOUs)
	for i := 0; i < users; i++ {
		at := base.Add(time.Duration(i) * time.Second)
		fmt.Fprintf(&b, "dn: uid=u%06d,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: u%06d\ncn: User %06d\nsn: %06d\nmail: u%06d@example.org\nmobile: +1650253%04d\nmodifyTimestamp: %s\nentryCSN: %s.000000Z#000000#000#000000\n\n",
			i, i, i, i, i, i%10000, at.Format("20060102150405Z"), at.Format("20060102150405"))
	}
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&b, "dn: cn=g%03d,ou=groups,dc=example,dc=org\nobjectClass: groupOfNames\ncn: g%03d\nmodifyTimestamp: 20260101000000Z\nentryCSN: 20260101000000.000000Z#000000#000#000000\n", g, g)
		for i := g; i < users; i += groups {
			fmt.Fprintf(&b, "member: uid=u%06d,ou=people,dc=example,dc=org\n", i)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMB reads the process's peak resident set (VmHWM) in MB.
func peakRSSMB(b *testing.B) float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}

func BenchmarkDirectorySync100k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ctx := context.Background()
		srv := testkit.StartSlapd(b, fixture())
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "portal.db"))
		if err != nil {
			b.Fatal(err)
		}
		box, err := secret.NewBox(secret.RandomKey())
		if err != nil {
			b.Fatal(err)
		}
		svc := &directory.Service{Store: db, Clock: clock.Real{}, Box: box}
		set := directory.Settings{Kind: directory.KindOpenLDAP, URL: srv.URL, BindDN: srv.RootDN,
			UsersBase: "ou=people,dc=example,dc=org", GroupsBase: "ou=groups,dc=example,dc=org"}
		if _, err := svc.Add(ctx, "bench", set, srv.RootPW, audit.CLI()); err != nil {
			b.Fatal(err)
		}
		// The fixture's string is garbage now: measure the sync's own peak.
		runtime.GC()
		debug.FreeOSMemory()
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			b.Fatalf("reset the peak RSS: %v", err)
		}
		start, cpu0 := time.Now(), cpuTime()
		res, err := svc.Sync(ctx, "bench", directory.Options{})
		first, firstCPU := time.Since(start), cpuTime()-cpu0
		if err != nil || res.Created != users || res.Phones != users {
			b.Fatalf("first sync: %v created=%d phones=%d", err, res.Created, res.Phones)
		}
		peak := peakRSSMB(b)

		start, cpu0 = time.Now(), cpuTime()
		res, err = svc.Sync(ctx, "bench", directory.Options{Full: true})
		resync, resyncCPU := time.Since(start), cpuTime()-cpu0
		if err != nil || res.Created+res.Updated+res.Disabled != 0 {
			b.Fatalf("re-sync: %v %+v", err, res.Counts())
		}

		conn, err := ldap.DialURL(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		if err := conn.Bind(srv.RootDN, srv.RootPW); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 1000; j++ {
			m := ldap.NewModifyRequest(fmt.Sprintf("uid=u%06d,ou=people,dc=example,dc=org", j*97), nil)
			m.Replace("mail", []string{fmt.Sprintf("changed%06d@example.org", j)})
			if err := conn.Modify(m); err != nil {
				b.Fatal(err)
			}
		}
		conn.Close()
		start, cpu0 = time.Now(), cpuTime()
		res, err = svc.Sync(ctx, "bench", directory.Options{})
		incr, incrCPU := time.Since(start), cpuTime()-cpu0
		if err != nil || res.Full || res.Updated != 1000 {
			b.Fatalf("incremental: %v full=%v %v", err, res.Full, res.Counts())
		}
		db.Close()

		b.ReportMetric(first.Seconds(), "s/first-sync")
		b.ReportMetric(peak, "MB/peak-rss")
		b.ReportMetric(resync.Seconds(), "s/resync")
		b.ReportMetric(incr.Seconds(), "s/incremental")
		// CPU seconds of the portal process beside the wall time: on a
		// shared machine the wall time is mostly waiting for a core.
		b.ReportMetric(firstCPU.Seconds(), "cpu-s/first-sync")
		b.ReportMetric(resyncCPU.Seconds(), "cpu-s/resync")
		b.ReportMetric(incrCPU.Seconds(), "cpu-s/incremental")
		b.Logf("100,000 users in 200 groups: first sync %s (%.0f users/s, %s CPU), peak RSS %.0f MB, re-sync %s (%s CPU), incremental (1,000 changed) %s (%s CPU)",
			first.Round(time.Millisecond), float64(users)/first.Seconds(), firstCPU.Round(time.Millisecond), peak,
			resync.Round(time.Millisecond), resyncCPU.Round(time.Millisecond), incr.Round(time.Millisecond), incrCPU.Round(time.Millisecond))
	}
}
