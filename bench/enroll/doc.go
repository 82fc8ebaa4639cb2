// Package enrollbench measures issue 2: how fast the enrollment landing page
// and the code-verification step answer over real HTTP on loopback, on a
// database of 100,000 users, against a bare Gin handler doing one indexed
// SQLite read on the same machine and database. The benchmarks only report
// figures (b.ReportMetric); they assert nothing about time.
//
// Run with `make bench`, or
// `go test -run '^$' -bench . -benchtime 1x ./bench/enroll/`.
// BENCH_CLIENTS (default 8) sets the number of concurrent clients and
// BENCH_SECONDS (default 3) how long each measurement runs.
//
// Besides requests per second and p50/p99 latency, every figure comes with
// the CPU time the process spent per request (clients and servers, all on
// loopback). On a shared machine the throughput and tail latency move with
// everyone else's load; CPU per request hardly does, so the ratio
// landing/bare_cpu is the figure to compare between runs.
// BENCH_PROFILE_DIR=DIR writes a CPU profile of each phase to DIR.
//
// It imports the portal's packages and nothing imports it.
package enrollbench
