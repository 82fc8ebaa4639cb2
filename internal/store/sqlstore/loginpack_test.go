package sqlstore_test

import (
	"reflect"
	"testing"
	"time"

	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlstore"
)

// The login cache keeps users packed into byte slices (loginpack.go), so
// that the garbage collector has no pointers to trace through them; what it
// reads back must be exactly what the database read gave, nil and empty
// slices and absent times included, and must share no memory a caller could
// change with the kept entry.
func TestLoginCacheEntriesReadBackExactly(t *testing.T) {
	at := time.Unix(1_790_000_000, 0).UTC()
	later := at.Add(time.Hour)
	full := store.LoginSubject{
		User: store.User{ID: 42, Key: "DUABC", Username: "émile", RealName: "Émile Zola", FirstName: "Émile", LastName: "Zola",
			Email: "emile@example.org", Notes: "line one\nline two", Status: store.StatusLockedOut, FailedAttempts: 10,
			CreatedAt: at, UpdatedAt: later, LastLoginAt: &later},
		GroupIDs: []int64{3, 1 << 40, -7},
		Phones: []store.Phone{
			{ID: 9, Key: "DP1", Number: "+12015550123", Extension: "12", Name: "work", Type: store.PhoneMobile,
				Platform: store.PlatformGeneric, TOTPSecret: []byte{0, 1, 2, 255}, Activated: true, ActivatedAt: &at,
				LastTOTPStep: 59_666_666, SMSPasscodesSent: 3, CreatedAt: at},
			{ID: 10, Key: "DP2", Type: store.PhoneTablet, TOTPSecret: []byte{}, CreatedAt: later},
		},
	}
	for name, ls := range map[string]store.LoginSubject{
		"every field":            full,
		"nothing":                {},
		"empty slices, not nil":  {User: store.User{ID: 1, Username: "a"}, GroupIDs: []int64{}, Phones: []store.Phone{}},
		"a phone without secret": {User: store.User{ID: 2, Username: "b"}, Phones: []store.Phone{{ID: 3, Key: "DP3"}}},
	} {
		got, err := sqlstore.RepackLoginSubject(ls)
		if err != nil || !reflect.DeepEqual(got, ls) {
			t.Errorf("%s: read back\n%+v, %v\nwant\n%+v", name, got, err, ls)
		}
	}

	packed := sqlstore.PackedLoginSubject(full)
	kept := append([]byte(nil), packed...)
	got, err := sqlstore.UnpackLoginSubject(packed)
	if err != nil {
		t.Fatal(err)
	}
	got.GroupIDs[0] = 99
	got.Phones[0].TOTPSecret[0] = 99
	got.Phones[0].Number = "changed"
	if !reflect.DeepEqual(packed, kept) {
		t.Error("changing what a read returned changed the kept entry")
	}

	// A damaged entry is refused, never read as another user.
	for i := range len(packed) - 1 {
		if _, err := sqlstore.UnpackLoginSubject(packed[:i]); err == nil {
			t.Fatalf("an entry cut to %d of %d bytes unpacked without error", i, len(packed))
		}
	}
}
