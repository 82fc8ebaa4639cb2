// Package bulkbench measures issue 4's bulk paths: a bulk enrollment of
// 10,000 pasted rows (parse, preview, and the one-transaction send that
// creates the users and queues 10,000 emails), and a CSV import of 100,000
// rows (check pass, plan kept in the database, apply in steps). The import runs in a
// child process so that its peak resident memory (VmHWM from
// /proc/self/status, which counts SQLite's C allocations too) is its own.
// The benchmarks only report figures (b.ReportMetric); they assert nothing
// about time.
//
// Run with `make bench`, or `go test -run '^$' -bench . -benchtime 1x ./bench/bulk/`.
//
// It imports the portal's packages and nothing imports it.
package bulkbench
