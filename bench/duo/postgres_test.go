package duo

import (
	"os"
	"testing"

	"enrollportal/internal/testkit"
)

// BenchmarkPreauthAuthAPIv2Postgres is BenchmarkPreauthAuthAPIv2 with the
// 100,000 users in PostgreSQL (a throwaway server of testkit.StartPostgres
// on this machine, fsync off): the portal and the bare handler both read
// through the PostgreSQL store. Compare with BenchmarkPreauthAuthAPIv2 of
// the same run for the SQLite figure.
func BenchmarkPreauthAuthAPIv2Postgres(b *testing.B) {
	f, done := newPostgresFixture(b)
	defer done()
	n := requestsPerRun * b.N
	b.ResetTimer()
	rps, p99, cpu := load(b, n, preauthV2(f, f.portal, f.host), checkPreauthV2)
	b.StopTimer()
	bareRPS, bareP99, bareCPU := bareLoad(b, f, n)
	report(b, f, rps, p99, cpu, bareRPS, bareP99, bareCPU)
}

// newPostgresFixture loads the fixture into a new database of the test
// PostgreSQL server, with its key in a temporary directory; done closes
// its servers and removes the directory.
func newPostgresFixture(b *testing.B) (f *fixture, done func()) {
	b.Helper()
	dir, err := os.MkdirTemp("", "bench-duo-pg-")
	if err != nil {
		b.Fatal(err)
	}
	f, err = newFixtureOn(dir, testkit.StartPostgres(b))
	if err != nil {
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	return f, func() {
		f.portal.Close()
		f.bare.Close()
		f.portalTLS.Close()
		f.bareTLS.Close()
		f.app.Close()
		os.RemoveAll(dir)
	}
}
