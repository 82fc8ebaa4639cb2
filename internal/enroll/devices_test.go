package enroll_test

import (
	"context"
	"errors"
	"testing"

	"enrollportal/internal/audit"
	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// TestRemoveDeviceKeepsTheLastOneUnlessThePolicyLetsUsersWithoutOneIn:
// the rule is the domain's, read from the global policy in the removal's
// transaction, so the device page passes nothing but the device.
func TestRemoveDeviceKeepsTheLastOneUnlessThePolicyLetsUsersWithoutOneIn(t *testing.T) {
	p := testkit.New(t)
	ctx := context.Background()
	p.EnrollAuthenticator(t, "alice", p.Clock.Now())
	alice := testkit.Got(p.Store.UserByUsername(ctx, "alice")).Must(t)
	f := testkit.Got(p.Enroll.FactorsOf(ctx, alice.ID)).Must(t)
	phone := f.Phones[0].Key
	who := audit.Who{Type: audit.ActorUser, Name: "alice"}

	if err := p.Enroll.RemoveDevice(ctx, alice, phone, who); !errors.Is(err, enroll.ErrLastDevice) {
		t.Fatalf("removing the only device under the default policy: %v", err)
	}
	if f := testkit.Got(p.Enroll.FactorsOf(ctx, alice.ID)).Must(t); !f.Any() {
		t.Fatal("the refused removal took the device")
	}

	global := testkit.Got(p.Store.GlobalPolicy(ctx)).Must(t)
	global.NewUserPolicy = store.NewUserAllow
	testkit.NoErr(t, p.Store.UpdatePolicy(ctx, global))
	testkit.NoErr(t, p.Enroll.RemoveDevice(ctx, alice, phone, who))
	if f := testkit.Got(p.Enroll.FactorsOf(ctx, alice.ID)).Must(t); f.Any() {
		t.Fatal("the device is still there under a policy that lets users without one in")
	}
}
