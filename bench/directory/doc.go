// Package directory benchmarks directory sync against a real slapd loaded
// with slapadd: the first sync of 100,000 users in 200 groups, a re-sync
// with nothing changed, and an incremental run after 1,000 users changed.
// Figures are reported with b.ReportMetric: s/first-sync, s/resync,
// s/incremental, the CPU seconds of each (cpu-s/...), and MB/peak-rss (the
// portal process's peak resident set during the first sync; slapd is a
// separate process). They report figures and assert no target.
package directory
