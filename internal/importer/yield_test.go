package importer_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"enrollportal/internal/importer"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// loginsAlwaysWaiting is the portal's database as it looks under a steady
// stream of logins: some login write always waits for the lock.
type loginsAlwaysWaiting struct {
	store.Store
	asked atomic.Int64
}

func (s *loginsAlwaysWaiting) GroupWritesWaiting() bool {
	s.asked.Add(1)
	return true
}

// An import under logins commits after every chunk of 50 lines instead of
// every 250 (so a login waits behind 50 lines at most), and applies every
// line once all the same.
func TestImportStepsYieldToWaitingLogins(t *testing.T) {
	p := testkit.New(t)
	st := &loginsAlwaysWaiting{Store: p.Store}
	svc := importer.New(st, p.Clock, p.Jobs)
	var csv strings.Builder
	csv.WriteString("username,email\n")
	for i := 0; i < 120; i++ {
		fmt.Fprintf(&csv, "yield%03d,yield%03d@example.com\n", i, i)
	}
	sum := apply(t, svc, importer.ModeUpsert, csv.String())
	if sum.Create != 120 {
		t.Fatalf("summary %+v", sum)
	}
	if n, err := p.Store.CountUsers(context.Background()); err != nil || n != 120 {
		t.Fatalf("%d users, %v", n, err)
	}
	// One step per chunk: 50, 50, 20.
	if got := st.asked.Load(); got != 3 {
		t.Fatalf("the steps looked for waiting logins %d times, want 3 (one step per chunk)", got)
	}
}
