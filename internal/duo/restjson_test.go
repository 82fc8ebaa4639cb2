package duo_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	duoapi "github.com/duosecurity/duo_api_golang"

	"enrollportal/internal/audit"
	"enrollportal/internal/duo"
	"enrollportal/internal/org"
	"enrollportal/internal/store"
	"enrollportal/internal/testkit"
)

// jsonRESTCall sends a REST v1 call without .bson, signed v2 as Duo's v1
// JSON clients sign, and decodes the JSON envelope.
func jsonRESTCall(t *testing.T, client *http.Client, base, ikey, skey, method, path string, params url.Values) (int, map[string]any) {
	t.Helper()
	host := strings.TrimPrefix(base, "https://")
	date := testkit.Start.Format("Mon, 02 Jan 2006 15:04:05 -0700")
	sig := duo.Sign(duo.SigV2, skey, duo.CanonV2(date, method, host, path, duo.CanonParams(params)))
	target, body := base+path, ""
	if method == http.MethodGet {
		if len(params) > 0 {
			target += "?" + params.Encode()
		}
	} else {
		body = params.Encode()
	}
	req, _ := http.NewRequest(method, target, strings.NewReader(body))
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Date", date)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(ikey+":"+sig)))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s answered %d with no JSON: %q", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func TestRESTv1InJSONAnswersAsTheBSONRoutes(t *testing.T) {
	p, files := testkit.ServeTLS(t)
	app := newApp(t, p, store.AppUnix, store.NewUserRequireEnrollment)
	client := files.Client()
	secret := enrollPhone(t, p, "zed")

	resp, err := client.Get(p.URL + "/rest/v1/ping")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(raw) != `{"response":"pong","stat":"OK"}` {
		t.Fatalf("ping = %s", raw)
	}
	if code, out := jsonRESTCall(t, client, p.URL, app.ClientID, app.ClientSecret, "GET", "/rest/v1/check", nil); code != 200 || out["response"] != "valid" {
		t.Fatalf("check = %d %v", code, out)
	}
	if code, out := jsonRESTCall(t, client, p.URL, app.ClientID, "wrong"+app.ClientSecret[5:], "GET", "/rest/v1/check", nil); code != 401 || out["stat"] != "FAIL" {
		t.Fatalf("check with a wrong key = %d %v", code, out)
	}
	code, out := jsonRESTCall(t, client, p.URL, app.ClientID, app.ClientSecret, "POST", "/rest/v1/preauth", url.Values{"user": {"zed"}})
	pre, _ := out["response"].(map[string]any)
	factors, _ := pre["factors"].(map[string]any)
	if code != 200 || pre["result"] != "auth" || factors["default"] != "passcode" {
		t.Fatalf("preauth = %d %v", code, out)
	}
	code, out = jsonRESTCall(t, client, p.URL, app.ClientID, app.ClientSecret, "POST", "/rest/v1/auth",
		url.Values{"user": {"zed"}, "factor": {"passcode"}, "code": {code6(t, secret, p)}, "async": {"1"}})
	txid, _ := out["response"].(map[string]any)["txid"].(string)
	if code != 200 || txid == "" {
		t.Fatalf("auth = %d %v", code, out)
	}
	code, out = jsonRESTCall(t, client, p.URL, app.ClientID, app.ClientSecret, "GET", "/rest/v1/status", url.Values{"txid": {txid}})
	if code != 200 || out["response"].(map[string]any)["result"] != "allow" {
		t.Fatalf("status = %d %v", code, out)
	}
	if code, out := jsonRESTCall(t, client, p.URL, app.ClientID, app.ClientSecret, "GET", "/rest/v1/nonsense", nil); code != 404 || out["code"] != float64(40401) {
		t.Fatalf("unknown JSON v1 path = %d %v", code, out)
	}
	if n := count(auditActions(t, p, "zed"), audit.AuthAllowed); n != 1 {
		t.Fatalf("%d allowed logins recorded", n)
	}
}

// code6 is the authenticator's code now.
func code6(t *testing.T, secret string, p *testkit.Portal) string {
	return testkit.TOTPCode(t, secret, p.Clock.Now())
}

func TestAuthAPILogoAndEnrollBypassCodes(t *testing.T) {
	a := newAuthAPIPortal(t, "")
	get := func() (*http.Response, []byte) {
		resp, body, err := a.client.SignedCall(http.MethodGet, "/auth/v2/logo", nil, duoapi.UseTimeout)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	resp, body := get()
	var fail map[string]any
	if err := json.Unmarshal(body, &fail); err != nil || resp.StatusCode != 404 || fail["code"] != float64(40401) {
		t.Fatalf("logo without one set = %d %s", resp.StatusCode, body)
	}
	// A JPEG logo is answered as a PNG of the same picture.
	img := image.NewRGBA(image.Rect(0, 0, 8, 4))
	for x := range 8 {
		for y := range 4 {
			img.Set(x, y, color.RGBA{R: 200, A: 255})
		}
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.p.Org.Save(context.Background(), org.Change{Logo: &org.Logo{Data: jpg.Bytes(), Type: "image/jpeg"}}, audit.CLI(), a.p.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	resp, body = get()
	decoded, err := png.Decode(bytes.NewReader(body))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || err != nil || decoded.Bounds().Dx() != 8 {
		t.Fatalf("logo = %d %s, %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}

	// enroll with a bad bypass_codes is refused, never ignored, and creates
	// nothing.
	for _, bad := range []string{"11", "-1", "three"} {
		resp, body, err = a.client.SignedCall(http.MethodPost, "/auth/v2/enroll", url.Values{"username": {"newbie"}, "bypass_codes": {bad}})
		if err != nil || resp.StatusCode != 400 || !strings.Contains(string(body), "bypass_codes must be") || !strings.Contains(string(body), "40002") {
			t.Fatalf("enroll with bypass_codes=%s = %d %s, %v", bad, resp.StatusCode, body, err)
		}
	}
	if _, err := a.p.Store.UserByUsername(context.Background(), "newbie"); err == nil {
		t.Fatal("a refused enroll created the user")
	}
}
