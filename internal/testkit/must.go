package testkit

import "testing"

// Result is a call's value and error, paired by Got so that a test can fail
// on the error instead of asserting on a zero value it did not check:
//
//	n := testkit.Got(p.Store.CountUsers(ctx)).Must(t)
type Result[T any] struct {
	v   T
	err error
}

// Got pairs the two results of a call for Must.
func Got[T any](v T, err error) Result[T] { return Result[T]{v, err} }

// Must returns the value, failing the test at once when the call failed.
func (r Result[T]) Must(t testing.TB) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

// NoErr fails the test at once when err is not nil.
func NoErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}
