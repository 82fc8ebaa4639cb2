// Package sqlstore implements store.Store in SQL, once for both databases
// the portal runs on: the backends internal/store/sqlite and
// internal/store/postgres open a database/sql handle, apply their own
// migrations and hand it over with their Dialect, which holds the few
// things the two spell differently. Queries are written in SQL that both
// accept (see Dialect).
//
// It imports only store, audit (the action names some queries count) and
// text of the project.
package sqlstore
