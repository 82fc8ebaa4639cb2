// Package dbcopy benchmarks `portal db copy`: a SQLite database of 100,000
// users, each with an activated phone, copied into a new PostgreSQL
// database (a throwaway server of testkit.StartPostgres). The figure,
// copy_s, is what the command does: open both databases (migrating the
// target) and copy every table; the target is 30 s.
package dbcopy
