package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

func setGlobal(t *testing.T, p *testkit.Portal, change func(*store.Policy)) {
	t.Helper()
	ctx := context.Background()
	g, err := p.Store.GlobalPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	change(&g)
	if err := p.Store.UpdatePolicy(ctx, g); err != nil {
		t.Fatal(err)
	}
}

func TestEnrollOffersOnlyWhatThePolicyAllows(t *testing.T) {
	p := testkit.Serve(t)
	link := newLink(t, p)
	setGlobal(t, p, func(g *store.Policy) { g.EnrollMethods = []string{store.MethodSecurityKey} })
	c := testkit.NewClient(t, p)
	r := c.Get(link)
	wantStatus(t, r, http.StatusOK, `value="security_key"`)
	for _, absent := range []string{`value="mobile"`, `value="tablet"`} {
		if strings.Contains(r.Body, absent) {
			t.Errorf("welcome offers %s against the policy", absent)
		}
	}
	wantStatus(t, c.Post(link+"/choose", url.Values{"method": {"mobile"}}), http.StatusBadRequest)
	wantRedirect(t, c.Get(link+"/phone"), link+"/choose")

	setGlobal(t, p, func(g *store.Policy) { g.EnrollMethods = []string{} })
	wantStatus(t, c.Get(link), http.StatusForbidden, "Enrollment is turned off")
}

func TestEnrollRefusedFromADeniedCountry(t *testing.T) {
	geo := testkit.WriteGeoIP(t, map[string]string{"127.0.0.0/8": "KP"})
	p := testkit.Serve(t, testkit.WithGeoIP(geo))
	link := newLink(t, p)
	c := testkit.NewClient(t, p)
	wantStatus(t, c.Get(link), http.StatusOK)
	setGlobal(t, p, func(g *store.Policy) { g.DeniedCountries = []string{"KP"} })
	wantStatus(t, c.Get(link), http.StatusForbidden, "Not available from your location")
	wantStatus(t, c.Post(link+"/choose", url.Values{"method": {"mobile"}}), http.StatusForbidden)
}
