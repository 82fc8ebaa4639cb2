// Package enrollbench measures issue 2: how fast the enrollment landing page
// and the code-verification step answer over real HTTP on loopback, on a
// database of 100,000 users, against a bare Gin handler doing one indexed
// SQLite read on the same machine and database. The benchmarks only report
// figures (b.ReportMetric); they assert nothing about time.
//
// Run with `make bench`, or
// `go test -run '^$' -bench . -benchtime 1x ./bench/enroll/`.
// BENCH_CLIENTS (default 16) sets the number of concurrent clients and
// BENCH_SECONDS (default 3) how long each measurement runs.
//
// It imports the portal's packages and nothing imports it.
package enrollbench
