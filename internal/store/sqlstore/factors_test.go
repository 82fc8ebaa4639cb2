package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"enrollportal/internal/store"
	"enrollportal/internal/store/sqlstore"
)

// HasFactor answers from the user's own phones, keys and tokens. On SQLite
// its plan once read every activated mobile phone of every user for each
// user without an authenticator app (the SMS test went through
// phones_unactivated), so each enrollment page and code check slowed down
// with every enrolled phone (bench/enroll: verification fell from 903 to
// 730 per second).
func TestHasFactorReadsOnlyTheUsersOwnPhones(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	phone := func(u store.User, typ, number string, secret []byte, activated bool) {
		t.Helper()
		p := store.Phone{Key: fmt.Sprintf("DP%s%s%d", u.Username, typ, len(number)), Number: number, Type: typ,
			Platform: store.PlatformGeneric, TOTPSecret: secret, Activated: activated, CreatedAt: t0}
		if activated {
			p.ActivatedAt = &t0
		}
		if err := db.CreatePhone(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if err := db.AttachPhone(ctx, u.ID, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Many others enrolled by SMS: the phones a bad plan reads.
	for i := range 50 {
		phone(mustUser(t, db, fmt.Sprintf("other%02d", i)), store.PhoneMobile, fmt.Sprintf("+1201555%04d", i), nil, true)
	}
	app := mustUser(t, db, "app")
	phone(app, store.PhoneTablet, "", []byte("sealed"), true)
	sms := mustUser(t, db, "sms")
	phone(sms, store.PhoneMobile, "+12015559999", nil, true)
	unactivated := mustUser(t, db, "unactivated")
	phone(unactivated, store.PhoneMobile, "+12015558888", []byte("sealed"), false)
	none := mustUser(t, db, "none")
	for _, c := range []struct {
		u    store.User
		want bool
	}{{app, true}, {sms, true}, {unactivated, false}, {none, false}} {
		got, err := db.HasFactor(ctx, c.u.ID)
		if err != nil || got != c.want {
			t.Errorf("HasFactor(%s) = %v, %v; want %v", c.u.Username, got, err, c.want)
		}
	}
	if onPostgres {
		return // the plan below is SQLite's; PostgreSQL's depends on its statistics
	}
	rows, err := db.SQL().QueryContext(ctx, "EXPLAIN QUERY PLAN "+sqlstore.HasFactorStatement(), none.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, step := range plan {
		// Phones are looked up by the ids of the user's own links only.
		if strings.Contains(step, " p ") && !strings.Contains(step, "INTEGER PRIMARY KEY") {
			t.Errorf("HasFactor reads phones other than the user's own: %q in plan\n%s", step, strings.Join(plan, "\n"))
		}
		if strings.HasPrefix(step, "SCAN") {
			t.Errorf("HasFactor scans a table: %q in plan\n%s", step, strings.Join(plan, "\n"))
		}
	}
}
