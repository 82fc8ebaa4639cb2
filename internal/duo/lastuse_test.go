package duo_test

import (
	"context"
	"strings"
	"testing"

	duoapi "github.com/duosecurity/duo_api_golang"
	"github.com/duosecurity/duo_api_golang/authapi"
)

// TestAuthAPICallsRecordTheApplicationsLastUse: a signed call that succeeds
// marks the application used (in memory, written by the flush); a call with
// a wrong secret does not.
func TestAuthAPICallsRecordTheApplicationsLastUse(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	ctx := context.Background()
	lastUse := func() string {
		t.Helper()
		list, err := a.p.Apps.Summaries(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("summaries = %+v, %v", list, err)
		}
		if list[0].LastUsedAt == nil {
			return ""
		}
		return list[0].LastUsedAt.UTC().Round(0).String()
	}
	bad := authapi.NewAuthApi(*duoapi.NewDuoApi(a.app.ClientID, strings.Repeat("0", 40), a.host, "enrollportal-test"))
	bad.SetCustomHTTPClient(a.tls.Client())
	if res, err := bad.Preauth(authapi.PreauthUsername("someone")); err == nil && res.Stat == "OK" {
		t.Fatal("a wrong secret was accepted")
	}
	if got := lastUse(); got != "" {
		t.Fatalf("a call with a wrong secret marked the application used at %s", got)
	}
	if _, err := a.client.Preauth(authapi.PreauthUsername("someone"), authapi.PreauthIpAddr("198.51.100.4")); err != nil {
		t.Fatal(err)
	}
	if lastUse() != a.p.Clock.Now().UTC().Round(0).String() {
		t.Fatalf("after a preauth, last use = %q, want %s", lastUse(), a.p.Clock.Now().UTC())
	}
	stored, err := a.p.Store.ApplicationSummaries(ctx)
	if err != nil || stored[0].LastUsedAt != nil {
		t.Fatalf("the use was written before the flush: %+v, %v", stored, err)
	}
	if err := a.p.Apps.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if stored, _ = a.p.Store.ApplicationSummaries(ctx); stored[0].LastUsedAt == nil {
		t.Fatal("the flush did not write the last use")
	}
}
