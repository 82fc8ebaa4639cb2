// Package testdb gives tests a fresh database on the backend under test:
// SQLite by default, PostgreSQL when PORTAL_TEST_DB=postgres (a throwaway
// server, StartPostgres), so that `make test` runs the tests of the packages
// whose behaviour depends on the database on both backends. It is a leaf
// package apart from testkit, so that the tests inside packages testkit
// depends on (notify) can use it too.
package testdb
