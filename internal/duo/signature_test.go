package duo_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	duoapi "github.com/duosecurity/duo_api_golang"

	"enrollportal/internal/duo"
)

const (
	testIkey = "DIWJ8X6AEYOR5OMC6TQ1"
	testSkey = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"
)

// captured is a request duo_api_golang made, with its body.
type captured struct {
	req  *http.Request
	body []byte
}

// captureTransport records the requests duo_api_golang signs and answers
// each with an OK envelope, so its own signing code produces the vectors.
type captureTransport struct{ got []captured }

func (c *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	c.got = append(c.got, captured{req: r, body: body})
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"stat":"OK","response":{}}`)), Request: r}, nil
}

// signedByDuoAPIGolang makes one call with duo_api_golang and returns the
// request it sent.
func signedByDuoAPIGolang(t *testing.T, host string, call func(*duoapi.DuoApi)) captured {
	t.Helper()
	ct := &captureTransport{}
	api := duoapi.NewDuoApi(testIkey, testSkey, host, "test")
	api.SetCustomHTTPClient(&http.Client{Transport: ct})
	call(api)
	if len(ct.got) != 1 {
		t.Fatalf("duo_api_golang made %d requests", len(ct.got))
	}
	return ct.got[0]
}

func verify(t *testing.T, c captured, skey string, now time.Time) (int, bool) {
	t.Helper()
	ikey, sig, ok := duo.ParseAuthorization(c.req.Header.Get("Authorization"))
	if !ok || ikey != testIkey {
		t.Fatalf("cannot parse Authorization %q", c.req.Header.Get("Authorization"))
	}
	// On the server, Host comes from the request line as the client sent it.
	c.req.Host = c.req.URL.Host
	sr, err := duo.ReadSignedRequest(c.req, c.body)
	if err != nil {
		t.Fatalf("ReadSignedRequest: %v", err)
	}
	return duo.VerifySignature(sr, skey, sig, now)
}

func TestVerifySignatureAgainstDuoAPIGolang(t *testing.T) {
	tests := []struct {
		name        string
		host        string
		call        func(*duoapi.DuoApi)
		wantVersion int
	}{
		{"v2 GET without params", "api.example.com:8443", func(a *duoapi.DuoApi) {
			a.SignedCall("GET", "/auth/v2/check", nil)
		}, duo.SigV2},
		{"v2 POST form with spaces and symbols", "API.Example.com", func(a *duoapi.DuoApi) {
			a.SignedCall("POST", "/auth/v2/preauth", url.Values{
				"username": {"Alice Smith+ü"}, "ipaddr": {"10.0.0.1"}, "x": {"a~b*c&d=e/f"},
			})
		}, duo.SigV2},
		{"v2 GET with query params", "localhost:9443", func(a *duoapi.DuoApi) {
			a.SignedCall("GET", "/auth/v2/auth_status", url.Values{"txid": {"abc-123"}})
		}, duo.SigV2},
		{"v5 JSON POST", "localhost:9443", func(a *duoapi.DuoApi) {
			a.JSONSignedCall("POST", "/auth/v2/enroll_status", duoapi.JSONParams{"user_id": "DU123", "activation_code": "x y"})
		}, duo.SigV5},
		{"v5 JSON GET", "localhost:9443", func(a *duoapi.DuoApi) {
			a.JSONSignedCall("GET", "/admin/v1/users", duoapi.JSONParams{"username": "bob smith", "limit": "10"})
		}, duo.SigV5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := signedByDuoAPIGolang(t, tt.host, tt.call)
			date, err := time.Parse(time.RFC1123Z, c.req.Header.Get("Date"))
			if err != nil {
				t.Fatalf("Date header %q: %v", c.req.Header.Get("Date"), err)
			}
			if v, ok := verify(t, c, testSkey, date); !ok || v != tt.wantVersion {
				t.Fatalf("VerifySignature = v%d, %v; want v%d, true", v, ok, tt.wantVersion)
			}
			if _, ok := verify(t, c, testSkey, date.Add(299*time.Second)); !ok {
				t.Error("a date 299 s old was refused")
			}
			if _, ok := verify(t, c, testSkey, date.Add(301*time.Second)); ok {
				t.Error("a date 301 s old was accepted")
			}
			if _, ok := verify(t, c, testSkey, date.Add(-301*time.Second)); ok {
				t.Error("a date 301 s in the future was accepted")
			}
			if _, ok := verify(t, c, strings.Replace(testSkey, "Z", "Y", 1), date); ok {
				t.Error("a signature verified with the wrong secret key")
			}
			// Tampering with anything signed breaks the signature.
			tampered := c
			tampered.req = c.req.Clone(c.req.Context())
			if len(c.body) > 0 {
				tampered.body = bytes.Replace(c.body, []byte("1"), []byte("2"), 1)
				if bytes.Equal(tampered.body, c.body) {
					tampered.body = append(append([]byte{}, c.body[:len(c.body)-1]...), 'X')
				}
			} else {
				tampered.req.URL.Path += "x"
			}
			if _, ok := verify(t, tampered, testSkey, date); ok {
				t.Error("a tampered request verified")
			}
		})
	}
}

// The v1 vector was computed outside Go, with
// printf 'POST\nlocalhost\n/rest/v1/preauth.bson\nhostname=host%%201&ipaddr=10.0.0.1&user=alice' |
// openssl dgst -sha1 -hmac skey0123456789012345678901234567890123456
func TestVerifySignatureV1(t *testing.T) {
	const skey = "skey0123456789012345678901234567890123456"
	const want = "6c4cfe274cc020a6f6b87bfddc6c6548ae907c43"
	params := url.Values{"user": {"alice"}, "ipaddr": {"10.0.0.1"}, "hostname": {"host 1"}}
	if got := duo.Sign(duo.SigV1, skey, duo.CanonV1("POST", "localhost", "/rest/v1/preauth.bson", duo.CanonParamsV1(params))); got != want {
		t.Fatalf("v1 signature %s, want %s", got, want)
	}
	body := "hostname=host%201&ipaddr=10.0.0.1&user=alice"
	for _, host := range []string{"localhost", "LOCALHOST:8443"} {
		r, _ := http.NewRequest("POST", "https://"+host+"/rest/v1/preauth.bson", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sr, err := duo.ReadSignedRequest(r, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := duo.VerifySignature(sr, skey, want, time.Now()); !ok || v != duo.SigV1 {
			t.Errorf("host %s: v1 signature refused", host)
		}
		sr.Params.Set("user", "mallory")
		sr.RawParams = strings.Replace(body, "alice", "mallory", 1)
		if _, ok := duo.VerifySignature(sr, skey, want, time.Now()); ok {
			t.Errorf("host %s: v1 signature accepted another user", host)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	good := "Basic " + base64.StdEncoding.EncodeToString([]byte(testIkey+":"+strings.Repeat("ab", 64)))
	if ikey, sig, ok := duo.ParseAuthorization(good); !ok || ikey != testIkey || len(sig) != 128 {
		t.Errorf("ParseAuthorization(good) = %q, %q, %v", ikey, sig, ok)
	}
	for _, bad := range []string{
		"", "Basic", "Bearer abc", "Basic !!!",
		"Basic " + base64.StdEncoding.EncodeToString([]byte(testIkey)),
		"Basic " + base64.StdEncoding.EncodeToString([]byte(testIkey+":"+strings.Repeat("ab", 10))),
		"Basic " + base64.StdEncoding.EncodeToString([]byte(testIkey+":"+strings.Repeat("zz", 20))),
		"Basic " + base64.StdEncoding.EncodeToString([]byte(":"+strings.Repeat("ab", 20))),
	} {
		if _, _, ok := duo.ParseAuthorization(bad); ok {
			t.Errorf("ParseAuthorization(%q) accepted", bad)
		}
	}
}
