package adminapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	duoapi "github.com/duosecurity/duo_api_golang"
	"github.com/duosecurity/duo_api_golang/admin"

	"enrollportal/internal/apps"
	"enrollportal/internal/audit"
	"enrollportal/internal/duo"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// adminPortal is a portal over TLS with an admin-api application and
// duo_api_golang's admin client pointed at it.
type adminPortal struct {
	p      *testkit.Portal
	tls    testkit.TLSFiles
	host   string
	app    apps.Created
	base   *duoapi.DuoApi
	client *admin.Client
}

// allGrants are every Admin API grant.
var allGrants = store.Grants

func newAdminPortal(t *testing.T, opts ...testkit.Option) *adminPortal {
	t.Helper()
	p, files := testkit.ServeTLS(t, opts...)
	// duo_api_golang signs with the wall clock.
	p.Clock.Set(time.Now())
	a := &adminPortal{p: p, tls: files, host: strings.TrimPrefix(p.URL, "https://")}
	a.app, a.base, a.client = a.newClient(t, store.AppAdminAPI, allGrants...)
	return a
}

// newClient creates an application of kind with grants and a client for it.
func (a *adminPortal) newClient(t *testing.T, kind string, grants ...string) (apps.Created, *duoapi.DuoApi, *admin.Client) {
	t.Helper()
	c, err := a.p.Apps.Create(context.Background(), apps.NewApp{Name: "Script " + strings.Join(grants, "+"), Kind: kind, Grants: grants}, audit.CLI())
	if err != nil {
		t.Fatal(err)
	}
	base := duoapi.NewDuoApi(c.ClientID, c.ClientSecret, a.host, "enrollportal-test")
	base.SetCustomHTTPClient(a.tls.Client())
	return c, base, admin.New(*base)
}

// envelope is Duo's answer, decoded loosely.
type envelope struct {
	Stat          string          `json:"stat"`
	Code          int             `json:"code"`
	Message       string          `json:"message"`
	MessageDetail string          `json:"message_detail"`
	Response      json.RawMessage `json:"response"`
	Metadata      map[string]any  `json:"metadata"`
}

// form makes a v2-signed call with duo_api_golang (form body for POST,
// query otherwise) and decodes the envelope.
func form(t *testing.T, base *duoapi.DuoApi, method, path string, params url.Values) (int, envelope) {
	t.Helper()
	resp, body, err := base.SignedCall(method, path, params, duoapi.UseTimeout)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, decode(t, method, path, body)
}

// jsonCall makes a v5-signed call with a JSON body of typed values, as
// duo_client_python and duo_api_golang's JSON calls send.
func jsonCall(t *testing.T, base *duoapi.DuoApi, method, path string, params map[string]any) (int, envelope) {
	t.Helper()
	resp, body, err := base.JSONSignedCall(method, path, params, duoapi.UseTimeout)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, decode(t, method, path, body)
}

func decode(t *testing.T, method, path string, body []byte) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, body)
	}
	return e
}

// into decodes an OK answer's response into v.
func into(t *testing.T, e envelope, v any) {
	t.Helper()
	if e.Stat != "OK" {
		t.Fatalf("answer is %s %d %s: %s", e.Stat, e.Code, e.Message, e.MessageDetail)
	}
	if err := json.Unmarshal(e.Response, v); err != nil {
		t.Fatalf("response %s: %v", e.Response, err)
	}
}

// raw sends a request built by hand (unsigned, wrongly signed, malformed)
// and decodes the answer, which must be JSON.
func (a *adminPortal) raw(t *testing.T, method, path, contentType, body, authorization, date string) (int, envelope) {
	t.Helper()
	req, err := http.NewRequest(method, a.p.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if date != "" {
		req.Header.Set("Date", date)
	}
	resp, err := a.tls.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q, body %q", method, path, ct, b)
	}
	return resp.StatusCode, decode(t, method, path, b)
}

// signV2 is the Authorization of a v2 signature over a form.
func signV2(ikey, skey, date, method, host, path string, params url.Values) string {
	sig := duo.Sign(duo.SigV2, skey, duo.CanonV2(date, method, host, path, duo.CanonParams(params)))
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(ikey+":"+sig))
}

// countUsers is how many users the database holds.
func countUsers(t *testing.T, p *testkit.Portal) int {
	t.Helper()
	n, err := p.Store.CountUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// storeAuditAll selects every audit record (tests hold a few hundred).
func storeAuditAll() store.AuditFilter { return store.AuditFilter{Limit: 10000} }
