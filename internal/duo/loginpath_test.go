package duo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duosecurity/duo_api_golang/authapi"

	"enrollportal/internal/audit"
	"enrollportal/internal/demoapp"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// A host looping on preauth for unknown names (the issue measured 24,412
// rows for 100 names in 10 minutes) leaves one record per name and
// application each window, with the repeats counted on it.
func TestRepeatedLoginDecisionsCountOnOneRecordPerWindow(t *testing.T) {
	a := newAuthAPIPortal(t, store.NewUserRequireEnrollment)
	unix := newApp(t, a.p, store.AppUnix, store.NewUserRequireEnrollment)
	client := a.tls.Client()
	preauth := func(user string) {
		t.Helper()
		status, doc := restCall(t, client, a.p.URL, unix.ClientID, unix.ClientSecret, "/rest/v1/preauth.bson",
			url.Values{"user": {user}, "ipaddr": {"10.1.2.3"}, "hostname": {"bastion"}})
		if status != http.StatusOK || doc.Lookup("response", "result").StringValue() != "enroll" {
			t.Fatalf("preauth.bson(%s) = %d %s", user, status, doc)
		}
	}
	for round := 0; round < 5; round++ {
		for i := 0; i < 20; i++ {
			preauth(fmt.Sprintf("ghost%02d", i))
		}
	}
	for i := 0; i < 20; i++ {
		got := auditOf(t, a.p, fmt.Sprintf("ghost%02d", i), audit.AuthEnrollRequired)
		if len(got) != 1 || got[0].Count != 5 {
			t.Fatalf("ghost%02d: records %+v, want one with count 5", i, got)
		}
	}
	// Another application's decision is another record.
	if _, err := a.client.Preauth(authapi.PreauthUsername("ghost00")); err != nil {
		t.Fatal(err)
	}
	if got := auditOf(t, a.p, "ghost00", audit.AuthEnrollRequired); len(got) != 2 || got[0].Count != 1 || got[1].Count != 5 {
		t.Fatalf("ghost00 after an Auth API preauth: %+v, want a second record", got)
	}
	// Within the window repeats still count; once it has passed, the
	// decision is recorded afresh.
	a.p.Clock.Advance(audit.RepeatWindow - time.Second)
	preauth("ghost01")
	first := auditOf(t, a.p, "ghost01", audit.AuthEnrollRequired)
	if len(first) != 1 || first[0].Count != 6 || !first[0].LastAt.Equal(a.p.Clock.Now().Truncate(time.Second)) {
		t.Fatalf("ghost01 before the window ends: %+v", first)
	}
	a.p.Clock.Advance(time.Second)
	preauth("ghost01")
	if got := auditOf(t, a.p, "ghost01", audit.AuthEnrollRequired); len(got) != 2 || got[0].Count != 1 || got[1].Count != 6 {
		t.Fatalf("ghost01 after the window: %+v, want a new record", got)
	}
	all, err := a.p.Store.SearchAudit(context.Background(), store.AuditFilter{Action: audit.AuthEnrollRequired, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 22 {
		t.Errorf("%d enroll_required rows for 102 preauths of 20 names, want 22", len(all))
	}
}

// Concurrent preauths share one write transaction, and none is answered
// before its record is committed.
func TestConcurrentPreauthsShareOneCommit(t *testing.T) {
	// In process, so that the requests reach the queue well within the
	// login deadline however loaded the machine is.
	p := testkit.New(t)
	unix := newApp(t, p, store.AppUnix, store.NewUserRequireEnrollment)
	client := &http.Client{Transport: handlerTransport{p.Handler}}
	ctx := context.Background()

	// Hold the write lock with a transaction of the process, so that the
	// preauths queue behind it.
	inside, release, held := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		held <- p.Store.InTx(ctx, func(store.Queries) error { close(inside); <-release; return nil })
	}()
	<-inside
	before := p.Store.WriteTransactions()
	const n = 8
	answered := make(chan string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, doc := restCall(t, client, "https://localhost", unix.ClientID, unix.ClientSecret, "/rest/v1/preauth.bson",
				url.Values{"user": {fmt.Sprintf("queued%d", i)}})
			result, _ := doc.Lookup("response", "result").StringValueOK()
			answered <- fmt.Sprintf("%d %s %s", status, result, doc)
		}()
	}
	for p.Store.WaitingGroupWrites() < n {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case got := <-answered:
		t.Fatalf("a preauth was answered (%s) before its record could be written", got)
	default:
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(answered)
	for got := range answered {
		if !strings.HasPrefix(got, "200 enroll ") {
			t.Errorf("preauth answered %s, want 200 enroll", got)
		}
	}
	if got := p.Store.WriteTransactions() - before; got != 2 {
		t.Errorf("%d write transactions for the held one and %d preauths, want 2", got, n)
	}
	for i := 0; i < n; i++ {
		if got := auditOf(t, p, fmt.Sprintf("queued%d", i), audit.AuthEnrollRequired); len(got) != 1 {
			t.Errorf("queued%d: %d records, want 1", i, len(got))
		}
	}
}

// With the database write-locked from outside, logins that must write get
// Duo's error for their protocol at the login deadline instead of waiting
// for the lock, and leave no record; once the lock is gone they work.
func TestLoginsUnderAStuckDatabaseAnswerDuosError(t *testing.T) {
	a := newAuthAPIPortal(t, store.NewUserRequireEnrollment)
	unix := newApp(t, a.p, store.AppUnix, store.NewUserRequireEnrollment)
	secret := enrollPhone(t, a.p, "erin")
	a.p.Clock.Set(time.Now())
	client := a.tls.Client()

	web := newFixture(t)
	web.client.Now = time.Now
	web.p.Clock.Set(time.Now())
	authURL, err := web.client.AuthURL("fay", demoapp.RandomString(36), "")
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, web)
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := b.get(authURL)
	promptURL, err := resp.Location()
	if err != nil {
		t.Fatalf("authorize before the lock: %d", resp.StatusCode)
	}

	unlock := testkit.LockWritesFromOutside(t, a.p)
	unlockWeb := testkit.LockWritesFromOutside(t, web.p)

	// REST v1 (login_duo): a BSON FAIL with an int32 code.
	status, doc := restCall(t, client, a.p.URL, unix.ClientID, unix.ClientSecret, "/rest/v1/preauth.bson",
		url.Values{"user": {"stuck"}, "ipaddr": {"10.1.2.3"}})
	if code, ok := doc.Lookup("code").Int32OK(); status != http.StatusServiceUnavailable || !ok || code != 50301 ||
		doc.Lookup("stat").StringValue() != "FAIL" {
		t.Errorf("preauth.bson under a stuck database = %d %s, want 503 FAIL 50301", status, doc)
	}
	// Auth API v2: preauth that must audit, and a passcode check.
	pre, err := a.client.Preauth(authapi.PreauthUsername("stuck"))
	if err != nil || pre.Stat != "FAIL" || pre.Code == nil || *pre.Code != 50301 {
		t.Errorf("Auth API preauth under a stuck database = %+v, %v; want FAIL 50301", pre, err)
	}
	auth, err := a.client.Auth("passcode", authapi.AuthUsername("erin"), authapi.AuthPasscode(testkit.TOTPCode(t, secret, time.Now())))
	if err != nil || auth.Stat != "FAIL" || auth.Code == nil || *auth.Code != 50301 {
		t.Errorf("Auth API auth under a stuck database = %+v, %v; want FAIL 50301", auth, err)
	}
	// The prompt: authorize and the prompt page answer an error page.
	for _, u := range []string{authURL, promptURL.String()} {
		resp, body := b.get(u)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "busy") || resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s under a stuck database = %d, want the 503 page", u, resp.StatusCode)
		}
	}

	unlock()
	unlockWeb()
	if got := auditOf(t, a.p, "stuck", audit.AuthEnrollRequired); len(got) != 0 {
		t.Errorf("records of the refused preauths: %+v, want none", got)
	}
	status, doc = restCall(t, client, a.p.URL, unix.ClientID, unix.ClientSecret, "/rest/v1/preauth.bson", url.Values{"user": {"stuck"}})
	if status != http.StatusOK || doc.Lookup("response", "result").StringValue() != "enroll" {
		t.Errorf("preauth.bson after the lock = %d %s", status, doc)
	}
	if got := auditOf(t, a.p, "stuck", audit.AuthEnrollRequired); len(got) != 1 {
		t.Errorf("records after the lock: %+v, want one", got)
	}
}
