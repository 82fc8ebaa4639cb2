// Package duo benchmarks the Duo-compatible APIs under load: preauth through
// REST v1 (what login_duo calls) and Auth API v2, with 100,000 users in the
// database, against a bare Gin handler doing one indexed SQLite read on the
// same database, measured in the same run. Figures are reported with
// b.ReportMetric: req/s, p99_ms, ratio (portal req/s over bare req/s) and
// cpu_us/req (CPU time of the process, load generator included, per
// request: steadier than wall-clock figures on a shared machine).
package duo
