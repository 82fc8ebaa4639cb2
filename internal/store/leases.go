package store

import (
	"context"
	"time"
)

// LeaseQueries hand out named leases, so that scheduled work (the sweeps of
// expired rows) runs on one instance at a time when several share the
// database. A lease is held by an instance's start id until it expires; the
// holder renews it by taking it again.
type LeaseQueries interface {
	// TakeLease gives the lease name to holder until until, when nobody
	// holds it, holder already does, or the last holder's lease ended at or
	// before now. It reports whether holder has it.
	TakeLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// ReleaseLease lets go of the lease name if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}
