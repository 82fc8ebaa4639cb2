package adminapi_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/duosecurity/duo_api_golang/admin"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// TestAdminAPIPhoneActivatedByQRInChromium: a script creates a user and a
// phone, attaches them and gets an activation link; the person opens it on
// a phone, scans the app's QR code and types its first code; the script
// then reads the phone back as activated.
func TestAdminAPIPhoneActivatedByQRInChromium(t *testing.T) {
	a := newAdminPortal(t)
	user, err := a.client.CreateUser(url.Values{"username": {"ivan"}, "email": {"ivan@example.org"}})
	if err != nil || user.Stat != "OK" {
		t.Fatalf("CreateUser = %+v, %v", user, err)
	}
	code, e := form(t, a.base, http.MethodPost, "/admin/v1/phones", url.Values{
		"number": {"+1 415 555 0199"}, "type": {"Mobile"}, "platform": {"Google Android"}, "name": {"Work phone"}, "predelay": {"5"}})
	var phone admin.Phone
	into(t, e, &phone)
	if code != 200 || phone.Number != "+14155550199" || phone.Platform != store.PlatformAndroid || phone.Activated ||
		phone.Predelay != "5" || phone.Users == nil || len(phone.Users) != 0 || phone.Capabilities == nil {
		t.Fatalf("create phone = %d %+v", code, phone)
	}
	// A second phone with the same number is refused, naming the rule.
	if code, e := form(t, a.base, http.MethodPost, "/admin/v1/phones", url.Values{"number": {"+14155550199"}}); code != 400 || !strings.Contains(e.MessageDetail, "exists") {
		t.Fatalf("duplicate number = %d %+v", code, e)
	}
	if code, e := form(t, a.base, http.MethodPost, "/admin/v1/phones", url.Values{"number": {"12"}}); code != 400 || e.Code != 40002 || !strings.Contains(e.MessageDetail, "E.164") {
		t.Fatalf("invalid number = %d %+v", code, e)
	}
	// No activation before the phone has a user.
	if code, e := form(t, a.base, http.MethodPost, "/admin/v1/phones/"+phone.PhoneID+"/activation_url", nil); code != 400 || !strings.Contains(e.MessageDetail, "user") {
		t.Fatalf("activation of a phone without user = %d %+v", code, e)
	}
	if code, e := form(t, a.base, http.MethodPost, "/admin/v1/users/"+user.Response.UserID+"/phones", url.Values{"phone_id": {phone.PhoneID}}); code != 200 {
		t.Fatalf("associate phone = %d %+v", code, e)
	}
	found, err := a.client.GetPhones(admin.GetPhonesNumber("+14155550199"))
	if err != nil || len(found.Response) != 1 || len(found.Response[0].Users) != 1 || found.Response[0].Users[0].Username != "ivan" {
		t.Fatalf("GetPhones(number) = %+v, %v", found, err)
	}
	userPhones, err := a.client.GetUserPhones(user.Response.UserID)
	if err != nil || len(userPhones.Response) != 1 || userPhones.Response[0].PhoneID != phone.PhoneID {
		t.Fatalf("GetUserPhones = %+v, %v", userPhones, err)
	}

	// The activation link, with a v5 JSON body and typed values.
	code, e = jsonCall(t, a.base, http.MethodPost, "/admin/v1/phones/"+phone.PhoneID+"/activation_url", map[string]any{"valid_secs": 3600, "install": true})
	var act struct {
		ActivationURL     string `json:"activation_url"`
		ActivationBarcode string `json:"activation_barcode"`
		InstallationURL   string `json:"installation_url"`
		ValidSecs         int    `json:"valid_secs"`
	}
	into(t, e, &act)
	if code != 200 || !strings.HasPrefix(act.ActivationURL, a.p.URL+"/activate/") || act.ValidSecs != 3600 ||
		!strings.HasPrefix(act.ActivationBarcode, "https://") || !strings.Contains(act.InstallationURL, "/install") {
		t.Fatalf("activation_url = %d %+v", code, act)
	}
	// The barcode is a QR code of the link, as a phone's camera reads it.
	resp, err := a.tls.Client().Get(act.ActivationBarcode)
	if err != nil {
		t.Fatal(err)
	}
	png, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("barcode is %s", resp.Header.Get("Content-Type"))
	}
	if got := testkit.DecodeQRPNG(t, png); got != act.ActivationURL {
		t.Fatalf("barcode holds %q, want %q", got, act.ActivationURL)
	}

	// On the phone.
	b := testkit.NewBrowser(t, testkit.At(a.p.URL), testkit.WithViewport(testkit.Phone), testkit.AcceptTestCertificates())
	b.Visit(act.ActivationURL)
	otpauth := b.Attribute(`a[href^="otpauth:"]`, "href")
	if qr := testkit.QROnPage(t, b); qr != otpauth {
		t.Fatalf("QR holds %q, the button %q", qr, otpauth)
	}
	b.SendKeys("#code", testkit.TOTPNow(t, otpauth, a.p.Clock.Now()))
	b.WaitVisible("p.notice")

	got, err := a.client.GetPhone(phone.PhoneID)
	if err != nil || !got.Response.Activated || len(got.Response.Capabilities) == 0 {
		t.Fatalf("GetPhone after activation = %+v, %v", got, err)
	}
	u, err := a.client.GetUser(user.Response.UserID)
	if err != nil || !u.Response.IsEnrolled || len(u.Response.Phones) != 1 || !u.Response.Phones[0].Activated {
		t.Fatalf("GetUser after activation = %+v, %v", u, err)
	}
	// The used link does not work twice; a new one may be made.
	if code, _ := form(t, a.base, http.MethodPost, "/admin/v1/phones/"+phone.PhoneID+"/activation_url", nil); code != 200 {
		t.Fatalf("a new activation link after use = %d", code)
	}
}

func TestAdminAPIPhonesSMSModifyDelete(t *testing.T) {
	gateway := testkit.NewSMSGateway(t)
	a := newAdminPortal(t, testkit.WithDelivery(nil, gateway))
	user, _ := a.client.CreateUser(url.Values{"username": {"judy"}})
	_, e := form(t, a.base, http.MethodPost, "/admin/v1/phones", url.Values{"number": {"+14155550142"}, "platform": {"apple ios"}})
	var phone admin.Phone
	into(t, e, &phone)
	form(t, a.base, http.MethodPost, "/admin/v1/users/"+user.Response.UserID+"/phones", url.Values{"phone_id": {phone.PhoneID}})

	code, e := form(t, a.base, http.MethodPost, "/admin/v1/phones/"+phone.PhoneID+"/send_sms_activation", url.Values{
		"installation_msg": {"Install the app: <insturl>"}, "activation_msg": {"Then tap <acturl>"}})
	var sent map[string]any
	into(t, e, &sent)
	if code != 200 || !strings.Contains(sent["activation_url"].(string), "/activate/") {
		t.Fatalf("send_sms_activation = %d %+v", code, sent)
	}
	// The one-live-link rule: a second send waits for the first to expire.
	if code, e := form(t, a.base, http.MethodPost, "/admin/v1/phones/"+phone.PhoneID+"/send_sms_activation", nil); code != 400 || !strings.Contains(e.MessageDetail, "works until") {
		t.Fatalf("second send = %d %+v", code, e)
	}
	if code, e := form(t, a.base, http.MethodPost, "/admin/v1/phones/"+phone.PhoneID+"/send_sms_activation", url.Values{"activation_msg": {"no link here"}}); code != 400 || e.Code != 40002 {
		t.Fatalf("activation_msg without <acturl> = %d %+v", code, e)
	}
	if code, e := form(t, a.base, http.MethodPost, "/admin/v1/phones/"+phone.PhoneID+"/send_sms_installation", url.Values{"installation_msg": {"Get it: <insturl>"}}); code != 200 {
		t.Fatalf("send_sms_installation = %d %+v", code, e)
	}
	if _, err := a.p.Notify.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	texts := gateway.Received()
	if len(texts) != 3 || !strings.Contains(texts[0].Body, "Install the app: "+a.p.URL+"/install") ||
		!strings.Contains(texts[1].Body, "Then tap "+sent["activation_url"].(string)) || !strings.Contains(texts[2].Body, "Get it: ") {
		t.Fatalf("texts = %+v", texts)
	}

	// Modify, then detach and delete.
	code, e = form(t, a.base, http.MethodPost, "/admin/v1/phones/"+phone.PhoneID, url.Values{"name": {"Old phone"}, "postdelay": {"3"}})
	into(t, e, &phone)
	if code != 200 || phone.Name != "Old phone" || phone.Postdelay != "3" || phone.Platform != store.PlatformIOS {
		t.Fatalf("modify phone = %d %+v", code, phone)
	}
	if code, e := form(t, a.base, http.MethodDelete, "/admin/v1/users/"+user.Response.UserID+"/phones/"+phone.PhoneID, nil); code != 200 {
		t.Fatalf("disassociate = %d %+v", code, e)
	}
	if r, err := a.client.DeletePhone(phone.PhoneID); err != nil || r.Stat != "OK" {
		t.Fatalf("DeletePhone = %+v, %v", r, err)
	}
	if code, _ := form(t, a.base, http.MethodGet, "/admin/v1/phones/"+phone.PhoneID, nil); code != 404 {
		t.Fatalf("deleted phone answered %d", code)
	}
	entries, err := a.p.Store.AuditForTarget(context.Background(), audit.TargetPhone, phone.PhoneID, 20)
	if err != nil || len(entries) < 3 {
		t.Fatalf("phone audit = %d records, %v", len(entries), err)
	}
}

func TestAdminAPILogsAndSummary(t *testing.T) {
	a := newAdminPortal(t)
	for _, name := range []string{"kim", "lee"} {
		if _, err := a.client.CreateUser(url.Values{"username": {name}}); err != nil {
			t.Fatal(err)
		}
	}
	// A login through the Auth API leaves an authentication log record.
	_, authBase, _ := a.newClient(t, store.AppAuthAPI)
	if resp, body, err := authBase.SignedCall(http.MethodPost, "/auth/v2/preauth", url.Values{"username": {"kim"}}); err != nil || resp.StatusCode != 200 {
		t.Fatalf("preauth: %v %s", err, body)
	}
	now := a.p.Clock.Now()
	logs, err := a.client.GetAuthLogs(now.Add(-1e9*3600), 2e9*3600)
	if err != nil || logs.Stat != "OK" || len(logs.Response.Logs) != 1 {
		t.Fatalf("GetAuthLogs = %+v, %v", logs, err)
	}
	l := logs.Response.Logs[0]
	if l["user"].(map[string]any)["name"] != "kim" || l["event_type"] != "authentication" || l["timestamp"].(float64) == 0 {
		t.Fatalf("auth log = %+v", l)
	}
	if logs.Response.Metadata.GetNextOffset() != nil {
		t.Fatal("a single page has a next_offset")
	}
	if code, e := form(t, a.base, http.MethodGet, "/admin/v2/logs/authentication", url.Values{"mintime": {"1"}}); code != 400 || e.Code != 40002 {
		t.Fatalf("without maxtime = %d %+v", code, e)
	}
	admins, err := a.client.GetAdminLogs(now.Add(-1e9 * 3600))
	if err != nil || len(admins.Logs) < 2 {
		t.Fatalf("GetAdminLogs = %+v, %v", admins, err)
	}
	code, e := form(t, a.base, http.MethodGet, "/admin/v1/info/summary", nil)
	var summary map[string]int
	into(t, e, &summary)
	if code != 200 || summary["user_count"] != 2 || summary["integration_count"] != 2 {
		t.Fatalf("summary = %d %+v", code, summary)
	}
}
